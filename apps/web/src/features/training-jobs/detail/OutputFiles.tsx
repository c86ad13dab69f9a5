import { useEffect, useState } from 'react';
import { Anchor, Breadcrumbs, Group, Table, Text } from '@mantine/core';
import { isTerminal, parseObjectPath, type JobStatus } from '@tc/contracts';
import { formatBytes } from '../../../lib/format';
import { EmptyState, ErrorState, LoadingState } from '../../../ui/states';
import { useStorageListing } from '../../storage/api';

/** The Training Output Path, browsable below its root; read again when the job ends. */
export function OutputFiles({ path, status }: { path: string; status: JobStatus }) {
  const root = parseObjectPath(path);
  const [prefix, setPrefix] = useState(root.prefix);
  const listing = useStorageListing(root.bucket, prefix);
  const ended = isTerminal(status);
  const { refetch } = listing;

  useEffect(() => {
    if (ended) void refetch();
  }, [ended, refetch]);

  const below = prefix.slice(root.prefix.length).split('/').filter(Boolean);
  return (
    <>
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Breadcrumbs aria-label="Output folder">
          <Anchor component="button" type="button" onClick={() => setPrefix(root.prefix)}>
            {path}
          </Anchor>
          {below.map((seg, i) => (
            <Anchor
              key={`${i}-${seg}`}
              component="button"
              type="button"
              onClick={() => setPrefix(`${root.prefix}${below.slice(0, i + 1).join('/')}/`)}
            >
              {seg}
            </Anchor>
          ))}
        </Breadcrumbs>
        {!ended && (
          <Text size="sm" c="dimmed">
            Outputs are uploaded when the job ends.
          </Text>
        )}
      </Group>
      {listing.isPending ? (
        <LoadingState label="Loading output files…" />
      ) : listing.isError ? (
        <ErrorState title="Could not list the output files" message={listing.error.message} onRetry={() => void refetch()} />
      ) : listing.data.folders.length === 0 && listing.data.objects.length === 0 ? (
        <EmptyState title="No output files yet" />
      ) : (
        <Table aria-label="Output files" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th ta="right">Size</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {listing.data.folders.map((f) => (
              <Table.Tr key={f.prefix}>
                <Table.Td>
                  <Anchor component="button" type="button" onClick={() => setPrefix(f.prefix)}>
                    {f.name}/
                  </Anchor>
                </Table.Td>
                <Table.Td ta="right">—</Table.Td>
              </Table.Tr>
            ))}
            {listing.data.objects.map((o) => (
              <Table.Tr key={o.key}>
                <Table.Td>{o.name}</Table.Td>
                <Table.Td ta="right">{formatBytes(o.size)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
