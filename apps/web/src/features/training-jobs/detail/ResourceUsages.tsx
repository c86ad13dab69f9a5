import { Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { isTerminal, type JobUsage, type NodeUsage, type TrainingJob } from '@tc/contracts';
import { formatBytes } from '../../../lib/format';
import { EmptyState, ErrorState, LoadingState } from '../../../ui/states';
import { TimeSeriesChart, type TimeSeries } from '../../../ui/charts/TimeSeriesChart';
import { useJobUsage } from '../api';

type Sample = NodeUsage['samples'][number];

const percent = (v: number) => `${Math.round(v * 10) / 10} %`;
const bytes = (v: number) => formatBytes(v);
const rate = (v: number) => `${formatBytes(v)}/s`;

function line(label: string, samples: Sample[], y: (s: Sample) => number | undefined): TimeSeries {
  const points: TimeSeries['points'] = [];
  for (const s of samples) {
    const v = y(s);
    if (v !== undefined) points.push({ x: Date.parse(s.at), y: v });
  }
  return { label, points };
}

/** Bytes per second between consecutive readings of a cumulative counter (a restart's drop reads as 0). */
function rateLine(label: string, samples: Sample[], counter: (s: Sample) => number): TimeSeries {
  const points: TimeSeries['points'] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const seconds = (Date.parse(b.at) - Date.parse(a.at)) / 1000;
    if (seconds > 0) points.push({ x: Date.parse(b.at), y: Math.max(0, counter(b) - counter(a)) / seconds });
  }
  return { label, points };
}

/**
 * The "Resource Usages" tab: per node, CPU, memory against its limit, network and block I/O
 * rates (and GPU where the node reports it), from the samples the server takes while the job runs.
 */
export function ResourceUsages({ job }: { job: TrainingJob }) {
  const live = !isTerminal(job.status);
  const usage = useJobUsage(job.name, job.version, live);
  if (usage.isPending) return <LoadingState label="Loading resource usage…" />;
  if (usage.isError && !usage.data) {
    return <ErrorState title="Could not load resource usage" message={usage.error.message} onRetry={() => void usage.refetch()} />;
  }
  return <UsageCharts usage={usage.data} job={job} live={live} />;
}

function UsageCharts({ usage, job, live }: { usage: JobUsage; job: TrainingJob; live: boolean }) {
  const sampled = usage.nodes.filter((n) => n.samples.length > 0);
  if (sampled.length === 0 && usage.unavailable) {
    return (
      <EmptyState title="Not available on this engine" testId="usage-unavailable">
        <Text size="sm" c="dimmed">
          {usage.unavailable}
        </Text>
      </EmptyState>
    );
  }
  if (sampled.length === 0) {
    return (
      <EmptyState title="No samples yet" testId="usage-empty">
        <Text size="sm" c="dimmed">
          {live
            ? 'CPU, memory, network and disk use are sampled every few seconds while the job runs.'
            : 'The job ended before any sample was taken.'}
        </Text>
      </EmptyState>
    );
  }
  return (
    <Stack gap="lg">
      {sampled.map((n) => (
        <NodeCharts key={n.index} node={n} hostname={job.nodes[n.index]?.hostname} />
      ))}
    </Stack>
  );
}

function NodeCharts({ node, hostname }: { node: NodeUsage; hostname: string | undefined }) {
  const s = node.samples;
  const name = `Node ${node.index}${hostname ? ` (${hostname})` : ''}`;
  const hasGpu = s.some((x) => x.gpuPercent !== undefined || x.gpuMemoryBytes !== undefined);
  return (
    <Paper withBorder p="md" component="section" aria-label={`Resource usage of ${name}`}>
      <Title order={3} size="h5" mb="sm">
        {name}
      </Title>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <TimeSeriesChart title="CPU" series={[line('CPU %', s, (x) => x.cpuPercent)]} formatY={percent} yMin={0} yMaxAtLeast={100} />
        <TimeSeriesChart
          title="Memory"
          series={[line('Used', s, (x) => x.memoryBytes), line('Limit', s, (x) => x.memoryLimitBytes)]}
          formatY={bytes}
          yMin={0}
        />
        <TimeSeriesChart
          title="Network"
          series={[rateLine('Received', s, (x) => x.netRxBytes), rateLine('Sent', s, (x) => x.netTxBytes)]}
          formatY={rate}
          yMin={0}
        />
        <TimeSeriesChart
          title="Disk I/O"
          series={[rateLine('Read', s, (x) => x.blkReadBytes), rateLine('Written', s, (x) => x.blkWriteBytes)]}
          formatY={rate}
          yMin={0}
        />
        {hasGpu && (
          <TimeSeriesChart title="GPU" series={[line('GPU %', s, (x) => x.gpuPercent)]} formatY={percent} yMin={0} yMaxAtLeast={100} />
        )}
        {hasGpu && <TimeSeriesChart title="GPU memory" series={[line('Used', s, (x) => x.gpuMemoryBytes)]} formatY={bytes} yMin={0} />}
      </SimpleGrid>
    </Paper>
  );
}
