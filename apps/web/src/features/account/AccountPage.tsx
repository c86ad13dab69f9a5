import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useQueryClient } from '@tanstack/react-query';
import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Badge, Button, Card, Checkbox, Code, CopyButton, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { ChangePasswordRequest, CreateApiTokenRequest, type ApiToken, type CreatedApiToken, type PasswordChanged } from '@tc/contracts';
import { formatDateTime } from '../../lib/format';
import { applyApiError } from '../../lib/form-errors';
import { ConfirmButton } from '../../ui/ConfirmButton';
import { PasswordField } from '../../ui/PasswordField';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import { useChangePassword } from '../auth/api';
import { useCurrentSession } from '../auth/session';
import { tokenKeys, useApiTokens, useCreateToken, useRevokeToken } from './api';

/** The signed-in user: who they are, their password, and their API tokens for scripts. */
export function AccountPage() {
  const { user } = useCurrentSession();
  return (
    <Stack component="section" aria-labelledby="account-heading" gap="md" maw={960}>
      <Title order={1} size="h2" id="account-heading">
        Account
      </Title>
      <Card withBorder aria-label="Signed in as">
        <Group gap="lg" wrap="wrap">
          <div>
            <Text size="xs" c="dimmed">
              Username
            </Text>
            <Text fw={600} data-testid="account-username">
              {user.username}
            </Text>
          </div>
          <div>
            <Text size="xs" c="dimmed">
              Role
            </Text>
            <Badge variant="light" color={user.role === 'admin' ? 'grape' : 'blue'} data-testid="account-role">
              {user.role}
            </Badge>
          </div>
          <div>
            <Text size="xs" c="dimmed">
              Member since
            </Text>
            <Text>
              <time dateTime={user.createdAt}>{formatDateTime(user.createdAt)}</time>
            </Text>
          </div>
        </Group>
      </Card>
      <ChangePasswordForm />
      <ApiTokens />
    </Stack>
  );
}

/** What the change ended, in words. */
function changedMessage(r: PasswordChanged): string {
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const sessions = r.sessionsEnded
    ? `${plural(r.sessionsEnded, 'other session')} ${r.sessionsEnded === 1 ? 'was' : 'were'} signed out`
    : 'You had no other sessions';
  const tokens = r.tokensRevoked
    ? `${plural(r.tokensRevoked, 'API token')} ${r.tokensRevoked === 1 ? 'was' : 'were'} revoked`
    : 'your API tokens keep working';
  return `Your password was changed. ${sessions}; ${tokens}. You stay signed in here.`;
}

