import { isTerminal, useTrainingJobs, type TrainingJobSummary } from '../../../api/training-jobs';
import { formatDateTime, formatDuration } from '../../../lib/format';
import { useNow } from '../../../lib/use-now';
import { StatusBadge } from '../../../ui/StatusBadge';

export function TrainingJobsPage() {
  const { data, error, isPending, isError, isFetching, refetch } = useTrainingJobs();
  const anyActive = data?.items.some((job) => !isTerminal(job.status)) ?? false;
  const now = useNow(1000, anyActive);

  return (
    <section className="page" aria-labelledby="training-jobs-heading">
      <header className="page__header">
        <h1 id="training-jobs-heading">Training Jobs</h1>
        <div className="page__meta">
          {data && <span className="muted">{data.total === 1 ? '1 job' : `${data.total} jobs`}</span>}
          {anyActive && (
            <span className="muted" aria-live="polite">
              Auto-refreshing{isFetching ? '…' : ''}
            </span>
          )}
        </div>
      </header>

      {isPending ? (
        <p role="status" className="state state--loading">
          Loading training jobs…
        </p>
      ) : isError && !data ? (
        <ErrorState message={error.message} onRetry={() => void refetch()} />
      ) : data.items.length === 0 ? (
        <EmptyState />
      ) : (
        <>
          {isError && (
            <p role="alert" className="banner banner--error">
              Refresh failed: {error.message}. Showing the last known list.
            </p>
          )}
          <JobsTable jobs={data.items} now={now} />
        </>
      )}
    </section>
  );
}

function JobsTable({ jobs, now }: { jobs: TrainingJobSummary[]; now: Date }) {
  return (
    <table className="table" aria-label="Training jobs">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Version</th>
          <th scope="col">Status</th>
          <th scope="col">Flavor</th>
          <th scope="col" className="num">
            Nodes
          </th>
          <th scope="col">Created</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr key={`${job.name}/${job.version}`}>
            <td className="strong">{job.name}</td>
            <td>{job.version}</td>
            <td>
              <StatusBadge status={job.status} title={job.reason} />
              {job.reason && <div className="reason">{job.reason}</div>}
            </td>
            <td>
              <code>{job.flavor}</code>
            </td>
            <td className="num">{job.nodes}</td>
            <td>
              <time dateTime={job.createdAt}>{formatDateTime(job.createdAt)}</time>
            </td>
            <td>{formatDuration(job.startedAt, job.endedAt, now)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EmptyState() {
  const origin = typeof window === 'undefined' ? 'http://127.0.0.1:8080' : window.location.origin;
  const example = `curl -X POST ${origin}/api/v1/training-jobs \\
  -H 'content-type: application/json' \\
  -d '{
    "name": "linreg-demo",
    "algorithm": { "source": "custom", "imagePath": "demo/linreg-train:1.0",
                   "codeDir": "obs://demo/code/linreg/",
                   "bootCommand": "sh /home/work/user-job-dir/linreg/train.sh" },
    "data": { "source": "path", "path": "obs://demo/data/" },
    "trainOutput": "obs://demo/output/linreg/"
  }'`;
  return (
    <div className="state state--empty" data-testid="training-jobs-empty">
      <h2>No training jobs yet</h2>
      <p>
        Submit one through the API, for example with <code>curl</code>. The API is described at <a href="/api/docs">/api/docs</a>.
      </p>
      <pre className="code-block">
        <code>{example}</code>
      </pre>
    </div>
  );
}

function ErrorState({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div role="alert" className="state state--error">
      <h2>Could not load training jobs</h2>
      <p>{message}</p>
      <button type="button" className="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
