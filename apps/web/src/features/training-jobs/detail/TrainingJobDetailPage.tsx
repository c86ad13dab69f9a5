import { Alert, Anchor, Breadcrumbs, Code, Group, Paper, Select, SimpleGrid, Stack, Tabs, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { isTerminal, type FailureClass, type TrainingJob } from '@tc/contracts';
import { ApiRequestError } from '../../../api/client';
import { formatDateTime, formatDuration } from '../../../lib/format';
import { useNow } from '../../../lib/useNow';
import { ErrorState, LoadingState } from '../../../ui/states';
import { StatusBadge } from '../../../ui/StatusBadge';
import { useJobVersions, useTrainingJob } from '../api';
import { SaveParametersButton } from '../../job-parameters/SaveParametersButton';
import { JobActions } from '../list/JobActions';
import { LogViewer } from '../logs/LogViewer';
import { EventTimeline } from './EventTimeline';
import { JobNodes } from './JobNodes';
import { JobAttempts } from './JobAttempts';
import { JobParameters } from './JobParameters';
import { ResourceUsages } from './ResourceUsages';
import { JobOutputs } from './JobOutputs';
import { JobMetrics } from './JobMetrics';
import { ViewComparisonButton } from './VersionComparison';

/** Whose failure it was, in words (the API's failureClass). */
const FAILURE_CLASS_WORDS: Record<FailureClass, string> = {
  platform: 'the platform: image pull, staging or upload, the engine, or a removed container',
  resources: "the flavor's memory was too small",
  user: 'the boot command, its image or data, or a stall',
  stopped: 'stopped by a user',
  'max-runtime': 'ran past its max running time',
};

export function TrainingJobDetailPage() {
  const { name = '', version = '' } = useParams();
  const job = useTrainingJob(name, version);

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/jobs">
          Training Jobs
        </Anchor>
        <span>
          {name} {version}
        </span>
      </Breadcrumbs>
      {job.isPending ? (
        <LoadingState label={`Loading ${name} ${version}…`} />
      ) : job.isError && !job.data ? (
        job.error instanceof ApiRequestError && job.error.status === 404 ? (
          <ErrorState title={`${name} ${version} does not exist`} message="It may have been deleted." />
        ) : (
          <ErrorState title={`Could not load ${name} ${version}`} message={job.error.message} onRetry={() => void job.refetch()} />
        )
      ) : (
        <JobView job={job.data} />
      )}
    </Stack>
  );
}

const TABS = ['logs', 'events', 'configurations', 'outputs', 'usage', 'metrics'] as const;

