import { forwardRef, useState, type ReactNode } from 'react';
import { Button, Group, TextInput } from '@mantine/core';
import { StorageBrowserModal } from './StorageBrowserModal';

export interface ObjectPathInputProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  onBlur?: () => void;
  error?: ReactNode;
  description?: ReactNode;
  required?: boolean;
  name?: string;
}

/** An object-storage directory typed by hand or picked with the Select dialog. */
export const ObjectPathInput = forwardRef<HTMLInputElement, ObjectPathInputProps>(function ObjectPathInput(
  { label, value, onChange, onBlur, error, description, required, name },
  ref,
) {
  const [browsing, setBrowsing] = useState(false);
  return (
    <>
      <TextInput
        ref={ref}
        name={name}
        label={label}
        placeholder="obs://bucket/dir/"
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        onBlur={onBlur}
        error={error}
        description={description}
        required={required}
        autoComplete="off"
        spellCheck={false}
        inputContainer={(input) => (
          <Group gap="xs" wrap="nowrap" align="flex-start">
            <div style={{ flex: 1 }}>{input}</div>
            <Button variant="default" onClick={() => setBrowsing(true)} aria-label={`Select ${label}`}>
              Select
            </Button>
          </Group>
        )}
      />
      <StorageBrowserModal
        opened={browsing}
        title={`Select ${label}`}
        initialPath={value}
        onClose={() => setBrowsing(false)}
        onSelect={(path) => {
          onChange(path);
          setBrowsing(false);
          onBlur?.();
        }}
      />
    </>
  );
});
