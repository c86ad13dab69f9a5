import { Select, type SelectProps } from '@mantine/core';
import { Controller, type Control, type FieldPath, type FieldValues } from 'react-hook-form';

export type SelectFieldProps<T extends FieldValues, TOut> = Omit<SelectProps, 'value' | 'onChange' | 'onBlur' | 'error' | 'name'> & {
  control: Control<T, unknown, TOut>;
  name: FieldPath<T>;
  /** After the field took a new value ('' when cleared): for fields that follow this one. */
  onPicked?: (value: string) => void;
};

/**
 * A Mantine Select bound to a react-hook-form field that holds text: '' is "nothing chosen",
 * and the field's error is the contract's message for it.
 */
export function SelectField<T extends FieldValues, TOut>({ control, name, onPicked, ...select }: SelectFieldProps<T, TOut>) {
  return (
    <Controller
      control={control}
      name={name}
      render={({ field, fieldState }) => (
        <Select
          {...select}
          ref={field.ref}
          name={field.name}
          value={typeof field.value === 'string' && field.value !== '' ? field.value : null}
          onChange={(v) => {
            field.onChange(v ?? '');
            onPicked?.(v ?? '');
          }}
          onBlur={field.onBlur}
          error={fieldState.error?.message}
        />
      )}
    />
  );
}
