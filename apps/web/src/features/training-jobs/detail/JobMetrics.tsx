import { useState } from 'react';
import { Anchor, Group, Paper, SegmentedControl, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { isTerminal, type JobMetrics as JobMetricsData, type TrainingJob } from '@tc/contracts';
import { api } from '../../../api/client';
import { EmptyState, ErrorState, LoadingState } from '../../../ui/states';
import { TimeSeriesChart, type TimeSeries } from '../../../ui/charts/TimeSeriesChart';
import { trainingJobKeys } from '../api';
import { EditMetricDefinitions } from './EditMetricDefinitions';

/** How often the metrics refresh while the job runs. */
const METRICS_POLL_MS = 3000;
/**
 * They keep refreshing this long after the job ended: its last lines are read after the status
 * changed, and its metrics.jsonl only once it has.
 */
const SETTLE_MS = 15_000;

const metricsPath = (name: string, version: string) =>
  `/training-jobs/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/metrics`;

function useJobMetrics(job: TrainingJob) {
  const { name, version } = job;
  const settling = () => !isTerminal(job.status) || (job.endedAt !== null && Date.now() - Date.parse(job.endedAt) < SETTLE_MS);
  return useQuery({
    queryKey: [...trainingJobKeys.detail(name, version), 'metrics'],
    queryFn: ({ signal }) => api.get<JobMetricsData>(metricsPath(name, version), { signal }),
    refetchInterval: () => (settling() ? METRICS_POLL_MS : false),
  });
}

/**
 * The "Metrics" tab: one chart per metric name, every node's series overlaid (x = the time each
 * value was logged), and the latest value of each series. Refreshed every few seconds while the
 * job runs; a metrics.jsonl is read when the job ends.
 */
export function JobMetrics({ job }: { job: TrainingJob }) {
  const live = !isTerminal(job.status);
  const metrics = useJobMetrics(job);
  // By step where a metric's values all have one (epochs, iterations), else by time.
  const [xAxis, setXAxis] = useState<'step' | 'time'>('step');
  if (metrics.isPending) return <LoadingState label="Loading metrics…" />;
  if (metrics.isError && !metrics.data) {
    return <ErrorState title="Could not load metrics" message={metrics.error.message} onRetry={() => void metrics.refetch()} />;
  }
  const { series } = metrics.data;
  // Once the run has ended its stored log can be read again with other definitions.
  const edit = live ? null : <EditMetricDefinitions job={job} />;
  if (series.length === 0) {
    return (
      <Stack gap="sm">
        <EmptyState title="No metrics yet" testId="metrics-empty">
          <Text size="sm" c="dimmed">
            {live
              ? 'Values appear as the job logs them: name=value or name: value pairs, the metrics defined for the job, and /home/work/outputs/metrics.jsonl once it ends.'
              : 'The job logged no name=value pairs, no defined metric, and wrote no metrics.jsonl.'}
          </Text>
        </EmptyState>
        {edit && <Group justify="center">{edit}</Group>}
      </Stack>
    );
  }
  const names = [...new Set(series.map((s) => s.name))];
  const stepped = (name: string) => series.filter((s) => s.name === name).every((s) => s.points.every((p) => p.step !== undefined));
  const anyStepped = names.some(stepped);
  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {names.length} {names.length === 1 ? 'metric' : 'metrics'}
          {live ? ', updated every few seconds' : ''}
        </Text>
        <Group gap="md">
          {anyStepped && (
            <SegmentedControl
              size="xs"
              aria-label="X axis"
              value={xAxis}
              onChange={(v) => setXAxis(v === 'time' ? 'time' : 'step')}
              data={[
                { value: 'step', label: 'By step' },
                { value: 'time', label: 'By time' },
              ]}
            />
          )}
          {edit}
          <Anchor href={`/api/v1${metricsPath(job.name, job.version)}.csv`} size="sm" download>
            Download CSV
          </Anchor>
        </Group>
      </Group>
      <Paper withBorder p="md">
        <Table aria-label="Latest metric values" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Metric</Table.Th>
              <Table.Th>Node</Table.Th>
              <Table.Th>Step</Table.Th>
              <Table.Th>Latest value</Table.Th>
              <Table.Th>Points</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {series.map((s) => {
              const last = s.points[s.points.length - 1];
              return (
                <Table.Tr key={`${s.name}:${s.node}`}>
                  <Table.Td>{s.name}</Table.Td>
                  <Table.Td>{s.node}</Table.Td>
                  <Table.Td>{last?.step ?? '—'}</Table.Td>
                  <Table.Td>{last ? String(last.value) : '—'}</Table.Td>
                  <Table.Td>{s.points.length}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Paper>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        {names.map((name) => {
          const byStep = xAxis === 'step' && stepped(name);
          const lines: TimeSeries[] = series
            .filter((s) => s.name === name)
            .map((s) => ({
              label: `node ${s.node}`,
              points: s.points.map((p) => ({ x: byStep ? p.step! : Date.parse(p.at), y: p.value })),
            }));
          return (
            <div key={name} data-x-axis={byStep ? 'step' : 'time'}>
              <TimeSeriesChart title={name} series={lines} ariaLabel={`Metric ${name}`} xNumberLabel={byStep ? 'step' : undefined} />
            </div>
          );
        })}
      </SimpleGrid>
    </Stack>
  );
}
