import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { TrainingJobParameters, fieldErrorsFromZod, type TrainingJobConfig } from '@tc/contracts';
import { ApiRequestError, type ApiFieldError } from '../../api/client';
import { formatDateTime } from '../../lib/format';
import { useDeleteTrainingJobConfig, useTrainingJobConfigs, useUpdateTrainingJobConfig } from './api';

const PAGE_SIZE = 20;

/** Saved parameter sets ("Job Parameter Mgmt"): find, edit, delete, or start a job from one. */
export function JobParametersPage() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<string | null>(null);
  const { data, error, isPending, isError, refetch } = useTrainingJobConfigs({ name: search || undefined, page, pageSize: PAGE_SIZE });
  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;
  const searchId = useId();

  return (
    <section className="page" aria-labelledby="job-parameters-heading">
      <header className="page__header">
        <h1 id="job-parameters-heading">Job Parameters</h1>
        <div className="page__meta">
          <label htmlFor={searchId} className="muted">
            Search by name
          </label>
          <input
            id={searchId}
            type="search"
            value={search}
            maxLength={64}
            onChange={(e) => {
              setSearch(e.target.value);
              setPage(1);
            }}
          />
          {data && <span className="muted">{data.total === 1 ? '1 configuration' : `${data.total} configurations`}</span>}
        </div>
      </header>

      {isPending ? (
        <p role="status" className="state state--loading">
          Loading job parameters…
        </p>
      ) : isError && !data ? (
        <div role="alert" className="state state--error">
          <h2>Job parameters could not be loaded</h2>
          <p>{error.message}</p>
          <button type="button" className="button" onClick={() => void refetch()}>
            Retry
          </button>
        </div>
      ) : data.items.length === 0 ? (
        <div className="state">
          <h2>{search ? 'No configuration matches' : 'No saved job parameters yet'}</h2>
          <p className="muted">
            Save one from the wizard&apos;s Notification step (&ldquo;Saving Training Parameters&rdquo;), then start new jobs from it here.
          </p>
        </div>
      ) : (
        <>
          <table className="table" aria-label="Job parameters">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Image</th>
                <th scope="col">Flavor</th>
                <th scope="col">Saved from</th>
                <th scope="col">Updated</th>
                <th scope="col">Operation</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((c) => (
                <ConfigRow key={c.name} config={c} editing={editing === c.name} onEdit={(on) => setEditing(on ? c.name : null)} />
              ))}
            </tbody>
          </table>
          {pages > 1 && (
            <nav aria-label="Pages" className="page__meta">
              <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <span>
                Page {page} of {pages}
              </span>
              <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

function ConfigRow({ config, editing, onEdit }: { config: TrainingJobConfig; editing: boolean; onEdit: (on: boolean) => void }) {
  const [confirming, setConfirming] = useState(false);
  const remove = useDeleteTrainingJobConfig();
  const p = config.parameters;
  return (
    <>
      <tr>
        <td className="strong">{config.name}</td>
        <td>{config.description ?? <span className="muted">—</span>}</td>
        <td>
          <code>{p.algorithm.imagePath}</code>
        </td>
        <td>{p.resources ? <code>{p.resources.flavor}</code> : <span className="muted">default</span>}</td>
        <td>{config.sourceJob ? `${config.sourceJob.name} ${config.sourceJob.version}` : <span className="muted">—</span>}</td>
        <td>
          <time dateTime={config.updatedAt}>{formatDateTime(config.updatedAt)}</time>
        </td>
        <td>
          <Link to={`/jobs/new?config=${encodeURIComponent(config.name)}`}>Create job</Link>{' '}
          <button type="button" onClick={() => onEdit(!editing)} aria-expanded={editing}>
            Edit
          </button>{' '}
          {confirming ? (
            <span role="group" aria-label={`Confirm deleting ${config.name}`}>
              <span className="muted">Deleted configurations cannot be recovered.</span>{' '}
              <button type="button" disabled={remove.isPending} onClick={() => remove.mutate(config.name)}>
                Delete {config.name}
              </button>{' '}
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
          {remove.isError && (
            <p role="alert" className="banner banner--error">
              {remove.error.message}
            </p>
          )}
        </td>
      </tr>
      {editing && (
        <tr>
          <td colSpan={7}>
            <EditConfig config={config} onDone={() => onEdit(false)} />
          </td>
        </tr>
      )}
    </>
  );
}

/**
 * Description and the parameter set as JSON, checked with the same contract the server uses
 * before it is sent; the server's field errors are shown the same way.
 */
function EditConfig({ config, onDone }: { config: TrainingJobConfig; onDone: () => void }) {
  const [description, setDescription] = useState(config.description ?? '');
  const [json, setJson] = useState(() => JSON.stringify(config.parameters, null, 2));
  const [problems, setProblems] = useState<ApiFieldError[]>([]);
  const update = useUpdateTrainingJobConfig();
  const descriptionId = useId();
  const parametersId = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      setProblems([{ path: 'parameters', message: `not valid JSON: ${(err as Error).message}` }]);
      return;
    }
    const checked = TrainingJobParameters.safeParse(parsed);
    if (!checked.success) {
      setProblems(
        fieldErrorsFromZod(checked.error).map((f) => ({ path: f.path ? `parameters.${f.path}` : 'parameters', message: f.message })),
      );
      return;
    }
    setProblems([]);
    update.mutate(
      { name: config.name, body: { description: description || undefined, parameters: checked.data } },
      {
        onSuccess: onDone,
        onError: (err) =>
          setProblems(err instanceof ApiRequestError && err.fields.length ? err.fields : [{ path: '', message: err.message }]),
      },
    );
  };

  return (
    <form onSubmit={submit} aria-label={`Edit ${config.name}`}>
      <p className="muted">The name of a configuration cannot be changed.</p>
      <div>
        <label htmlFor={descriptionId}>Description</label>
        <br />
        <textarea
          id={descriptionId}
          value={description}
          maxLength={256}
          rows={2}
          cols={80}
          onChange={(e) => setDescription(e.target.value)}
        />
      </div>
      <div>
        <label htmlFor={parametersId}>Parameters (JSON)</label>
        <br />
        <textarea
          id={parametersId}
          value={json}
          rows={18}
          cols={80}
          spellCheck={false}
          className="code"
          onChange={(e) => setJson(e.target.value)}
        />
      </div>
      {problems.length > 0 && (
        <ul role="alert" className="banner banner--error">
          {problems.map((p, i) => (
            <li key={i}>{p.path ? `${p.path}: ${p.message}` : p.message}</li>
          ))}
        </ul>
      )}
      <button type="submit" className="button" disabled={update.isPending}>
        Save
      </button>{' '}
      <button type="button" onClick={onDone}>
        Cancel
      </button>
    </form>
  );
}
