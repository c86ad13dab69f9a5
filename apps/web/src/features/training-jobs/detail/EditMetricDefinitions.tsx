import { useState } from 'react';
import { Alert, Button, Group, Modal, Stack } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { FormProvider, useForm, type FieldPath } from 'react-hook-form';
import { PutMetricDefinitionsRequest, type CreateTrainingJobInput, type JobMetrics, type TrainingJob } from '@tc/contracts';
import { apiRequest, ApiRequestError } from '../../../api/client';
import { trainingJobKeys } from '../api';
import { fieldMessage } from '../wizard/form';
import { MetricDefinitionsField } from '../wizard/steps/MetricDefinitionsField';
import { EMPTY_VALUES, type WizardValues } from '../wizard/values';

const definitionsPath = (name: string, version: string) =>
  `/training-jobs/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/metric-definitions`;

/**
 * "Edit metric definitions" on an ended job's Metrics tab: the wizard's field in a dialog; saving
 * replaces the definitions and the server reads the stored log again with them, so the charts show
 * the new series at once. Only the owner and admins see a job, so whoever sees this may use it.
 */
export function EditMetricDefinitions({ job }: { job: TrainingJob }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="default" size="xs" onClick={() => setOpen(true)}>
        Edit metric definitions
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Metric definitions of ${job.name} ${job.version}`} size="lg">
        {open && <DefinitionsForm job={job} onDone={() => setOpen(false)} />}
      </Modal>
    </>
  );
}

function DefinitionsForm({ job, onDone }: { job: TrainingJob; onDone: () => void }) {
  const client = useQueryClient();
  // The wizard's form shape, so its field (and its messages) are used as they are.
  const form = useForm<WizardValues, unknown, CreateTrainingJobInput>({
    defaultValues: { ...EMPTY_VALUES, metrics: job.spec.metrics ?? [] },
  });
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (metrics: WizardValues['metrics']) =>
      apiRequest<JobMetrics>(definitionsPath(job.name, job.version), {
        method: 'PUT',
        body: { metrics },
      }),
    onSuccess: (data) => {
      client.setQueryData([...trainingJobKeys.detail(job.name, job.version), 'metrics'], data);
      // The job's spec holds the definitions: its Configurations tab and next version show them.
      void client.invalidateQueries({ queryKey: trainingJobKeys.detail(job.name, job.version), exact: true });
    },
  });

  const putOnFields = (issues: { path: string; message: string }[]): boolean => {
    const onFields = issues.filter((i) => i.path.startsWith('metrics'));
    for (const i of onFields)
      form.setError(i.path as FieldPath<WizardValues>, { type: 'server', message: fieldMessage(i.path, i.message) });
    return onFields.length === issues.length;
  };

  // Not handleSubmit: the errors set here are the only checks, and each save starts from none.
  const submit = async () => {
    setError(null);
    form.clearErrors('metrics');
    const metrics = form.getValues('metrics');
    // The contract's own rules first (one capture group, no catastrophic shapes), as the wizard checks them.
    const checked = PutMetricDefinitionsRequest.safeParse({ metrics });
    if (!checked.success) {
      putOnFields(checked.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      return;
    }
    try {
      await save.mutateAsync(checked.data.metrics);
      onDone();
    } catch (err) {
      if (err instanceof ApiRequestError && err.fields.length > 0) {
        const fields = err.fields.map((f) => ({ path: f.path.replace(/^body\./, ''), message: f.message }));
        if (!putOnFields(fields)) setError(fields.map((f) => fieldMessage(f.path, f.message)).join('; '));
      } else setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <FormProvider {...form}>
      <form
        noValidate
        aria-label="Edit metric definitions"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap="md">
          <MetricDefinitionsField />
          {error && (
            <Alert role="alert" color="red" title="The definitions were not saved">
              {error}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onDone}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save and re-read the log
            </Button>
          </Group>
        </Stack>
      </form>
    </FormProvider>
  );
}
