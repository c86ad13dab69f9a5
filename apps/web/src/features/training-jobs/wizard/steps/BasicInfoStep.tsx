import { Stack, TextInput, Textarea } from '@mantine/core';
import { useWizardForm } from '../useWizardForm';

export function BasicInfoStep({ fixedName, version }: { fixedName: boolean; version?: string }) {
  const { register, formState, watch } = useWizardForm();
  const description = watch('description');
  return (
    <Stack gap="md" maw={640}>
      <TextInput
        label="Name"
        required
        autoFocus={!fixedName}
        readOnly={fixedName}
        description={fixedName ? 'A new version keeps the name of the job.' : '1–64 letters, digits, "-" and "_", starting with a letter.'}
        error={formState.errors.name?.message}
        autoComplete="off"
        {...register('name')}
      />
      <TextInput
        label="Version"
        readOnly
        value={version ?? 'assigned on submit'}
        description={
          version
            ? 'The next version of this job; the server assigns it on submit.'
            : 'V001 for a new name; the server assigns it on submit.'
        }
        variant="filled"
      />
      <Textarea
        label="Description"
        autosize
        minRows={2}
        description={`${description.length}/256`}
        error={formState.errors.description?.message}
        {...register('description')}
      />
    </Stack>
  );
}
