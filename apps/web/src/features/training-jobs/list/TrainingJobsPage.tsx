import { useState } from 'react';
import { Anchor, Button, Code, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { Link } from 'react-router';
import { JOB_STATUSES, isTerminal, type JobStatus, type TrainingJobSummary } from '@tc/contracts';
import { formatDateTime, formatDuration } from '../../../lib/format';
import { useNow } from '../../../lib/useNow';
import { EmptyState, ErrorState, LoadingState } from '../../../ui/states';
import { Pager } from '../../../ui/Pager';
import { StatusBadge } from '../../../ui/StatusBadge';
import { useTrainingJobs } from '../api';
import { JobActions } from './JobActions';
import { SearchByName } from '../../../ui/SearchByName';

export const PAGE_SIZE = 20;

export function TrainingJobsPage() {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<JobStatus | null>(null);
  const [page, setPage] = useState(1);
  const [name] = useDebouncedValue(search.trim(), 300);
  const filtered = name !== '' || status !== null;
  const { data, error, isPending, isError, isFetching, refetch } = useTrainingJobs({
    name: name || undefined,
    status: status ?? undefined,
    // One row per job name, as ModelArts lists them; a job's page switches between its versions.
    latest: true,
    page,
    pageSize: PAGE_SIZE,
  });
  const anyActive = data?.items.some((job) => !isTerminal(job.status)) ?? false;
  const now = useNow(1000, anyActive);

  return (
    <Stack component="section" aria-labelledby="training-jobs-heading" gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Group align="baseline" gap="md">
          <Title order={1} size="h2" id="training-jobs-heading">
            Training Jobs
          </Title>
          {data && <Text c="dimmed">{data.total === 1 ? '1 job' : `${data.total} jobs`}</Text>}
          {anyActive && (
            <Text c="dimmed" size="sm" aria-live="polite">
              Auto-refreshing{isFetching ? '…' : ''}
            </Text>
          )}
        </Group>
        <Button component={Link} to="/jobs/new">
          Create Training Job
        </Button>
      </Group>

      <Group gap="sm" wrap="wrap" align="flex-end">
        <SearchByName value={search} onChange={setSearch} onPageReset={() => setPage(1)} />
        <Select
          label="Status"
          placeholder="All statuses"
          clearable
          data={[...JOB_STATUSES]}
          value={status}
          onChange={(v) => {
            setStatus(JOB_STATUSES.find((st) => st === v) ?? null);
            setPage(1);
          }}
          w={200}
        />
      </Group>

      {isPending ? (
        <LoadingState label="Loading training jobs…" />
      ) : isError && !data ? (
        <ErrorState title="Could not load training jobs" message={error.message} onRetry={() => void refetch()} />
      ) : data.items.length === 0 ? (
        filtered ? (
          <EmptyState title="No job matches">
            <Text c="dimmed">Change the name or the status filter.</Text>
          </EmptyState>
        ) : (
          <NoJobs />
        )
      ) : (
        <>
          {isError && (
            <Text role="alert" c="red" size="sm">
              Refresh failed: {error.message}. Showing the last known list.
            </Text>
          )}
          <JobsTable jobs={data.items} now={now} />
          <Pager page={page} total={data.total} pageSize={PAGE_SIZE} onChange={setPage} />
        </>
      )}
    </Stack>
  );
}

function JobsTable({ jobs, now }: { jobs: TrainingJobSummary[]; now: Date }) {
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table aria-label="Training jobs" highlightOnHover verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Latest version</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Flavor</Table.Th>
            <Table.Th scope="col" ta="right">
              Nodes
            </Table.Th>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">Duration</Table.Th>
            <Table.Th scope="col">Operation</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.map((job) => (
            <Table.Tr key={`${job.name}/${job.version}`} data-job={`${job.name}/${job.version}`}>
              <Table.Td fw={600}>
                <Anchor component={Link} to={`/jobs/${encodeURIComponent(job.name)}/${encodeURIComponent(job.version)}`}>
                  {job.name}
                </Anchor>
              </Table.Td>
              <Table.Td>
                {job.version}
                {job.versionCount !== undefined && (
                  <Text size="xs" c="dimmed">
                    {job.versionCount === 1 ? '1 version' : `${job.versionCount} versions`}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <StatusBadge status={job.status} title={job.reason} queuePosition={job.queuePosition} attempt={job} />
                {job.reason && (
                  <Text size="xs" c="red" maw="40ch" mt={4}>
                    {job.failureClass ? `[${job.failureClass}] ` : ''}
                    {job.reason}
                  </Text>
                )}
                {job.waitingSummary && (
                  <Text size="xs" c="dimmed" maw="40ch" mt={4}>
                    {job.waitingSummary}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Code>{job.flavor}</Code>
              </Table.Td>
              <Table.Td ta="right">{job.nodes}</Table.Td>
              <Table.Td>
                <time dateTime={job.createdAt}>{formatDateTime(job.createdAt)}</time>
              </Table.Td>
              <Table.Td>{formatDuration(job.startedAt, job.endedAt, now)}</Table.Td>
              <Table.Td>
                <JobActions job={job} size="compact-xs" />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function NoJobs() {
  const origin = typeof window === 'undefined' ? 'http://127.0.0.1:8080' : window.location.origin;
  const example = `curl -X POST ${origin}/api/v1/training-jobs \\
  -H "authorization: Bearer $TC_TOKEN" \\
  -H 'content-type: application/json' \\
  -d '{
    "name": "linreg-demo",
    "algorithm": { "source": "custom", "imagePath": "demo/linreg-train:1.0",
                   "codeDir": "obs://demo/code/linreg/",
                   "bootCommand": "sh /home/work/user-job-dir/linreg/train.sh" },
    "data": { "source": "path", "path": "obs://demo/data/" },
    "trainOutput": "obs://demo/output/linreg/"
  }'`;
  const cli = `npx trainctl login --url ${origin}
npx trainctl init && npx trainctl run job.yaml --follow`;
  return (
    <EmptyState title="No training jobs yet" testId="training-jobs-empty">
      <Text>
        <Anchor component={Link} to="/jobs/new">
          Create a training job
        </Anchor>{' '}
        from a custom image, or submit one through the API, for example with <code>curl</code> and an API token from your{' '}
        <Anchor component={Link} to="/account">
          Account
        </Anchor>{' '}
        page (the API is described at <Anchor href="/api/docs">/api/docs</Anchor>).
      </Text>
      <Code block>{example}</Code>
      <Text>
        Or from a terminal with <code>trainctl</code>, the console&apos;s command line (job files in YAML):
      </Text>
      <Code block>{cli}</Code>
    </EmptyState>
  );
}
