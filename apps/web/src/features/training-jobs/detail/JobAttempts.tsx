import { Anchor, Code, Table, Text, Title } from '@mantine/core';
import type { TrainingJob } from '@tc/contracts';
import { formatDateTime, formatDuration } from '../../../lib/format';
import { StatusBadge } from '../../../ui/StatusBadge';
import { logDownloadUrl } from '../api';

/**
 * Every attempt of a job that may retry: its status, how it ended and how long it took, with a
 * link to its own log (the logs API's `attempt`). Nothing for a job without a retry policy.
 */
export function JobAttempts({ job, now }: { job: TrainingJob; now: Date }) {
  const attempts = job.attempts ?? [];
  if (attempts.length === 0) return null;
  return (
    <section aria-label="Attempts">
      <Title order={2} size="h5" mt="md" mb="xs">
        Attempts{job.maxAttempts ? ` (up to ${job.maxAttempts})` : ''}
      </Title>
      {job.retryAt && (
        <Text size="sm" mb="xs">
          Attempt {job.attempt} waits in the queue until {formatDateTime(job.retryAt)} (the backoff after a failed attempt).
        </Text>
      )}
      <Table striped withTableBorder fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Attempt</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Started</Table.Th>
            <Table.Th>Duration</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Log</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {attempts.map((a) => (
            <Table.Tr key={a.attempt} data-attempt={a.attempt}>
              <Table.Td>
                {a.attempt}
                {job.maxAttempts ? ` of ${job.maxAttempts}` : ''}
              </Table.Td>
              <Table.Td>
                <StatusBadge status={a.status} />
              </Table.Td>
              <Table.Td>{formatDateTime(a.startedAt)}</Table.Td>
              <Table.Td>{formatDuration(a.startedAt, a.endedAt, now)}</Table.Td>
              <Table.Td>
                {a.reason ? (
                  <Text size="sm" style={{ wordBreak: 'break-word' }}>
                    {a.reason}
                    {a.failureClass && (
                      <>
                        {' '}
                        <Code>{a.failureClass}</Code>
                      </>
                    )}
                  </Text>
                ) : (
                  '—'
                )}
              </Table.Td>
              <Table.Td>
                {/* Node 0's: on a distributed job the chief's log says how the attempt went. */}
                <Anchor href={`${logDownloadUrl(job.name, job.version, 0)}&attempt=${a.attempt}`} download>
                  Download
                </Anchor>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </section>
  );
}
