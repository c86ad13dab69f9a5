import { Button, Group, type ButtonProps } from '@mantine/core';
import { Link } from 'react-router';
import { isTerminal, type JobStatus } from '@tc/contracts';
import { ConfirmButton } from '../../../ui/ConfirmButton';
import { useDeleteTrainingJob, useStopTrainingJob } from '../api';

export interface JobActionsProps {
  job: { name: string; version: string; status: JobStatus };
  size?: ButtonProps['size'];
  /** Called after a delete went through (the detail page leaves for the list). */
  onDeleted?: () => void;
}

/** Stop while the job can still change, new version always, delete once it has ended; each asks first. */
export function JobActions({ job, size = 'sm', onDeleted }: JobActionsProps) {
  const stop = useStopTrainingJob();
  const del = useDeleteTrainingJob();
  const id = `${job.name} ${job.version}`;
  const ended = isTerminal(job.status);
  return (
    <Group gap={6} wrap="nowrap">
      {!ended && (
        <ConfirmButton
          label="Stop"
          ariaLabel={`Stop ${id}`}
          size={size}
          variant="light"
          color="orange"
          disabled={job.status === 'Stopping'}
          title={`Stop ${id}?`}
          message="The containers get SIGTERM, then SIGKILL after the grace period. Outputs and logs are still uploaded."
          confirmLabel="Stop job"
          onConfirm={() => stop.mutateAsync({ name: job.name, version: job.version })}
        />
      )}
      <Button
        component={Link}
        to={`/jobs/new?from=${encodeURIComponent(job.name)}&version=${encodeURIComponent(job.version)}`}
        size={size}
        variant="light"
        aria-label={`Create new version of ${id}`}
      >
        New version
      </Button>
      {ended && (
        <ConfirmButton
          label="Delete"
          ariaLabel={`Delete ${id}`}
          size={size}
          variant="light"
          color="red"
          title={`Delete ${id}?`}
          message="The job, its events and its stored log lines are removed. Its files in object storage stay."
          confirmLabel="Delete job"
          onConfirm={async () => {
            await del.mutateAsync({ name: job.name, version: job.version });
            onDeleted?.();
          }}
        />
      )}
    </Group>
  );
}
