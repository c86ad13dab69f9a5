import { ActionIcon, Button, Checkbox, Group, Input, Stack, Text, TextInput } from '@mantine/core';
import { useFieldArray, useWatch } from 'react-hook-form';
import { MAX_ENV_VARS } from '@tc/contracts';
import { useWizardForm } from '../useWizardForm';

/** Rows of name/value; the names' rules (POSIX, not the platform's own, no duplicates) are the schema's. */
export function EnvironmentVariables() {
  const { control, register, formState } = useWizardForm();
  const { fields, append, remove } = useFieldArray({ control, name: 'env' });
  const rowErrors = formState.errors.env;
  const rows = useWatch({ control, name: 'env' });

  return (
    <Input.Wrapper
      label="Environment Variable"
      description="Optional. Added to the image's environment; DLS_*, BATCH_CUSTOM*_HOSTS, MASTER_*, WORLD_SIZE, RANK and MA_JOB_* are set by the platform. Mark tokens and passwords Secret: the job gets them, but no page shows them again."
      error={rowErrors?.root?.message ?? rowErrors?.message}
    >
      <Stack gap="xs" mt="xs">
        {fields.length === 0 && (
          <Text size="sm" c="dimmed">
            No environment variables.
          </Text>
        )}
        {fields.map((field, i) => {
          const secret = rows?.[i]?.secret === true;
          return (
            <Group key={field.id} align="flex-start" gap="xs" wrap="nowrap" role="group" aria-label={`Environment Variable ${i + 1}`}>
              <TextInput
                aria-label={`Environment Variable ${i + 1} name`}
                placeholder="NAME"
                autoComplete="off"
                spellCheck={false}
                error={rowErrors?.[i]?.name?.message}
                style={{ flex: 1 }}
                {...register(`env.${i}.name`)}
              />
              <Text mt={6} aria-hidden>
                =
              </Text>
              <TextInput
                aria-label={`Environment Variable ${i + 1} value`}
                type={secret ? 'password' : 'text'}
                // A secret from an earlier job or a saved set comes back blank: it must be typed again.
                placeholder={secret ? 'secret value (type it again)' : 'value'}
                autoComplete="off"
                spellCheck={false}
                error={rowErrors?.[i]?.value?.message}
                style={{ flex: 2 }}
                {...register(`env.${i}.value`)}
              />
              <Checkbox mt={8} label="Secret" aria-label={`Environment Variable ${i + 1} secret`} {...register(`env.${i}.secret`)} />
              <ActionIcon
                variant="subtle"
                color="red"
                size="lg"
                aria-label={`Remove Environment Variable ${i + 1}`}
                onClick={() => remove(i)}
              >
                ×
              </ActionIcon>
            </Group>
          );
        })}
        <Group>
          <Button
            variant="light"
            size="xs"
            disabled={fields.length >= MAX_ENV_VARS}
            onClick={() => append({ name: '', value: '' }, { shouldFocus: true })}
          >
            Add Environment Variable
          </Button>
          {fields.length >= MAX_ENV_VARS && (
            <Text size="sm" c="dimmed">
              A job has at most {MAX_ENV_VARS} environment variables.
            </Text>
          )}
        </Group>
      </Stack>
    </Input.Wrapper>
  );
}
