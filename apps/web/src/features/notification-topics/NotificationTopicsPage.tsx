import { useId, useState, type FormEvent } from 'react';
import { AddSubscriptionRequest, CreateNotificationTopicRequest, fieldErrorsFromZod, type NotificationTopic } from '@tc/contracts';
import { ApiRequestError, type ApiFieldError } from '../../api/client';
import { formatDateTime } from '../../lib/format';
import {
  useAddSubscription,
  useCreateTopic,
  useDeleteTopic,
  useDeliveries,
  useNotificationTopics,
  useRemoveSubscription,
  useRotateSecret,
} from './api';

function fieldsOf(err: Error): ApiFieldError[] {
  return err instanceof ApiRequestError && err.fields.length ? err.fields : [{ path: '', message: err.message }];
}

function Problems({ items }: { items: ApiFieldError[] }) {
  if (!items.length) return null;
  return (
    <ul role="alert" className="banner banner--error">
      {items.map((p, i) => (
        <li key={i}>{p.path ? `${p.path}: ${p.message}` : p.message}</li>
      ))}
    </ul>
  );
}

/** The secret exists in the browser only here, until the user dismisses it. */
function SecretOnce({ topic, secret, onDismiss }: { topic: string; secret: string; onDismiss: () => void }) {
  return (
    <div role="alert" className="banner" aria-label={`Signing secret of ${topic}`}>
      <p>
        <strong>Signing secret of {topic}.</strong> Copy it now: it is not shown again. Receivers use it to check the{' '}
        <code>X-TC-Signature</code> header (HMAC-SHA256 of <code>&lt;X-TC-Timestamp&gt;.&lt;raw body&gt;</code>).
      </p>
      <pre className="code-block">{secret}</pre>
      <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
        Copy
      </button>{' '}
      <button type="button" onClick={onDismiss}>
        I have saved it
      </button>
    </div>
  );
}

/** Topics with webhook subscriptions; jobs name a topic in the wizard's Notification step. */
export function NotificationTopicsPage() {
  const [search, setSearch] = useState('');
  const [secret, setSecret] = useState<{ topic: string; secret: string } | null>(null);
  const { data, error, isPending, isError, refetch } = useNotificationTopics(search);
  const searchId = useId();

  return (
    <section className="page" aria-labelledby="notification-topics-heading">
      <header className="page__header">
        <h1 id="notification-topics-heading">Notification Topics</h1>
        <div className="page__meta">
          <label htmlFor={searchId} className="muted">
            Search by name
          </label>
          <input id={searchId} type="search" value={search} maxLength={64} onChange={(e) => setSearch(e.target.value)} />
          {data && <span className="muted">{data.total === 1 ? '1 topic' : `${data.total} topics`}</span>}
        </div>
      </header>

      {secret && <SecretOnce topic={secret.topic} secret={secret.secret} onDismiss={() => setSecret(null)} />}
      <CreateTopicForm onCreated={(topic, s) => setSecret({ topic, secret: s })} />

      {isPending ? (
        <p role="status" className="state state--loading">
          Loading topics…
        </p>
      ) : isError && !data ? (
        <div role="alert" className="state state--error">
          <h2>Topics could not be loaded</h2>
          <p>{error.message}</p>
          <button type="button" className="button" onClick={() => void refetch()}>
            Retry
          </button>
        </div>
      ) : data.items.length === 0 ? (
        <div className="state">
          <h2>{search ? 'No topic matches' : 'No topics yet'}</h2>
          <p className="muted">Create one above and subscribe a webhook to it.</p>
        </div>
      ) : (
        data.items.map((t) => <TopicCard key={t.name} topic={t} onSecret={(s) => setSecret({ topic: t.name, secret: s })} />)
      )}
    </section>
  );
}

function CreateTopicForm({ onCreated }: { onCreated: (topic: string, secret: string) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [url, setUrl] = useState('');
  const [problems, setProblems] = useState<ApiFieldError[]>([]);
  const create = useCreateTopic();
  const ids = { name: useId(), description: useId(), url: useId() };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = {
      name,
      description: description || undefined,
      subscriptions: url ? [{ url }] : undefined,
    };
    const checked = CreateNotificationTopicRequest.safeParse(body);
    if (!checked.success) return setProblems(fieldErrorsFromZod(checked.error));
    setProblems([]);
    create.mutate(checked.data, {
      onSuccess: (created) => {
        onCreated(created.name, created.secret);
        setName('');
        setDescription('');
        setUrl('');
      },
      onError: (err) => setProblems(fieldsOf(err)),
    });
  };

  return (
    <form onSubmit={submit} aria-label="Create topic" className="page__meta">
      <label htmlFor={ids.name}>Topic name</label>
      <input id={ids.name} value={name} maxLength={64} required onChange={(e) => setName(e.target.value)} />
      <label htmlFor={ids.description}>Description</label>
      <input id={ids.description} value={description} maxLength={256} onChange={(e) => setDescription(e.target.value)} />
      <label htmlFor={ids.url}>Webhook URL (optional)</label>
      <input id={ids.url} type="url" value={url} placeholder="https://…" onChange={(e) => setUrl(e.target.value)} />
      <button type="submit" className="button" disabled={create.isPending}>
        Create topic
      </button>
      <Problems items={problems} />
    </form>
  );
}

