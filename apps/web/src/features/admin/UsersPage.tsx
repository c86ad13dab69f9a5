import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Badge, Button, Card, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { CreateUserRequest, type Role, type User } from '@tc/contracts';
import { formatDateTime } from '../../lib/format';
import { applyApiError } from '../../lib/form-errors';
import { ConfirmButton } from '../../ui/ConfirmButton';
import { PasswordField } from '../../ui/PasswordField';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import { useCurrentSession } from '../auth/session';
import { useCreateUser, useDeleteUser, useUsers } from './api';

/** The request with its role filled in (the contract's default). */
interface UserFormValues {
  username: string;
  password: string;
  role: Role;
}

/** The usual choice first. */
const ROLES: Role[] = ['user', 'admin'];

const EMPTY: CreateUserRequest = { username: '', password: '', role: 'user' };

/** Admins only: who may sign in to this console, and as what. */
export function UsersPage() {
  const users = useUsers();
  return (
    <Stack component="section" aria-labelledby="users-heading" gap="md" maw={960}>
      <Group align="baseline" gap="md">
        <Title order={1} size="h2" id="users-heading">
          Users
        </Title>
        {users.data && <Text c="dimmed">{users.data.total === 1 ? '1 user' : `${users.data.total} users`}</Text>}
      </Group>
      <CreateUserForm />
      {users.isPending ? (
        <LoadingState label="Loading users…" />
      ) : users.isError ? (
        <ErrorState title="Could not load the users" message={users.error.message} onRetry={() => void users.refetch()} />
      ) : users.data.items.length === 0 ? (
        <EmptyState title="No users yet" />
      ) : (
        <UsersTable users={users.data.items} />
      )}
    </Stack>
  );
}

function CreateUserForm() {
  const create = useCreateUser();
  const form = useForm<CreateUserRequest, unknown, UserFormValues>({
    resolver: zodResolver(CreateUserRequest),
    mode: 'onBlur',
    defaultValues: EMPTY,
  });
  const { errors } = form.formState;
  const submit = form.handleSubmit(async (values) => {
    try {
      await create.mutateAsync(values);
      form.reset(EMPTY);
    } catch (err) {
      applyApiError(err, form.setError, ['username', 'password', 'role']);
    }
  });
  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="Create user" noValidate>
      <Stack gap="sm">
        <Title order={2} size="h4">
          Create user
        </Title>
        <Text size="sm" c="dimmed">
          A user sees only their own jobs, job parameters, datasets and notification topics; an admin sees everyone&apos;s and manages
          users.
        </Text>
        <Group grow align="flex-start">
          <TextInput
            label="Username"
            description="2-32 lowercase letters, digits, “.”, “_” or “-”"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            {...form.register('username')}
            error={errors.username?.message}
          />
          <PasswordField
            label="Password"
            description="At least 10 characters; tell it to the user"
            autoComplete="new-password"
            {...form.register('password')}
            error={errors.password?.message}
          />
          <NativeSelect
            label="Role"
            description="What the user may do"
            data={ROLES}
            {...form.register('role')}
            error={errors.role?.message}
          />
        </Group>
        {errors.root && (
          <Alert color="red" role="alert">
            {errors.root.message}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={create.isPending}>
            Create User
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function UsersTable({ users }: { users: User[] }) {
  const { user: me } = useCurrentSession();
  const remove = useDeleteUser();
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table aria-label="Users" verticalSpacing="sm" highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Username</Table.Th>
            <Table.Th scope="col">Role</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">Operation</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.map((u) => (
            <Table.Tr key={u.username} data-user={u.username}>
              <Table.Td fw={600}>{u.username}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={u.role === 'admin' ? 'grape' : 'blue'}>
                  {u.role}
                </Badge>
              </Table.Td>
              <Table.Td>
                <time dateTime={u.createdAt}>{formatDateTime(u.createdAt)}</time>
              </Table.Td>
              <Table.Td>
                {u.username === me.username ? (
                  <Text size="sm" c="dimmed">
                    You
                  </Text>
                ) : (
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete ${u.username}`}
                    size="compact-xs"
                    variant="outline"
                    color="red"
                    title={`Delete ${u.username}?`}
                    message="Their sessions end and their API tokens stop working at once. What they made (jobs, parameters, datasets, topics) stays, visible to admins."
                    confirmLabel="Delete user"
                    onConfirm={() => remove.mutateAsync(u.username)}
                  />
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
