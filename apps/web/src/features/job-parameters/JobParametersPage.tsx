import { useState } from 'react';
import { Anchor, Button, Code, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { Link } from 'react-router';
import type { TrainingJobConfig } from '@tc/contracts';
import { formatDateTime } from '../../lib/format';
import { ConfirmButton } from '../../ui/ConfirmButton';
import { Pager } from '../../ui/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import { useDeleteTrainingJobConfig, useTrainingJobConfigs } from './api';
import { SearchByName } from '../../ui/SearchByName';

export const PAGE_SIZE = 20;

/** Saved parameter sets ("Job Parameter Mgmt"): find, edit, delete, or start a job from one. */
export function JobParametersPage() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [name] = useDebouncedValue(search.trim(), 300);
  const { data, error, isPending, isError, refetch } = useTrainingJobConfigs({ name: name || undefined, page, pageSize: PAGE_SIZE });

  return (
    <Stack component="section" aria-labelledby="job-parameters-heading" gap="md">
      <Group align="baseline" gap="md">
        <Title order={1} size="h2" id="job-parameters-heading">
          Job Parameters
        </Title>
        {data && <Text c="dimmed">{data.total === 1 ? '1 configuration' : `${data.total} configurations`}</Text>}
      </Group>
      <SearchByName value={search} onChange={setSearch} onPageReset={() => setPage(1)} />

      {isPending ? (
        <LoadingState label="Loading job parameters…" />
      ) : isError && !data ? (
        <ErrorState title="Job parameters could not be loaded" message={error.message} onRetry={() => void refetch()} />
      ) : data.items.length === 0 ? (
        <EmptyState title={name ? 'No configuration matches' : 'No saved job parameters yet'}>
          <Text c="dimmed" size="sm">
            Save one from the wizard&apos;s Notification step or from a finished job&apos;s page (&ldquo;Save Training Parameters&rdquo;),
            then start new jobs from it here.
          </Text>
        </EmptyState>
      ) : (
        <>
          <Table.ScrollContainer minWidth={760}>
            <Table aria-label="Job parameters" highlightOnHover verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Name</Table.Th>
                  <Table.Th scope="col">Description</Table.Th>
                  <Table.Th scope="col">Image</Table.Th>
                  <Table.Th scope="col">Flavor</Table.Th>
                  <Table.Th scope="col">Saved from</Table.Th>
                  <Table.Th scope="col">Updated</Table.Th>
                  <Table.Th scope="col">Operation</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.items.map((c) => (
                  <ConfigRow key={c.name} config={c} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Pager page={page} total={data.total} pageSize={PAGE_SIZE} onChange={setPage} />
        </>
      )}
    </Stack>
  );
}

function ConfigRow({ config }: { config: TrainingJobConfig }) {
  const remove = useDeleteTrainingJobConfig();
  const p = config.parameters;
  const none = <Text c="dimmed">—</Text>;
  return (
    <Table.Tr>
      <Table.Td fw={600}>{config.name}</Table.Td>
      <Table.Td>{config.description ?? none}</Table.Td>
      <Table.Td>
        <Code>{p.algorithm.imagePath}</Code>
      </Table.Td>
      <Table.Td>{p.resources ? <Code>{p.resources.flavor}</Code> : <Text c="dimmed">default</Text>}</Table.Td>
      <Table.Td>
        {config.sourceJob ? (
          <Anchor
            component={Link}
            to={`/jobs/${encodeURIComponent(config.sourceJob.name)}/${encodeURIComponent(config.sourceJob.version)}`}
          >
            {config.sourceJob.name} {config.sourceJob.version}
          </Anchor>
        ) : (
          none
        )}
      </Table.Td>
      <Table.Td>
        <time dateTime={config.updatedAt}>{formatDateTime(config.updatedAt)}</time>
      </Table.Td>
      <Table.Td>
        <Group gap={6} wrap="nowrap">
          <Button
            component={Link}
            to={`/jobs/new?config=${encodeURIComponent(config.name)}`}
            size="compact-xs"
            variant="light"
            aria-label={`Create job from ${config.name}`}
          >
            Create job
          </Button>
          <Button
            component={Link}
            to={`/job-parameters/${encodeURIComponent(config.name)}/edit`}
            size="compact-xs"
            variant="light"
            aria-label={`Edit ${config.name}`}
          >
            Edit
          </Button>
          <ConfirmButton
            label="Delete"
            ariaLabel={`Delete ${config.name}`}
            size="compact-xs"
            variant="light"
            color="red"
            title={`Delete ${config.name}?`}
            message="Deleted job parameters cannot be recovered. Jobs created from them are not affected."
            confirmLabel="Delete"
            onConfirm={() => remove.mutateAsync(config.name)}
          />
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}
