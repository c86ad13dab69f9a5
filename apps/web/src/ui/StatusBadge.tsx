import { Badge, Loader, Tooltip } from '@mantine/core';
import type { JobStatus } from '@tc/contracts';
import { attemptText, type AttemptOf } from '../lib/attempt';

const COLORS: Record<JobStatus, string> = {
  Initializing: 'blue',
  Queuing: 'gray',
  Running: 'blue',
  Successful: 'green',
  'Running failed': 'red',
  Stopping: 'orange',
  Stopped: 'gray',
};

const MOVING: ReadonlySet<JobStatus> = new Set(['Initializing', 'Running', 'Stopping']);

export interface StatusBadgeProps {
  status: JobStatus;
  /** Shown as a tooltip, e.g. the failure reason. */
  title?: string | null;
  queuePosition?: number | null;
  /** A job that may retry: which attempt it is on, shown while a retry queues or runs ("attempt 2 of 3"). */
  attempt?: AttemptOf;
}

export function StatusBadge({ status, title, queuePosition, attempt }: StatusBadgeProps) {
  const base = status === 'Queuing' && queuePosition ? `Queuing (#${queuePosition})` : status;
  const which = attemptText(status, attempt);
  const label = which ? `${base} · ${which}` : base;
  const badge = (
    <Badge
      color={COLORS[status] ?? 'gray'}
      variant={status === 'Stopped' ? 'outline' : 'light'}
      data-status={status}
      leftSection={MOVING.has(status) ? <Loader size={10} color={COLORS[status]} aria-hidden /> : undefined}
      // Never cut to "Succe…" in a narrow table column: the status is the point of the badge.
      styles={{ root: { textTransform: 'none', flexShrink: 0, maxWidth: 'none', overflow: 'visible' }, label: { overflow: 'visible' } }}
    >
      {label}
    </Badge>
  );
  return title ? (
    <Tooltip label={title} multiline maw={360} withArrow>
      {badge}
    </Tooltip>
  ) : (
    badge
  );
}
