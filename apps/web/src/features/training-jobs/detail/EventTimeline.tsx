import { Text, Timeline } from '@mantine/core';
import type { JobEvent } from '@tc/contracts';
import { formatDateTime } from '../../../lib/format';
import { EmptyState } from '../../../ui/states';

const FAILED = /fail|error|exceeded|refused/i;

export function EventTimeline({ events }: { events: JobEvent[] }) {
  if (events.length === 0) return <EmptyState title="No events yet" />;
  return (
    <Timeline active={events.length - 1} bulletSize={14} lineWidth={2} aria-label="Event timeline">
      {events.map((e, i) => (
        <Timeline.Item key={`${e.at}-${i}`} title={e.type} color={FAILED.test(e.type) ? 'red' : undefined}>
          <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
            {e.message}
          </Text>
          <Text size="xs" c="dimmed" component="time" dateTime={e.at}>
            {formatDateTime(e.at)}
          </Text>
        </Timeline.Item>
      ))}
    </Timeline>
  );
}