function TopicCard({ topic, onSecret }: { topic: NotificationTopic; onSecret: (secret: string) => void }) {
  const [url, setUrl] = useState('');
  const [problems, setProblems] = useState<ApiFieldError[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [confirmingRotate, setConfirmingRotate] = useState(false);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const add = useAddSubscription();
  const remove = useRemoveSubscription();
  const rotate = useRotateSecret();
  const del = useDeleteTopic();
  const urlId = useId();
  const headingId = useId();

  const subscribe = (e: FormEvent) => {
    e.preventDefault();
    const checked = AddSubscriptionRequest.safeParse({ url });
    if (!checked.success) return setProblems(fieldErrorsFromZod(checked.error));
    setProblems([]);
    add.mutate({ topic: topic.name, url: checked.data.url }, { onSuccess: () => setUrl(''), onError: (err) => setProblems(fieldsOf(err)) });
  };

  return (
    <article aria-labelledby={headingId} className="page" style={{ marginTop: 16 }}>
      <header className="page__header">
        <h2 id={headingId}>{topic.name}</h2>
        <div className="page__meta">
          <span className="muted">{topic.description}</span>
          <span className="muted">secret set {formatDateTime(topic.secretRotatedAt)}</span>
          {confirmingRotate ? (
            <span role="group" aria-label={`Confirm rotating the secret of ${topic.name}`}>
              <span className="muted">Receivers must switch to the new secret at once.</span>{' '}
              <button
                type="button"
                disabled={rotate.isPending}
                onClick={() =>
                  rotate.mutate(topic.name, {
                    onSuccess: (r) => {
                      setConfirmingRotate(false);
                      onSecret(r.secret);
                    },
                  })
                }
              >
                Rotate now
              </button>{' '}
              <button type="button" onClick={() => setConfirmingRotate(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" onClick={() => setConfirmingRotate(true)}>
              Rotate secret
            </button>
          )}
          <button type="button" aria-expanded={showDeliveries} onClick={() => setShowDeliveries(!showDeliveries)}>
            Deliveries
          </button>
          {confirming ? (
            <span role="group" aria-label={`Confirm deleting ${topic.name}`}>
              <button type="button" disabled={del.isPending} onClick={() => del.mutate(topic.name)}>
                Delete {topic.name}
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
        </div>
      </header>

      <table className="table" aria-label={`Subscriptions of ${topic.name}`}>
        <thead>
          <tr>
            <th scope="col">Webhook URL</th>
            <th scope="col">Added</th>
            <th scope="col">Operation</th>
          </tr>
        </thead>
        <tbody>
          {topic.subscriptions.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                No subscriptions: jobs that name this topic notify nobody.
              </td>
            </tr>
          )}
          {topic.subscriptions.map((s) => (
            <tr key={s.id}>
              <td>
                <code>{s.url}</code>
              </td>
              <td>{formatDateTime(s.createdAt)}</td>
              <td>
                <button type="button" disabled={remove.isPending} onClick={() => remove.mutate({ topic: topic.name, id: s.id })}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <form onSubmit={subscribe} aria-label={`Add a subscription to ${topic.name}`} className="page__meta" style={{ marginTop: 8 }}>
        <label htmlFor={urlId}>Webhook URL</label>
        <input id={urlId} type="url" value={url} placeholder="https://…" required onChange={(e) => setUrl(e.target.value)} />
        <button type="submit" disabled={add.isPending}>
          Add subscription
        </button>
      </form>
      <Problems items={[...problems, ...(del.isError ? fieldsOf(del.error) : []), ...(rotate.isError ? fieldsOf(rotate.error) : [])]} />
      {showDeliveries && <Deliveries topic={topic.name} />}
    </article>
  );
}

function Deliveries({ topic }: { topic: string }) {
  const { data, isPending, isError, error } = useDeliveries(topic);
  if (isPending) return <p role="status">Loading deliveries…</p>;
  if (isError) return <p role="alert">{error.message}</p>;
  if (!data.items.length) return <p className="muted">Nothing sent yet.</p>;
  return (
    <table className="table" aria-label={`Deliveries of ${topic}`}>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Job</th>
          <th scope="col">URL</th>
          <th scope="col">State</th>
          <th scope="col">Attempts</th>
        </tr>
      </thead>
      <tbody>
        {data.items.map((d) => (
          <tr key={d.id}>
            <td>{d.event}</td>
            <td>
              {d.job.name} {d.job.version}
            </td>
            <td>
              <code>{d.url}</code>
            </td>
            <td>
              {d.state}
              {d.nextAttemptAt && <div className="muted">next attempt {formatDateTime(d.nextAttemptAt)}</div>}
            </td>
            <td>
              <ol>
                {d.attempts.map((a) => (
                  <li key={a.attempt}>
                    {formatDateTime(a.at)} — {a.error ?? `HTTP ${a.httpStatus}`} ({a.durationMs} ms)
                  </li>
                ))}
              </ol>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
