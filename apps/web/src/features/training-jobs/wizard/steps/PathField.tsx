import type { ReactNode } from 'react';
import { useController } from 'react-hook-form';
import { ObjectPathInput } from '../../../storage/ObjectPathInput';
import { useWizardForm } from '../useWizardForm';

type PathName = 'algorithm.codeDir' | 'data.path' | 'trainOutput' | 'logPath';

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
  const { field, fieldState } = useController({ control, name });
  return (
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
  );
}
