import type { JobStatus } from '../api/training-jobs';

type Tone = 'neutral' | 'progress' | 'success' | 'danger' | 'muted';

const TONES: Record<JobStatus, Tone> = {
  Initializing: 'progress',
  Queuing: 'neutral',
  Running: 'progress',
  Successful: 'success',
  'Running failed': 'danger',
  Stopping: 'neutral',
  Stopped: 'muted',
};

export interface StatusBadgeProps {
  status: JobStatus;
  /** Shown as a tooltip, e.g. the failure reason. */
  title?: string | null;
}

export function StatusBadge({ status, title }: StatusBadgeProps) {
  const tone = TONES[status] ?? 'neutral';
  return (
    <span className={`status-badge status-badge--${tone}`} data-status={status} title={title ?? undefined}>
      <span className="status-badge__dot" aria-hidden="true" />
      {status}
    </span>
  );
}
