import { Stack, TextInput, Textarea } from '@mantine/core';
import { useWizardForm } from '../useWizardForm';

/** `existingVersions`: how many versions the typed name already has (0 for a new name). */
export function BasicInfoStep({
  fixedName,
  version,
  existingVersions = 0,
}: {
  fixedName: boolean;
  version?: string;
  existingVersions?: number;
}) {
  const { register, formState, watch } = useWizardForm();
  const description = watch('description');
  return (
    <Stack gap="md" maw={640}>
      <TextInput
        label="Name"
        required
        autoFocus={!fixedName}
        readOnly={fixedName}
        description={
          fixedName
            ? 'A new version keeps the name of the job.'
            : existingVersions > 0
              ? `A job with this name exists (${existingVersions === 1 ? '1 version' : `${existingVersions} versions`}): Submit creates its next version, ${version}.`
              : '1–64 letters, digits, "-" and "_", starting with a letter.'
        }
        error={formState.errors.name?.message}
        autoComplete="off"
        {...register('name')}
      />
      <TextInput
        label="Version"
        readOnly
        value={version ?? 'assigned on submit'}
        description={
          fixedName || existingVersions > 0
            ? 'The next version of this job; the server assigns it on submit.'
            : 'A new name starts at V001; the server assigns it on submit.'
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