function ChangePasswordForm() {
  const change = useChangePassword();
  const qc = useQueryClient();
  const tokens = useApiTokens();
  const tokenCount = tokens.data?.items.length ?? 0;
  const [done, setDone] = useState<PasswordChanged | null>(null);
  const form = useForm<ChangePasswordRequest>({
    resolver: zodResolver(ChangePasswordRequest),
    mode: 'onBlur',
    defaultValues: { currentPassword: '', newPassword: '', revokeTokens: false },
  });
  const { errors } = form.formState;
  const submit = form.handleSubmit(async (values) => {
    setDone(null);
    try {
      const result = await change.mutateAsync(values);
      setDone(result);
      form.reset({ currentPassword: '', newPassword: '', revokeTokens: false });
      if (result.tokensRevoked) await qc.invalidateQueries({ queryKey: tokenKeys.all });
    } catch (err) {
      applyApiError(err, form.setError, ['currentPassword', 'newPassword', 'revokeTokens']);
    }
  });
  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="Change password">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Change password
        </Title>
        <Text size="sm" c="dimmed">
          Changing it signs you out everywhere else; you stay signed in here. API tokens keep working unless you revoke them too.
        </Text>
        <Group grow align="flex-start">
          <PasswordField
            label="Current password"
            autoComplete="current-password"
            {...form.register('currentPassword')}
            error={errors.currentPassword?.message}
          />
          <PasswordField
            label="New password"
            description="At least 10 characters"
            autoComplete="new-password"
            {...form.register('newPassword')}
            error={errors.newPassword?.message}
          />
        </Group>
        <Checkbox
          label={`Also revoke my API tokens (${tokenCount})`}
          description="Scripts using them are refused from then on; create new ones afterwards."
          disabled={tokenCount === 0}
          {...form.register('revokeTokens')}
          error={errors.revokeTokens?.message}
        />
        {errors.root && (
          <Alert color="red" role="alert">
            {errors.root.message}
          </Alert>
        )}
        {done && (
          <Alert color="green" role="status" aria-label="Password changed">
            {changedMessage(done)}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={change.isPending}>
            Change Password
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function ApiTokens() {
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const tokens = useApiTokens();
  return (
    <Card withBorder component="section" aria-labelledby="api-tokens-heading">
      <Stack gap="sm">
        <Title order={2} size="h4" id="api-tokens-heading">
          API tokens
        </Title>
        <Text size="sm" c="dimmed">
          Scripts and <code>curl</code> use a token instead of a password: send it as <code>Authorization: Bearer &lt;token&gt;</code>. A
          token acts as you until it is revoked.
        </Text>
        {created && <NewToken token={created} onDismiss={() => setCreated(null)} />}
        <CreateTokenForm onCreated={setCreated} />
        {tokens.isPending ? (
          <LoadingState label="Loading API tokens…" />
        ) : tokens.isError ? (
          <ErrorState title="Could not load your API tokens" message={tokens.error.message} onRetry={() => void tokens.refetch()} />
        ) : tokens.data.items.length === 0 ? (
          <EmptyState title="No API tokens yet">
            <Text size="sm" c="dimmed">
              Create one above for each script, so each can be revoked on its own.
            </Text>
          </EmptyState>
        ) : (
          <TokensTable tokens={tokens.data.items} />
        )}
      </Stack>
    </Card>
  );
}

/** The token exists in the browser only here, until the user dismisses it. */
function NewToken({ token, onDismiss }: { token: CreatedApiToken; onDismiss: () => void }) {
  return (
    <Alert color="yellow" variant="light" role="alert" title="New API token">
      <Stack gap="xs">
        <Text size="sm">
          <strong>{token.name}</strong> is created. Copy the token now: it is shown only this once, and cannot be read again later.
        </Text>
        <Code block data-testid="new-api-token">
          {token.token}
        </Code>
        <Group gap="xs">
          <CopyButton value={token.token}>
            {({ copied, copy }) => (
              <Button size="xs" variant={copied ? 'filled' : 'outline'} color={copied ? 'teal' : 'blue'} onClick={copy}>
                {copied ? 'Copied' : 'Copy token'}
              </Button>
            )}
          </CopyButton>
          <Button size="xs" variant="default" onClick={onDismiss}>
            I have saved it
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (token: CreatedApiToken) => void }) {
  const create = useCreateToken();
  const form = useForm<CreateApiTokenRequest>({
    resolver: zodResolver(CreateApiTokenRequest),
    mode: 'onSubmit',
    defaultValues: { name: '' },
  });
  const { errors } = form.formState;
  const submit = form.handleSubmit(async (values) => {
    try {
      onCreated(await create.mutateAsync(values));
      form.reset({ name: '' });
    } catch (err) {
      applyApiError(err, form.setError, ['name']);
    }
  });
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label="Create API token">
      <Group align="flex-start" gap="sm" wrap="wrap">
        <TextInput
          label="Token name"
          placeholder="e.g. nightly-training"
          maxLength={64}
          w={300}
          {...form.register('name')}
          error={errors.name?.message}
        />
        <Button type="submit" mt={24} loading={create.isPending}>
          Create Token
        </Button>
      </Group>
      {errors.root && (
        <Alert color="red" role="alert">
          {errors.root.message}
        </Alert>
      )}
    </Stack>
  );
}

function TokensTable({ tokens }: { tokens: ApiToken[] }) {
  const revoke = useRevokeToken();
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table aria-label="API tokens" verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Prefix</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">Last used</Table.Th>
            <Table.Th scope="col">Operation</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tokens.map((t) => (
            <Table.Tr key={t.id} data-token={t.name}>
              <Table.Td fw={600}>{t.name}</Table.Td>
              <Table.Td>
                <Code>{t.prefix}…</Code>
              </Table.Td>
              <Table.Td>
                <time dateTime={t.createdAt}>{formatDateTime(t.createdAt)}</time>
              </Table.Td>
              <Table.Td>{t.lastUsedAt ? <time dateTime={t.lastUsedAt}>{formatDateTime(t.lastUsedAt)}</time> : 'Never'}</Table.Td>
              <Table.Td>
                <ConfirmButton
                  label="Revoke"
                  ariaLabel={`Revoke ${t.name}`}
                  size="compact-xs"
                  variant="outline"
                  color="red"
                  title={`Revoke ${t.name}?`}
                  message="Scripts that use this token are refused from now on. This cannot be undone."
                  confirmLabel="Revoke token"
                  onConfirm={() => revoke.mutateAsync(t.id)}
                />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
