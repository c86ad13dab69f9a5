import type { ReactNode } from 'react';
import { Alert, Code, Stack, Table, Text, Title } from '@mantine/core';
import { formatCoreHours } from '@tc/contracts';
import { useResourcePools } from '../../../resource-pools/api';
import { useCostEstimate, type CostEstimate } from '../costEstimate';
import { flavorLabel } from '../resources';
import { useWizardForm } from '../useWizardForm';

/** Everything the job will be created with, read-only; Back returns to any step with its values. */
export function ConfirmStep({ version }: { version?: string }) {
  const { getValues } = useWizardForm();
  const v = getValues();
  const pools = useResourcePools();
  const pool = pools.data?.items.find((p) => p.id === (v.resources.pool || 'public'));
  const flavor = pool?.flavors.find((f) => f.id === v.resources.flavor);
  const none = (
    <Text c="dimmed" span>
      —
    </Text>
  );
  const mono = (s: string) => (s ? <Code style={{ wordBreak: 'break-all' }}>{s}</Code> : none);
  const cost = useCostEstimate();

  return (
    <Stack gap="lg" aria-label="Summary">
      {cost.refusal && (
        <Alert id={BUDGET_REFUSAL_ID} role="alert" color="red" title="The budget cannot cover this job">
          {cost.refusal[0]!.toUpperCase() + cost.refusal.slice(1)}.
        </Alert>
      )}
      <Section title="Basic information">
        <Row label="Name">{v.name || none}</Row>
        <Row label="Version">{version ?? 'assigned on submit'}</Row>
        <Row label="Description">{v.description || none}</Row>
      </Section>
      <Section title="Job parameters">
        <Row label="Algorithm Source">Custom</Row>
        <Row label="Image Path">{mono(v.algorithm.imagePath)}</Row>
        <Row label="Code Directory">{mono(v.algorithm.codeDir)}</Row>
        <Row label="Boot Command">{mono(v.algorithm.bootCommand)}</Row>
        <Row label="Data Source">
          {v.data.source === 'dataset' ? (
            <>
              Dataset {mono(v.data.datasetId)} version {mono(v.data.version)}
            </>
          ) : (
            <>Data path {mono(v.data.path)}</>
          )}
        </Row>
        <Row label="Training Output Path">{mono(v.trainOutput)}</Row>
        <Row label="Environment Variable">
          {v.env.length === 0
            ? none
            : v.env.map((e, i) => <div key={i}>{mono(`${e.name}=${e.secret ? '•••••• (secret)' : e.value}`)}</div>)}
        </Row>
        <Row label="Metrics">
          {v.metrics.length === 0
            ? 'name=value pairs in the log, and metrics.jsonl'
            : v.metrics.map((m, i) => <div key={i}>{mono(`${m.name}: ${m.regex}`)}</div>)}
        </Row>
        <Row label="Job Log Path">{mono(v.logPath)}</Row>
        <Row label="Checkpoint Path">{v.checkpointPath ? mono(v.checkpointPath) : 'none'}</Row>
        <Row label="Max Running Time">{v.maxRuntimeMinutes === '' ? 'no limit' : `${v.maxRuntimeMinutes} minutes`}</Row>
        <Row label="Stall Watchdog">
          {v.stallWatchdog.minutes === ''
            ? 'off'
            : `${v.stallWatchdog.action === 'stop' ? 'stop' : 'alert'} when no log line for ${v.stallWatchdog.minutes} minutes`}
        </Row>
      </Section>
      <Section title="Resources">
        <Row label="Resource Pool">{pool ? `${pool.name} (${pool.id})` : v.resources.pool || 'public'}</Row>
        <Row label="Type">{v.resources.type}</Row>
        <Row label="Specifications">{flavor ? flavorLabel(flavor) : v.resources.flavor || none}</Row>
        <Row label="Compute Nodes">{String(v.resources.nodes)}</Row>
        <Row label="Automatic Retry">
          {v.retry.maxAttempts ? `${v.retry.maxAttempts} on ${v.retry.on.join(', ') || 'no class'}` : 'off'}
        </Row>
        <Row label="Estimated Cost">
          <CostText cost={cost} />
        </Row>
        <Row label="Budget Balance">
          {cost.balance === undefined
            ? 'unknown'
            : cost.balance === null
              ? 'no budget limit'
              : `${formatCoreHours(cost.balance)} core-hours`}
        </Row>
      </Section>
      <Section title="Notification">
        <Row label="Topic">{v.notification.topic || 'No notification'}</Row>
        <Row label="Event">{v.notification.topic && v.notification.events.length > 0 ? v.notification.events.join(', ') : none}</Row>
        <Row label="Saving Training Parameters">
          {v.saveConfig.enabled ? `${v.saveConfig.name}${v.saveConfig.description ? ` — ${v.saveConfig.description}` : ''}` : 'Not saved'}
        </Row>
      </Section>
    </Stack>
  );
}

/** Submit's reason for being disabled, when it is. */
export const BUDGET_REFUSAL_ID = 'budget-refusal';

function CostText({ cost }: { cost: CostEstimate }) {
  if (cost.maxRuntimeMinutes === null) return <span>No estimate without a max running time</span>;
  if (!cost.flavor || cost.coreHours === null) return <span>unknown</span>;
  const f = cost.flavor;
  const perNode = f.gpus > 0 ? `(${f.vcpus} vCPUs + ${f.gpus} GPUs × ${cost.gpuHourWeight})` : `${f.vcpus} vCPU${f.vcpus === 1 ? '' : 's'}`;
  return (
    <span>
      up to {formatCoreHours(cost.coreHours)} core-hours{' '}
      <Text span c="dimmed" inherit>
        ({cost.nodes} node{cost.nodes === 1 ? '' : 's'} × {perNode} × {formatCoreHours(cost.maxRuntimeMinutes / 60)} h)
      </Text>
    </span>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title}>
      <Title order={2} size="h5" mb="xs">
        {title}
      </Title>
      <Table withTableBorder withColumnBorders variant="vertical" layout="fixed">
        <Table.Tbody>{children}</Table.Tbody>
      </Table>
    </section>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={{ base: 140, sm: 220 }} scope="row">
        {label}
      </Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}
