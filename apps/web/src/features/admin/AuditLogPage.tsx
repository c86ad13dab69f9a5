import { useState } from 'react';
import { Badge, Code, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import type { AuditEntry } from '@tc/contracts';
import { formatDateTime } from '../../lib/format';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import { Pager } from '../../ui/Pager';
import { useAuditLog } from './api';
import { describeAction } from './audit-actions';

export const AUDIT_PAGE_SIZE = 50;

/** Admins only: every change and sign-in attempt, newest first. */
export function AuditLogPage() {
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(1);
  const [username] = useDebouncedValue(filter.trim(), 300);
  const log = useAuditLog(username, page, AUDIT_PAGE_SIZE);

  return (
    <Stack component="section" aria-labelledby="audit-log-heading" gap="md">
      <Group align="baseline" gap="md">
        <Title order={1} size="h2" id="audit-log-heading">
          Audit log
        </Title>
        {log.data && <Text c="dimmed">{log.data.total === 1 ? '1 entry' : `${log.data.total} entries`}</Text>}
      </Group>
      <Text size="sm" c="dimmed">
        Every change made through the console or the API, and every sign-in attempt, newest first.
      </Text>
      <TextInput
        label="Username"
        description="Only this user's entries"
        type="search"
        value={filter}
        maxLength={64}
        autoCapitalize="none"
        spellCheck={false}
        onChange={(e) => {
          setFilter(e.currentTarget.value);
          setPage(1);
        }}
        w={260}
      />
      {log.isPending ? (
        <LoadingState label="Loading the audit log…" />
      ) : log.isError && !log.data ? (
        <ErrorState title="Could not load the audit log" message={log.error.message} onRetry={() => void log.refetch()} />
      ) : log.data.items.length === 0 ? (
        <EmptyState title={username ? `No entries for ${username}` : 'No entries yet'}>
          {username && <Text c="dimmed">The filter matches the exact username.</Text>}
        </EmptyState>
      ) : (
        <>
          {log.isError && (
            <Text role="alert" c="red" size="sm">
              Refresh failed: {log.error.message}. Showing the last known entries.
            </Text>
          )}
          <AuditTable entries={log.data.items} />
          <Pager page={page} total={log.data.total} pageSize={AUDIT_PAGE_SIZE} onChange={setPage} />
        </>
      )}
    </Stack>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <Table.ScrollContainer minWidth={860}>
      <Table aria-label="Audit log" verticalSpacing="xs" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Time</Table.Th>
            <Table.Th scope="col">User</Table.Th>
            <Table.Th scope="col">Action</Table.Th>
            <Table.Th scope="col">Target</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">IP</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <time dateTime={e.at}>{formatDateTime(e.at)}</time>
              </Table.Td>
              <Table.Td>
                {e.username ?? (
                  <Text span c="dimmed">
                    anonymous
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                {/* What it did in words first; the route stays beside it for whoever greps the API. */}
                <Stack gap={2} align="flex-start">
                  {describeAction(e) && <Text size="sm">{describeAction(e)}</Text>}
                  <Code>{e.action}</Code>
                </Stack>
              </Table.Td>
              <Table.Td style={{ wordBreak: 'break-all' }}>{e.target}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={e.status < 400 ? 'green' : 'red'}>
                  {e.status}
                </Badge>
              </Table.Td>
              <Table.Td>{e.ip}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
