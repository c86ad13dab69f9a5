import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Anchor, Button, Stack, Text, TextInput } from '@mantine/core';
import { PasswordField } from '../../ui/PasswordField';
import { Link, useNavigate } from 'react-router';
import { SetupRequest } from '@tc/contracts';
import { applyApiError } from '../../lib/form-errors';
import { ErrorState, LoadingState } from '../../ui/states';
import { AuthFrame } from './AuthFrame';
import { useSetup, useSetupState } from './api';

/** The first admin of a console started without ADMIN_PASSWORD, claimed with the code from the server log. */
export function SetupPage() {
  const state = useSetupState();
  return (
    <AuthFrame title="Set up the console">
      {state.isPending ? (
        <LoadingState label="Checking the console…" />
      ) : state.isError ? (
        <ErrorState title="Could not reach the console" message={state.error.message} onRetry={() => void state.refetch()} />
      ) : state.data.required ? (
        <SetupForm />
      ) : (
        <Stack gap="xs">
          <Text>This console already has an admin.</Text>
          <Anchor component={Link} to="/sign-in">
            Sign in
          </Anchor>
        </Stack>
      )}
    </AuthFrame>
  );
}

function SetupForm() {
  const navigate = useNavigate();
  const setup = useSetup();
  const form = useForm<SetupRequest>({
    resolver: zodResolver(SetupRequest),
    mode: 'onBlur',
    defaultValues: { setupCode: '', username: 'admin', password: '' },
  });
  const { errors } = form.formState;
  const submit = form.handleSubmit(async (values) => {
    try {
      await setup.mutateAsync(values);
      void navigate('/jobs', { replace: true });
    } catch (err) {
      applyApiError(err, form.setError, ['setupCode', 'username', 'password']);
    }
  });

  return (
    <Stack component="form" gap="sm" onSubmit={submit} aria-label="Create the first admin">
      <Text size="sm" c="dimmed">
        The console has no accounts yet. Enter the setup code the server printed to its log (also in the file <code>setup-code</code> of its
        data folder), and choose the first admin&apos;s name and password.
      </Text>
      <TextInput
        label="Setup code"
        autoComplete="off"
        spellCheck={false}
        {...form.register('setupCode')}
        error={errors.setupCode?.message}
      />
      <TextInput
        label="Username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        {...form.register('username')}
        error={errors.username?.message}
      />
      <PasswordField
        label="Password"
        description="At least 10 characters"
        autoComplete="new-password"
        {...form.register('password')}
        error={errors.password?.message}
      />
      {errors.root && (
        <Alert color="red" role="alert">
          {errors.root.message}
        </Alert>
      )}
      <Button type="submit" loading={setup.isPending} fullWidth>
        Create Admin
      </Button>
    </Stack>
  );
}
