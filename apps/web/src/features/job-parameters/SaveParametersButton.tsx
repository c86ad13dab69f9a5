import { useState } from 'react';
import { Alert, Button, Group, Modal, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { zodResolver } from '@hookform/resolvers/zod';
import { useForm, type FieldPath } from 'react-hook-form';
import { SaveConfig, type TrainingJob } from '@tc/contracts';
import { ApiRequestError } from '../../api/client';
import { useCreateTrainingJobConfig } from './api';
import { parametersOfJob } from './toParameterSet';

/** The contract's SaveConfig as the form holds it (a blank description is left out). */
interface SaveValues {
  name: string;
  description?: string;
}

/**
 * "Save Training Parameters" for a job that has run: its parameters become a set under Job
 * Parameters, named with the same rules as saving from the wizard.
 */
export function SaveParametersButton({ job }: { job: TrainingJob }) {
  const [open, setOpen] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const create = useCreateTrainingJobConfig();
  const form = useForm<SaveValues, unknown, SaveConfig>({
    defaultValues: { name: '', description: '' },
    resolver: zodResolver(SaveConfig),
    mode: 'onTouched',
  });
  const hasSecrets = job.spec.env?.some((e) => e.secret) ?? false;

  const submit = form.handleSubmit(async (values) => {
    try {
      const created = await create.mutateAsync({ ...values, parameters: parametersOfJob(job.spec) });
      setSaved(created.name);
      setOpen(false);
      form.reset();
    } catch (err) {
      const fields = err instanceof ApiRequestError ? err.fields : [];
      const onForm = fields.filter((f) => f.path === 'name' || f.path === 'description');
      for (const f of onForm) form.setError(f.path as FieldPath<SaveValues>, { type: 'server', message: f.message });
      if (onForm.length === 0) form.setError('root', { message: err instanceof Error ? err.message : String(err) });
    }
  });

  return (
    <>
      <Button variant="light" onClick={() => setOpen(true)}>
        Save Training Parameters
      </Button>
      {saved && (
        <Text size="sm" role="status" c="green.8">
          Saved as {saved} under Job Parameters.
        </Text>
      )}
      <Modal opened={open} onClose={() => setOpen(false)} title={`Save the parameters of ${job.name} ${job.version}`} centered>
        <form noValidate onSubmit={(e) => void submit(e)} aria-label="Save Training Parameters">
          <Stack>
            <TextInput
              label="Configuration Name"
              required
              autoComplete="off"
              error={form.formState.errors.name?.message}
              {...form.register('name')}
            />
            <Textarea
              label="Configuration Description"
              autosize
              minRows={2}
              error={form.formState.errors.description?.message}
              {...form.register('description', { setValueAs: (v: string) => (v.trim() === '' ? undefined : v) })}
            />
            {hasSecrets && (
              <Text size="sm" c="dimmed">
                Secret values are not shown again, so they are saved blank: type them when you use the set.
              </Text>
            )}
            {form.formState.errors.root && (
              <Alert role="alert" color="red" title="Not saved">
                {form.formState.errors.root.message}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={form.formState.isSubmitting}>
                Save
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
