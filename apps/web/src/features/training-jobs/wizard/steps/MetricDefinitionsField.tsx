import { ActionIcon, Button, Group, Input, Stack, Text, TextInput } from '@mantine/core';
import { useFieldArray } from 'react-hook-form';
import { MAX_METRIC_DEFINITIONS } from '@tc/contracts';
import { useWizardForm } from '../useWizardForm';

/** Rows of metric name and regular expression; what a pattern may hold (one capture group, no ReDoS shapes) is the schema's rule. */
export function MetricDefinitionsField() {
  const { control, register, formState } = useWizardForm();
  const { fields, append, remove } = useFieldArray({ control, name: 'metrics' });
  const rowErrors = formState.errors.metrics;

  return (
    <Input.Wrapper
      label="Metrics"
      description="Optional. Without any, name=value and name: value pairs in the log (loss=0.31 acc=0.88) and JSON lines in /home/work/outputs/metrics.jsonl are charted. A definition reads a value with a regular expression of one capture group, e.g. Train_error=(.*?);"
      error={rowErrors?.root?.message ?? rowErrors?.message}
    >
      <Stack gap="xs" mt="xs">
        {fields.length === 0 && (
          <Text size="sm" c="dimmed">
            No metric definitions.
          </Text>
        )}
        {fields.map((field, i) => (
          <Group key={field.id} align="flex-start" gap="xs" wrap="nowrap" role="group" aria-label={`Metric ${i + 1}`}>
            <TextInput
              aria-label={`Metric ${i + 1} name`}
              placeholder="name"
              autoComplete="off"
              spellCheck={false}
              error={rowErrors?.[i]?.name?.message}
              style={{ flex: 1 }}
              {...register(`metrics.${i}.name`)}
            />
            <TextInput
              aria-label={`Metric ${i + 1} regular expression`}
              placeholder="loss=([0-9.]+)"
              autoComplete="off"
              spellCheck={false}
              error={rowErrors?.[i]?.regex?.message}
              style={{ flex: 2 }}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
              {...register(`metrics.${i}.regex`)}
            />
            <ActionIcon variant="subtle" color="red" size="lg" aria-label={`Remove Metric ${i + 1}`} onClick={() => remove(i)}>
              ×
            </ActionIcon>
          </Group>
        ))}
        <Group>
          <Button
            variant="light"
            size="xs"
            disabled={fields.length >= MAX_METRIC_DEFINITIONS}
            onClick={() => append({ name: '', regex: '' }, { shouldFocus: true })}
          >
            Add Metric
          </Button>
          {fields.length >= MAX_METRIC_DEFINITIONS && (
            <Text size="sm" c="dimmed">
              A job has at most {MAX_METRIC_DEFINITIONS} metric definitions.
            </Text>
          )}
        </Group>
      </Stack>
    </Input.Wrapper>
  );
}
