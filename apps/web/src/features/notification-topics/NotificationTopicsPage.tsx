import { useState } from 'react';
import { Alert, Button, Code, CopyButton, Group, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { zodResolver } from '@hookform/resolvers/zod';
import { useForm, type FieldPath, type FieldValues, type Resolver, type UseFormSetError } from 'react-hook-form';
import { AddSubscriptionRequest, CreateNotificationTopicRequest, fieldErrorsFromZod, type NotificationTopic } from '@tc/contracts';
import { ApiRequestError } from '../../api/client';
import { formatDateTime } from '../../lib/format';
import { ConfirmButton } from '../../ui/ConfirmButton';
import { Pager } from '../../ui/Pager';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import {
  useAddSubscription,
  useCreateTopic,
  useDeleteTopic,
  useDeliveries,
  useNotificationTopics,
  useRemoveSubscription,
  useRotateSecret,
} from './api';
import { SearchByName } from '../../ui/SearchByName';

export const PAGE_SIZE = 20;

/** A refusal from the server: its field errors onto the form's fields, anything else as the form's own. */
function showRefusal<T extends FieldValues>(err: unknown, setError: UseFormSetError<T>, fieldOf: (path: string) => FieldPath<T> | null) {
  const fields = err instanceof ApiRequestError ? err.fields : [];
  let placed = false;
  for (const f of fields) {
    const field = fieldOf(f.path);
    if (field) {
      setError(field, { type: 'server', message: f.message });
      placed = true;
    }
  }
  if (!placed) setError('root', { message: err instanceof Error ? err.message : String(err) });
}

/** The secret exists in the browser only here, until the user dismisses it. */
function SecretOnce({ topic, secret, onDismiss }: { topic: string; secret: string; onDismiss: () => void }) {
  return (
    <Alert role="status" color="blue" variant="light" title={`Signing secret of ${topic}`} aria-label={`Signing secret of ${topic}`}>
      <Stack gap="xs" align="flex-start">
        <Text size="sm">
          Copy it now: it is not shown again. Receivers use it to check the <Code>X-TC-Signature</Code> header (HMAC-SHA256 of{' '}
          <Code>&lt;X-TC-Timestamp&gt;.&lt;raw body&gt;</Code>).
        </Text>
        <Code block style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
          {secret}
        </Code>
        <Group gap="xs">
          <CopyButton value={secret}>
            {({ copied, copy }) => (
              <Button size="xs" variant="default" onClick={copy}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            )}
          </CopyButton>
          <Button size="xs" onClick={onDismiss}>
            I have saved it
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

/** Topics with webhook subscriptions; jobs name a topic in the wizard's Notification step. */
export function NotificationTopicsPage() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [name] = useDebouncedValue(search.trim(), 300);
  const [secret, setSecret] = useState<{ topic: string; secret: string } | null>(null);
  const { data, error, isPending, isError, refetch } = useNotificationTopics({ name: name || undefined, page, pageSize: PAGE_SIZE });

  return (
    <Stack component="section" aria-labelledby="notification-topics-heading" gap="md">
      <Group align="baseline" gap="md">
        <Title order={1} size="h2" id="notification-topics-heading">
          Notification Topics
        </Title>
        {data && <Text c="dimmed">{data.total === 1 ? '1 topic' : `${data.total} topics`}</Text>}
      </Group>

      {secret && <SecretOnce topic={secret.topic} secret={secret.secret} onDismiss={() => setSecret(null)} />}
      <CreateTopicForm onCreated={(topic, s) => setSecret({ topic, secret: s })} />

      <SearchByName value={search} onChange={setSearch} onPageReset={() => setPage(1)} />

      {isPending ? (
        <LoadingState label="Loading topics…" />
      ) : isError && !data ? (
        <ErrorState title="Topics could not be loaded" message={error.message} onRetry={() => void refetch()} />
      ) : data.items.length === 0 ? (
        <EmptyState title={name ? 'No topic matches' : 'No topics yet'}>
          <Text c="dimmed" size="sm">
            Create one above and subscribe a webhook to it.
          </Text>
        </EmptyState>
      ) : (
        <>
          {data.items.map((t) => (
            <TopicCard key={t.name} topic={t} onSecret={(s) => setSecret({ topic: t.name, secret: s })} />
          ))}
          <Pager page={page} total={data.total} pageSize={PAGE_SIZE} onChange={setPage} />
        </>
      )}
    </Stack>
  );
}

interface TopicValues {
  name: string;
  description: string;
  url: string;
}

/** Form values → the create request: an empty description or URL means "none". */
function toCreateRequest(v: TopicValues) {
  return {
    name: v.name.trim(),
    description: v.description.trim() === '' ? undefined : v.description,
    subscriptions: v.url.trim() === '' ? undefined : [{ url: v.url.trim() }],
  };
}

const topicField = (path: string): FieldPath<TopicValues> | null =>
  path === 'name' || path === 'description' ? path : path.startsWith('subscriptions') ? 'url' : null;

/** The create request's own schema checks the form; its issues come back on the fields they name. */
const topicResolver: Resolver<TopicValues, unknown, CreateNotificationTopicRequest> = async (values) => {
  const checked = CreateNotificationTopicRequest.safeParse(toCreateRequest(values));
  if (checked.success) return { values: checked.data, errors: {} };
  const errors: Record<string, { type: string; message: string }> = {};
  for (const f of fieldErrorsFromZod(checked.error)) {
    const field = topicField(f.path) ?? 'name';
    errors[field] ??= { type: 'validation', message: f.message };
  }
  return { values: {}, errors };
};

function CreateTopicForm({ onCreated }: { onCreated: (topic: string, secret: string) => void }) {
  const create = useCreateTopic();
  const form = useForm<TopicValues, unknown, CreateNotificationTopicRequest>({
    defaultValues: { name: '', description: '', url: '' },
    resolver: topicResolver,
    mode: 'onTouched',
  });
  const errors = form.formState.errors;

  const submit = form.handleSubmit(async (request) => {
    try {
      const created = await create.mutateAsync(request);
      onCreated(created.name, created.secret);
      form.reset();
    } catch (err) {
      showRefusal(err, form.setError, topicField);
    }
  });

  return (
    <Paper withBorder p="md">
      <form noValidate onSubmit={(e) => void submit(e)} aria-label="Create topic">
        <Stack gap="sm">
          <Title order={2} size="h4">
            Create topic
          </Title>
          <Group align="flex-start" gap="sm" wrap="wrap">
            <TextInput
              label="Topic name"
              required
              autoComplete="off"
              w={220}
              maw="100%"
              error={errors.name?.message}
              {...form.register('name')}
            />
            <TextInput label="Description" w={260} maw="100%" error={errors.description?.message} {...form.register('description')} />
            <TextInput
              label="Webhook URL (optional)"
              type="url"
              placeholder="https://…"
              w={320}
              maw="100%"
              error={errors.url?.message}
              {...form.register('url')}
            />
          </Group>
          {errors.root && (
            <Text role="alert" c="red" size="sm">
              {errors.root.message}
            </Text>
          )}
          <Group>
            <Button type="submit" loading={form.formState.isSubmitting}>
              Create topic
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function TopicCard({ topic, onSecret }: { topic: NotificationTopic; onSecret: (secret: string) => void }) {
  const [showDeliveries, setShowDeliveries] = useState(false);
  const remove = useRemoveSubscription();
  const rotate = useRotateSecret();
  const del = useDeleteTopic();
  const headingId = `topic-${topic.name}`;

  return (
    <Paper component="article" withBorder p="md" aria-labelledby={headingId}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <Stack gap={2}>
            <Title order={2} size="h4" id={headingId}>
              {topic.name}
            </Title>
            {topic.description && <Text size="sm">{topic.description}</Text>}
            <Text size="xs" c="dimmed">
              Secret set {formatDateTime(topic.secretRotatedAt)}
            </Text>
          </Stack>
          <Group gap={6}>
            <ConfirmButton
              label="Rotate secret"
              ariaLabel={`Rotate the secret of ${topic.name}`}
              size="xs"
              variant="light"
              title={`Rotate the secret of ${topic.name}?`}
              message="Receivers must switch to the new secret at once: calls signed with the old one stop."
              confirmLabel="Rotate now"
              onConfirm={async () => onSecret((await rotate.mutateAsync(topic.name)).secret)}
            />
            <Button size="xs" variant="light" aria-expanded={showDeliveries} onClick={() => setShowDeliveries(!showDeliveries)}>
              Deliveries
            </Button>
            <ConfirmButton
              label="Delete"
              ariaLabel={`Delete ${topic.name}`}
              size="xs"
              variant="light"
              color="red"
              title={`Delete ${topic.name}?`}
              message="Its subscriptions go with it; jobs that name it notify nobody."
              confirmLabel="Delete topic"
              onConfirm={() => del.mutateAsync(topic.name)}
            />
          </Group>
        </Group>

        <Table.ScrollContainer minWidth={480}>
          <Table aria-label={`Subscriptions of ${topic.name}`} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Webhook URL</Table.Th>
                <Table.Th scope="col">Added</Table.Th>
                <Table.Th scope="col">Operation</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {topic.subscriptions.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={3}>
                    <Text size="sm" c="dimmed">
                      No subscriptions: jobs that name this topic notify nobody.
                    </Text>
                  </Table.Td>
                </Table.Tr>
              )}
              {topic.subscriptions.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>
                    <Code style={{ wordBreak: 'break-all' }}>{s.url}</Code>
                  </Table.Td>
                  <Table.Td>{formatDateTime(s.createdAt)}</Table.Td>
                  <Table.Td>
                    <ConfirmButton
                      label="Remove"
                      ariaLabel={`Remove ${s.url} from ${topic.name}`}
                      size="compact-xs"
                      variant="light"
                      color="red"
                      title={`Remove this subscription from ${topic.name}?`}
                      message={s.url}
                      confirmLabel="Remove"
                      onConfirm={() => remove.mutateAsync({ topic: topic.name, id: s.id })}
                    />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>

        <AddSubscriptionForm topic={topic.name} />
        {showDeliveries && <Deliveries topic={topic.name} />}
      </Stack>
    </Paper>
  );
}

const subscriptionResolver = zodResolver(AddSubscriptionRequest);

function AddSubscriptionForm({ topic }: { topic: string }) {
  const add = useAddSubscription();
  const form = useForm<AddSubscriptionRequest>({ defaultValues: { url: '' }, resolver: subscriptionResolver, mode: 'onTouched' });
  const errors = form.formState.errors;
  const submit = form.handleSubmit(async ({ url }) => {
    try {
      await add.mutateAsync({ topic, url });
      form.reset();
    } catch (err) {
      showRefusal(err, form.setError, (path) => (path === 'url' ? 'url' : null));
    }
  });
  return (
    <form noValidate onSubmit={(e) => void submit(e)} aria-label={`Add a subscription to ${topic}`}>
      <Group align="flex-start" gap="sm" wrap="wrap">
        <TextInput
          label="Webhook URL"
          type="url"
          placeholder="https://…"
          required
          w={360}
          maw="100%"
          error={errors.url?.message ?? errors.root?.message}
          {...form.register('url')}
        />
        <Button type="submit" mt={25} variant="default" loading={form.formState.isSubmitting}>
          Add subscription
        </Button>
      </Group>
    </form>
  );
}

function Deliveries({ topic }: { topic: string }) {
  const { data, isPending, isError, error } = useDeliveries(topic);
  if (isPending) return <LoadingState label="Loading deliveries…" />;
  if (isError) return <ErrorState title="Deliveries could not be loaded" message={error.message} />;
  if (!data.items.length)
    return (
      <Text size="sm" c="dimmed">
        Nothing sent yet.
      </Text>
    );
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table aria-label={`Deliveries of ${topic}`} verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Event</Table.Th>
            <Table.Th scope="col">Job</Table.Th>
            <Table.Th scope="col">URL</Table.Th>
            <Table.Th scope="col">State</Table.Th>
            <Table.Th scope="col">Attempts</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.items.map((d) => (
            <Table.Tr key={d.id}>
              <Table.Td>{d.event}</Table.Td>
              <Table.Td>
                {d.job.name} {d.job.version}
              </Table.Td>
              <Table.Td>
                <Code style={{ wordBreak: 'break-all' }}>{d.url}</Code>
              </Table.Td>
              <Table.Td>
                {d.state}
                {d.nextAttemptAt && (
                  <Text size="xs" c="dimmed">
                    next attempt {formatDateTime(d.nextAttemptAt)}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Stack gap={2}>
                  {d.attempts.map((a) => (
                    <Text key={a.attempt} size="xs">
                      {a.attempt}. {formatDateTime(a.at)} — {a.error ?? `HTTP ${a.httpStatus}`} ({a.durationMs} ms)
                    </Text>
                  ))}
                </Stack>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
