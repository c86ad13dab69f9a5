import { useState } from 'react';
import { Alert, Anchor, Breadcrumbs, Paper, Stack, Stepper, TextInput, Textarea, Title } from '@mantine/core';
import { FormProvider, useForm, useWatch, type FieldPath } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router';
import type { CreateTrainingJobInput, TrainingJobConfig } from '@tc/contracts';
import { ApiRequestError } from '../../api/client';
import { ErrorState, LoadingState } from '../../ui/states';
import { STEPS, wizardResolver } from '../training-jobs/wizard/form';
import { JobParametersStep } from '../training-jobs/wizard/steps/JobParametersStep';
import { NotificationStep } from '../training-jobs/wizard/steps/NotificationStep';
import { ResourcesStep } from '../training-jobs/wizard/steps/ResourcesStep';
import { useWizardForm } from '../training-jobs/wizard/useWizardForm';
import { WizardNav } from '../training-jobs/wizard/WizardNav';
import type { WizardValues } from '../training-jobs/wizard/values';
import { useTrainingJobConfig, useUpdateTrainingJobConfig } from './api';
import { formPathOfServerField, parameterSetValues, toUpdateRequest } from './toParameterSet';

/** The wizard's steps, less Confirm; the first holds the set's own name (fixed) and descriptions. */
const EDIT_STEPS = [
  { key: 'basic', label: 'Basic information', fields: ['saveConfig', 'description'] },
  STEPS[1],
  STEPS[2],
  { key: 'notification', label: 'Notification', fields: ['notification'] },
] as const satisfies readonly { key: string; label: string; fields: readonly FieldPath<WizardValues>[] }[];

function stepOf(path: string): number {
  const head = path.split('.')[0] ?? '';
  const i = EDIT_STEPS.findIndex((s) => (s.fields as readonly string[]).includes(head));
  return i === -1 ? 0 : i;
}

/** `/job-parameters/:name/edit`: a saved set edited with the create wizard's own steps and rules. */
export function EditParameterSetPage() {
  const { name = '' } = useParams();
  const config = useTrainingJobConfig(name);
  const title = `Edit Job Parameters ${name}`;
  return (
    <Stack gap="md" maw={1100} mx="auto">
      <Breadcrumbs>
        <Anchor component={Link} to="/job-parameters">
          Job Parameters
        </Anchor>
        <span>{name}</span>
      </Breadcrumbs>
      <Title order={1} size="h2">
        {title}
      </Title>
      {config.isPending ? (
        <LoadingState label={`Loading ${name}…`} />
      ) : config.isError ? (
        <ErrorState title={`Could not load ${name}`} message={config.error.message} onRetry={() => void config.refetch()} />
      ) : (
        <EditWizard key={config.data.name} config={config.data} />
      )}
    </Stack>
  );
}

function EditWizard({ config }: { config: TrainingJobConfig }) {
  const form = useForm<WizardValues, unknown, CreateTrainingJobInput>({
    defaultValues: parameterSetValues(config),
    resolver: wizardResolver,
    mode: 'onTouched',
  });
  const [active, setActive] = useState(0);
  const [reached, setReached] = useState(0);
  const [saveError, setSaveError] = useState<string | null>(null);
  const update = useUpdateTrainingJobConfig();
  const navigate = useNavigate();
  const last = EDIT_STEPS.length - 1;

  const next = async () => {
    const fields = EDIT_STEPS[active]?.fields ?? [];
    if (!(await form.trigger(fields, { shouldFocus: true }))) return;
    const step = Math.min(active + 1, last);
    setActive(step);
    setReached((r) => Math.max(r, step));
  };

  const save = form.handleSubmit(
    async (request) => {
      setSaveError(null);
      try {
        await update.mutateAsync({ name: config.name, body: toUpdateRequest(request) });
        void navigate('/job-parameters');
      } catch (err) {
        const fields = err instanceof ApiRequestError ? err.fields.filter((f) => f.path !== '') : [];
        for (const f of fields) {
          form.setError(formPathOfServerField(f.path) as FieldPath<WizardValues>, { type: 'server', message: f.message });
        }
        setSaveError(err instanceof Error ? err.message : String(err));
        const first = fields[0];
        if (first) setActive(stepOf(formPathOfServerField(first.path)));
      }
    },
    (errors) => {
      const first = Object.keys(errors)[0];
      if (first) setActive(stepOf(first));
    },
  );

  return (
    <FormProvider {...form}>
      <form
        noValidate
        aria-label={`Edit ${config.name}`}
        onSubmit={(e) => {
          e.preventDefault();
          if (active < last) void next();
          else void save(e);
        }}
      >
        <Paper withBorder p="lg">
          <Stepper active={active} onStepClick={(s) => s <= reached && setActive(s)} size="sm" wrap={false} mb="xl">
            {EDIT_STEPS.map((s, i) => (
              <Stepper.Step key={s.key} label={s.label} allowStepSelect={i <= reached} aria-current={i === active ? 'step' : undefined} />
            ))}
          </Stepper>
          {saveError && (
            <Alert
              role="alert"
              color="red"
              title="The job parameters were not saved"
              mb="md"
              withCloseButton
              onClose={() => setSaveError(null)}
            >
              {saveError}
            </Alert>
          )}
          <section aria-label={EDIT_STEPS[active]?.label}>
            {active === 0 && <SetInfoStep />}
            {active === 1 && <JobParametersStep />}
            {active === 2 && <ResourcesStep />}
            {active === 3 && <NotificationStep offerSaving={false} />}
          </section>
          <WizardNav
            cancelTo="/job-parameters"
            active={active}
            last={last}
            onBack={() => setActive(active - 1)}
            finishLabel="Save"
            busy={form.formState.isSubmitting || update.isPending}
          />
        </Paper>
      </form>
    </FormProvider>
  );
}

/** The set's name stays (as in ModelArts); its description and the jobs' description can change. */
function SetInfoStep() {
  const { register, formState, control } = useWizardForm();
  const [setName, description] = useWatch({ control, name: ['saveConfig.name', 'description'] });
  return (
    <Stack gap="md" maw={640}>
      <TextInput label="Name" readOnly value={setName} description="The name of saved job parameters cannot be changed." variant="filled" />
      <Textarea
        label="Description"
        autosize
        minRows={2}
        description="Shown in the Job Parameters list and in One-Click Configuration."
        error={formState.errors.saveConfig?.description?.message}
        {...register('saveConfig.description')}
      />
      <Textarea
        label="Job Description"
        autosize
        minRows={2}
        description={`What jobs created from these parameters are described as. ${description.length}/256`}
        error={formState.errors.description?.message}
        {...register('description')}
      />
    </Stack>
  );
}