function JobView({ job }: { job: TrainingJob }) {
  const navigate = useNavigate();
  const live = !isTerminal(job.status);
  const now = useNow(1000, live);
  // The open tab is in the address (`?tab=metrics`), so a link can open it.
  const [params, setParams] = useSearchParams();
  const tab = TABS.find((t) => t === params.get('tab')) ?? 'logs';
  // The usage charts (and their lazily loaded library) only once their tab is opened.
  const [usageShown, setUsageShown] = useState(tab === 'usage');
  // Mounted (and polling) once first opened, like the usage tab.
  const [metricsShown, setMetricsShown] = useState(tab === 'metrics');
  // A tab opened by the address (back, forward, a link on this page) counts as opened too.
  if (tab === 'usage' && !usageShown) setUsageShown(true);
  if (tab === 'metrics' && !metricsShown) setMetricsShown(true);
  return (
    <>
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <Group gap="sm" align="center" data-job={`${job.name}/${job.version}`}>
          <Title order={1} size="h2">
            {job.name}{' '}
            <Text span c="dimmed" inherit>
              {job.version}
            </Text>
          </Title>
          <StatusBadge status={job.status} queuePosition={job.queuePosition} attempt={job} />
          <SelectVersion name={job.name} version={job.version} />
          <ViewComparisonButton name={job.name} />
        </Group>
        <Group gap="sm" align="center">
          {!live && <SaveParametersButton job={job} />}
          <JobActions job={job} onDeleted={() => void navigate('/jobs')} />
        </Group>
      </Group>

      {job.reason && (
        <Alert color="red" title="Why it failed" role="alert">
          {job.reason}
          {job.failureClass && (
            <Text size="sm" mt={4}>
              Failure class: <Code>{job.failureClass}</Code> ({FAILURE_CLASS_WORDS[job.failureClass]})
            </Text>
          )}
        </Alert>
      )}
      {job.status === 'Queuing' && job.queuePosition && (
        <Alert color="gray" title="Why it is not running">
          {job.waiting ? (
            <Stack gap={4}>
              <Text size="sm">
                Position {job.waiting.position} in pool {job.waiting.pool}
                {job.waiting.short.length > 0 &&
                  `; needs ${job.waiting.short.map((s) => `${s.need} ${s.resource} (${s.free} free)`).join(', ')}`}
                .
              </Text>
              {job.waiting.ahead.map((a, i) => (
                <Text size="sm" key={i}>
                  {a.state === 'running' ? 'Running' : 'Queued ahead'}: {a.name ? `${a.name} ${a.version}` : "another user's job"} (
                  {a.flavor} × {a.nodes}){a.expectedEnd ? `, ends by ${formatDateTime(a.expectedEnd)}` : ''}
                </Text>
              ))}
              <Text size="sm">
                {job.waiting.estimatedStart
                  ? `Starts by ${formatDateTime(job.waiting.estimatedStart)} at the latest.`
                  : 'No start time can be estimated: a job ahead has no max running time.'}
              </Text>
            </Stack>
          ) : (
            `Position ${job.queuePosition} in the queue of its resource pool.`
          )}
        </Alert>
      )}

      <Paper withBorder p="md">
        <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }} spacing="sm">
          <Fact label="Status">{job.status}</Fact>
          <Fact label="Created">{formatDateTime(job.createdAt)}</Fact>
          <Fact label="Started">{job.startedAt ? formatDateTime(job.startedAt) : '—'}</Fact>
          <Fact label="Ended">{job.endedAt ? formatDateTime(job.endedAt) : '—'}</Fact>
          <Fact label="Duration">{formatDuration(job.startedAt, job.endedAt, now)}</Fact>
          <Fact label="Compute Nodes">{job.spec.resources?.nodes ?? job.nodes.length}</Fact>
        </SimpleGrid>
        <JobNodes nodes={job.nodes} status={job.status} job={job} />
        <JobAttempts job={job} now={now} />
      </Paper>

      <Tabs
        value={tab}
        onChange={(next) => {
          if (next === 'usage') setUsageShown(true);
          if (next === 'metrics') setMetricsShown(true);
          setParams(
            (p) => {
              p.set('tab', next ?? 'logs');
              return p;
            },
            { replace: true },
          );
        }}
      >
        <Tabs.List>
          <Tabs.Tab value="logs">Logs</Tabs.Tab>
          <Tabs.Tab value="events">Events</Tabs.Tab>
          <Tabs.Tab value="configurations">Configurations</Tabs.Tab>
          <Tabs.Tab value="outputs">Outputs</Tabs.Tab>
          <Tabs.Tab value="usage">Resource Usages</Tabs.Tab>
          <Tabs.Tab value="metrics">Metrics</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="metrics" pt="md">
          {metricsShown && <JobMetrics job={job} />}
        </Tabs.Panel>
        <Tabs.Panel value="logs" pt="md">
          <LogViewer name={job.name} version={job.version} nodes={job.nodes} live={live} />
        </Tabs.Panel>
        <Tabs.Panel value="events" pt="md">
          <EventTimeline events={job.events} />
        </Tabs.Panel>
        <Tabs.Panel value="configurations" pt="md">
          <JobParameters job={job} />
        </Tabs.Panel>
        <Tabs.Panel value="outputs" pt="md">
          <JobOutputs name={job.name} version={job.version} path={job.spec.trainOutput} status={job.status} />
        </Tabs.Panel>
        <Tabs.Panel value="usage" pt="md">
          {usageShown && <ResourceUsages job={job} />}
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

/** ModelArts' "Select Version": a job is one name; its versions are switched here, not listed apart. */
function SelectVersion({ name, version }: { name: string; version: string }) {
  const navigate = useNavigate();
  const versions = useJobVersions(name);
  const data = versions.data ?? [version];
  return (
    <Select
      label="Select Version"
      size="xs"
      w={120}
      allowDeselect={false}
      data={data.includes(version) ? data : [version, ...data]}
      value={version}
      onChange={(v) => v && v !== version && void navigate(`/jobs/${encodeURIComponent(name)}/${encodeURIComponent(v)}`)}
      description={versions.data ? (versions.data.length === 1 ? '1 version' : `${versions.data.length} versions`) : undefined}
    />
  );
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={500}>{children}</Text>
    </div>
  );
}
