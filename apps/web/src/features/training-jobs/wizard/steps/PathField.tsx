import type { ReactNode } from 'react';
import { Controller } from 'react-hook-form';
import { ObjectPathInput } from '../../../storage/ObjectPathInput';
import { useWizardForm } from '../useWizardForm';

type PathName = 'algorithm.codeDir' | 'data.path' | 'trainOutput' | 'logPath' | 'checkpointPath';

export function PathField({
  name,
  label,
  required,
  description,
}: {
  name: PathName;
  label: string;
  required?: boolean;
  description?: ReactNode;
}) {
  const { control } = useWizardForm();
  return (
    <Controller
      control={control}
      name={name}
      render={({ field, fieldState }) => (
        <ObjectPathInput
          ref={field.ref}
          name={field.name}
          label={label}
          required={required}
          description={description}
          value={field.value}
          onChange={field.onChange}
          onBlur={field.onBlur}
          error={fieldState.error?.message}
        />
      )}
    />
  );
}
