import { useState } from 'react';
import { Alert, Divider, Group, NumberInput, Radio, Select, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { Controller, useWatch } from 'react-hook-form';
import { ObjectPath, parseObjectPath } from '@tc/contracts';
import { useStorageListing } from '../../../storage/api';
import { useImages } from '../../../images/api';
import { useDatasets } from '../../../datasets/api';
import { useTrainingJobConfigs } from '../../../job-parameters/api';
import { toFormValues } from '../toFormValues';
import { useWizardForm } from '../useWizardForm';
import { EnvironmentVariables } from './EnvironmentVariables';
import { MetricDefinitionsField } from './MetricDefinitionsField';
import { PathField } from './PathField';
import { SelectField } from '../../../../ui/SelectField';

const ENGINE_IMAGES_LIST = 'engine-images';

/**
 * The engine's tagged images as suggestions for Image Path. A native datalist keeps free text
 * allowed (the input's accessible role becomes combobox); images that failed the UID 1101 check
 * are left out.
 */
function EngineImageOptions() {
  const images = useImages();
  const tags = (images.data?.items ?? []).filter((i) => i.check.status !== 'failed').flatMap((i) => i.repoTags);
  return (
    <datalist id={ENGINE_IMAGES_LIST} data-testid="engine-images">
      {tags.map((t) => (
        <option key={t} value={t} />
      ))}
    </datalist>
  );
}

export function JobParametersStep() {
  const { register, formState, control } = useWizardForm();
  const errors = formState.errors;
  const source = useWatch({ control, name: 'data.source' });

  return (
    <Stack gap="md" maw={760}>
      <OneClickConfiguration />
      <Divider />
      <Radio.Group label="Algorithm Source" value="custom" readOnly>
        <Group mt="xs">
          <Radio value="custom" label="Custom" />
        </Group>
      </Radio.Group>
      <TextInput
        label="Image Path"
        required
        placeholder="registry.example.com/org/name:tag"
        description="The training image; its default user must be UID 1101. Pick one the engine has, or type any reference."
        autoComplete="off"
        spellCheck={false}
        list={ENGINE_IMAGES_LIST}
        error={errors.algorithm?.imagePath?.message}
        {...register('algorithm.imagePath')}
      />
      <EngineImageOptions />
      <PathField
        name="algorithm.codeDir"
        label="Code Directory"
        required
        description="Copied to /home/work/user-job-dir/<last folder>/ before the boot command runs."
      />
      <Textarea
        label="Boot Command"
        required
        autosize
        minRows={1}
        placeholder="sh /home/work/user-job-dir/<code folder>/train.sh"
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
        spellCheck={false}
        error={errors.algorithm?.bootCommand?.message}
        {...register('algorithm.bootCommand')}
      />
      <Controller
        control={control}
        name="data.source"
        render={({ field }) => (
          <Radio.Group
            label="Data Source"
            required
            value={field.value}
            onChange={(v) => field.onChange(v === 'dataset' ? 'dataset' : 'path')}
          >
            <Group mt="xs">
              <Radio value="dataset" label="Dataset" />
              <Radio value="path" label="Data path" />
            </Group>
          </Radio.Group>
        )}
      />
      {source === 'dataset' ? (
        <DatasetFields />
      ) : (
        <PathField name="data.path" label="Data path" required description="Copied to /home/work/data/ in the container." />
      )}
      <PathField
        name="trainOutput"
        label="Training Output Path"
        required
        description="/home/work/outputs/ is uploaded here after the run. Choose an empty folder, not the data folder or one inside it."
      />
      <OutputNotEmptyWarning />
      <EnvironmentVariables />
      <MetricDefinitionsField />
      <PathField name="logPath" label="Job Log Path" description="Optional. Each node's log is written here when the job ends." />
      <PathField
        name="checkpointPath"
        label="Checkpoint Path"
        description="Optional. /home/work/checkpoints/ ($MA_CHECKPOINT_DIR) is uploaded here while the job runs and restored from it before it starts, on a retry and in a new version; a script that resumes from it survives a lost host. Not the data folder or one inside it."
      />
      <MinutesInput
        name="maxRuntimeMinutes"
        label="Max Running Time (minutes)"
        description="Optional. The job is stopped and fails when it runs longer."
      />
      <Group align="flex-start" gap="md">
        <MinutesInput
          name="stallWatchdog.minutes"
          label="Stall Watchdog (minutes)"
          description="Optional. When no log line comes for this long: alert, or stop the job."
        />
        <Controller
          control={control}
          name="stallWatchdog.action"
          render={({ field, fieldState }) => (
            <Select
              ref={field.ref}
              name={field.name}
              label="When Stalled"
              description="Alert: an event and OnJobStalled. Stop: also stops the job."
              data={[
                { value: 'alert', label: 'Alert' },
                { value: 'stop', label: 'Stop the job' },
              ]}
              allowDeselect={false}
              value={field.value}
              onChange={(v) => field.onChange(v ?? 'alert')}
              onBlur={field.onBlur}
              error={fieldState.error?.message}
              maw={220}
            />
          )}
        />
      </Group>
    </Stack>
  );
}

function OneClickConfiguration() {
  const { reset, getValues } = useWizardForm();
  const configs = useTrainingJobConfigs();
  const items = configs.data?.items ?? [];
  // The set last applied stays shown, so the user knows where the values came from.
  const [applied, setApplied] = useState<string | null>(null);
  return (
    <Select
      label="One-Click Configuration"
      placeholder={
        configs.isPending ? 'Loading…' : items.length === 0 ? 'No saved job parameters yet' : 'Fill the fields from a saved parameter set'
      }
      description={
        configs.isError
          ? `Saved job parameters could not be loaded: ${configs.error.message}`
          : applied
            ? `Applied "${applied}": every field below was filled from it and stays editable.`
            : 'Fills every field below; they stay editable. Save a set on the Notification step.'
      }
      data={items.map((c) => ({ value: c.name, label: c.description ? `${c.name} — ${c.description}` : c.name }))}
      disabled={items.length === 0}
      value={applied}
      allowDeselect={false}
      clearable={false}
      searchable
      nothingFoundMessage="No saved job parameters"
      onChange={(name) => {
        const chosen = items.find((c) => c.name === name);
        if (!chosen) return;
        setApplied(chosen.name);
        const current = getValues();
        // The job's own name and description, and the choice to save, are not part of a parameter set.
        reset(
          { ...toFormValues(chosen.parameters, current.name), description: current.description, saveConfig: current.saveConfig },
          { keepDefaultValues: true },
        );
      }}
    />
  );
}

function DatasetFields() {
  const { control, setValue } = useWizardForm();
  const datasets = useDatasets();
  const datasetId = useWatch({ control, name: 'data.datasetId' });
  const items = datasets.data?.items ?? [];
  const chosen = items.find((d) => d.name === datasetId);

  if (datasets.isPending) return <Text c="dimmed">Loading datasets…</Text>;
  if (datasets.isError)
    return (
      <Alert color="red" role="alert" title="Datasets could not be loaded">
        {datasets.error.message}
      </Alert>
    );
  if (items.length === 0)
    return (
      <Alert color="gray" title="No datasets yet" data-testid="no-datasets">
        Data Management has no datasets yet. Choose Data path to use a folder in object storage.
      </Alert>
    );
  return (
    <Group grow align="flex-start">
      <SelectField
        control={control}
        name="data.datasetId"
        label="Dataset"
        required
        searchable
        allowDeselect={false}
        data={items.map((d) => d.name)}
        onPicked={(v) => setValue('data.version', items.find((d) => d.name === v)?.versions[0]?.version ?? '')}
      />
      <SelectField
        control={control}
        name="data.version"
        label="Version"
        required
        allowDeselect={false}
        data={(chosen?.versions ?? []).map((v) => ({ value: v.version, label: `${v.version} (${v.files} files)` }))}
        nothingFoundMessage="This dataset has no versions"
      />
    </Group>
  );
}

/** A non-empty output folder is allowed, as the server allows it, but files there may be overwritten. */
function OutputNotEmptyWarning() {
  const { control } = useWizardForm();
  const output = useWatch({ control, name: 'trainOutput' });
  const valid = ObjectPath.safeParse(output).success;
  const parsed = valid ? parseObjectPath(output) : null;
  const listing = useStorageListing(parsed?.bucket ?? null, parsed?.prefix ?? '');
  const count =
    listing.data && parsed && listing.data.bucket === parsed.bucket && listing.data.prefix === parsed.prefix
      ? listing.data.objects.length + listing.data.folders.length
      : 0;
  if (!parsed || count === 0) return null;
  return (
    <Alert color="yellow" title="Training Output Path is not empty" role="status">
      It already holds {count} {count === 1 ? 'entry' : 'entries'}; files with the same names will be overwritten.
    </Alert>
  );
}

/** A whole number of minutes, or empty for none (max running time, stall watchdog). */
function MinutesInput(props: { name: 'maxRuntimeMinutes' | 'stallWatchdog.minutes'; label: string; description: string }) {
  const { control } = useWizardForm();
  return (
    <Controller
      control={control}
      name={props.name}
      render={({ field, fieldState }) => (
        <NumberInput
          ref={field.ref}
          name={field.name}
          label={props.label}
          description={props.description}
          min={1}
          allowDecimal={false}
          allowNegative={false}
          value={field.value}
          onChange={(v) => field.onChange(typeof v === 'number' ? v : v === '' ? '' : Number(v))}
          onBlur={field.onBlur}
          error={fieldState.error?.message}
          maw={280}
        />
      )}
    />
  );
}
