import { useEffect, useMemo } from 'react';
import { Alert, Checkbox, Group, NumberInput, Paper, SegmentedControl, Input, SimpleGrid, Stack, Text } from '@mantine/core';
import { MAX_RETRIES, RETRYABLE_FAILURE_CLASSES } from '@tc/contracts';
import { Controller, useWatch } from 'react-hook-form';
import { SelectField } from '../../../../ui/SelectField';
import { ErrorState, LoadingState } from '../../../../ui/states';
import { useResourcePools } from '../../../resource-pools/api';
import { flavorLabel, nodesThatFit, settle } from '../resources';
import { useWizardForm } from '../useWizardForm';

export function ResourcesStep() {
  const { control, setValue, getValues } = useWizardForm();
  const pools = useResourcePools();
  const [poolId, type, flavorId, nodes, retries] = useWatch({
    control,
    name: ['resources.pool', 'resources.type', 'resources.flavor', 'resources.nodes', 'retry.maxAttempts'],
  });
  const items = useMemo(() => pools.data?.items ?? [], [pools.data]);
  const pool = items.find((p) => p.id === poolId) ?? (poolId === '' ? items.find((p) => p.id === 'public') : undefined);
  const flavor = pool?.flavors.find((f) => f.id === flavorId);

  // First visit: the public pool (or the first) with its first flavor, as the API's default would.
  useEffect(() => {
    if (items.length === 0 || getValues('resources.pool') !== '') return;
    const first = items.find((p) => p.id === 'public') ?? items[0];
    if (!first) return;
    const s = settle(first, getValues('resources.type'), getValues('resources.flavor'));
    setValue('resources.pool', first.id);
    setValue('resources.type', s.type);
    setValue('resources.flavor', s.flavor);
  }, [items, getValues, setValue]);

  if (pools.isPending) return <LoadingState label="Loading resource pools…" />;
  if (pools.isError)
    return <ErrorState title="Could not load resource pools" message={pools.error.message} onRetry={() => void pools.refetch()} />;

  const fits = flavor && pool ? nodesThatFit(flavor, pool.free) : 0;
  // More than the pool could ever hold is the form's error on Compute Nodes, not a wait in the queue.
  const mostEver = flavor && pool ? nodesThatFit(flavor, pool.capacity) : 0;
  const wanted = typeof nodes === 'number' ? nodes : 0;

  return (
    <Stack gap="md" maw={760}>
      <SelectField
        control={control}
        name="resources.pool"
        label="Resource Pool"
        required
        allowDeselect={false}
        data={items.map((p) => ({ value: p.id, label: `${p.name} (${p.id})` }))}
        onPicked={(v) => {
          const s = settle(
            items.find((p) => p.id === v),
            getValues('resources.type'),
            getValues('resources.flavor'),
          );
          setValue('resources.type', s.type);
          setValue('resources.flavor', s.flavor, { shouldValidate: !!getValues('resources.flavor') });
        }}
        description={
          pool
            ? `Free now: ${pool.free.vcpus} vCPUs, ${pool.free.memoryGiB} GiB, ${pool.free.gpus} GPUs of ${pool.capacity.vcpus} vCPUs, ${pool.capacity.memoryGiB} GiB, ${pool.capacity.gpus} GPUs${pool.queued ? `; ${pool.queued} job(s) queued` : ''}`
            : undefined
        }
      />
      <Controller
        control={control}
        name="resources.type"
        render={({ field, fieldState }) => (
          <Input.Wrapper label="Type" required error={fieldState.error?.message} description="Only the types this pool has.">
            <div>
              <SegmentedControl
                aria-label="Type"
                mt={4}
                data={(pool?.types ?? ['CPU']).map((t) => ({ value: t, label: t }))}
                value={field.value}
                onChange={(v) => {
                  const t = v === 'GPU' ? 'GPU' : 'CPU';
                  field.onChange(t);
                  setValue('resources.flavor', settle(pool, t, '').flavor);
                }}
              />
            </div>
          </Input.Wrapper>
        )}
      />
      <SelectField
        control={control}
        name="resources.flavor"
        label="Specifications"
        required
        allowDeselect={false}
        data={(pool?.flavors ?? [])
          .filter((f) => f.type === type)
          .map((f) => ({ value: f.id, label: `${flavorLabel(f)} · fits ${nodesThatFit(f, pool?.free ?? f)} node(s) now` }))}
        nothingFoundMessage="This pool has no flavor of this type"
      />
      {flavor && (
        <Paper withBorder p="sm" aria-label="Chosen specifications">
          <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="xs">
            <Spec label="vCPUs" value={flavor.vcpus} />
            <Spec label="Memory" value={`${flavor.memoryGiB} GiB`} />
            <Spec label="GPUs" value={flavor.gpus} />
            <Spec label="Fits now" value={`${fits} node${fits === 1 ? '' : 's'}`} />
          </SimpleGrid>
        </Paper>
      )}
      <Controller
        control={control}
        name="resources.nodes"
        render={({ field, fieldState }) => (
          <NumberInput
            ref={field.ref}
            name={field.name}
            label="Compute Nodes"
            required
            min={1}
            max={16}
            allowDecimal={false}
            allowNegative={false}
            value={field.value}
            onChange={(v) => field.onChange(typeof v === 'number' ? v : v === '' ? '' : Number(v))}
            onBlur={field.onBlur}
            error={fieldState.error?.message}
            description={
              wanted > 1
                ? `Distributed: ${wanted} containers, one per node, on a network private to the job.`
                : 'Standalone: one container.'
            }
            maw={280}
          />
        )}
      />
      {flavor && wanted > fits && wanted <= mostEver && (
        <Alert color="yellow" role="status" title="Not enough free capacity right now">
          {wanted} × {flavor.id} does not fit in what the pool has free; the job will wait in the queue (Queuing) until it does.
        </Alert>
      )}
      <Controller
        control={control}
        name="retry.maxAttempts"
        render={({ field, fieldState }) => (
          <NumberInput
            ref={field.ref}
            name={field.name}
            label="Automatic Retry"
            min={0}
            max={MAX_RETRIES}
            allowDecimal={false}
            allowNegative={false}
            value={field.value}
            onChange={(v) => field.onChange(typeof v === 'number' ? v : v === '' ? '' : Number(v))}
            onBlur={field.onBlur}
            error={fieldState.error?.message}
            description={
              typeof retries === 'number' && retries > 0
                ? `A failed run of the classes below runs again as a new attempt of this version, after a backoff, up to ${retries + 1} attempts in all. Each attempt counts toward the budget.`
                : 'Retries of a failed run (0–3). 0: a failed run ends the job.'
            }
            maw={280}
          />
        )}
      />
      {typeof retries === 'number' && retries > 0 && (
        <Controller
          control={control}
          name="retry.on"
          render={({ field, fieldState }) => (
            <Checkbox.Group
              label="Retry On"
              description="Which failures are retried; a stop never is. Platform: a lost host, a removed container, a failed download or upload."
              value={field.value}
              onChange={(v) => field.onChange(RETRYABLE_FAILURE_CLASSES.filter((c) => v.includes(c)))}
              error={fieldState.error?.message}
            >
              <Group mt="xs">
                {RETRYABLE_FAILURE_CLASSES.map((c) => (
                  <Checkbox key={c} value={c} label={c} />
                ))}
              </Group>
            </Checkbox.Group>
          )}
        />
      )}
    </Stack>
  );
}

function Spec({ label, value }: { label: string; value: string | number }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={500}>{value}</Text>
    </div>
  );
}
