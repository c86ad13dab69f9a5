import { useEffect } from 'react';
import { useForm } from 'react-hook-form';
import { useQueryClient } from '@tanstack/react-query';
import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Button, Stack, TextInput } from '@mantine/core';
import { PasswordField } from '../../ui/PasswordField';
import { Navigate, useLocation, useNavigate, useSearchParams } from 'react-router';
import { SignInRequest } from '@tc/contracts';
import { applyApiError } from '../../lib/form-errors';
import { AuthFrame } from './AuthFrame';
import { safeNext, useSetupState, useSignIn, type SignInNotice } from './api';

function noticeOf(state: unknown): string | null {
  return typeof state === 'object' && state !== null && typeof (state as SignInNotice).notice === 'string'
    ? (state as SignInNotice).notice
    : null;
}

/** Username and password; then the page the user wanted (`?next=`), or the job list. */
export function SignInPage() {
  const [params] = useSearchParams();
  const notice = noticeOf(useLocation().state);
  const navigate = useNavigate();
  const setup = useSetupState();
  const signIn = useSignIn();
  const qc = useQueryClient();
  // Whatever the pages just left still had in flight when the session ended is dropped too.
  useEffect(() => {
    qc.removeQueries({ predicate: (q) => q.getObserversCount() === 0 });
  }, [qc]);
  const form = useForm<SignInRequest>({
    resolver: zodResolver(SignInRequest),
    mode: 'onSubmit',
    defaultValues: { username: '', password: '' },
  });
  const { errors } = form.formState;

  const submit = form.handleSubmit(async (values) => {
    try {
      await signIn.mutateAsync(values);
      void navigate(safeNext(params.get('next')), { replace: true });
    } catch (err) {
      form.resetField('password');
      applyApiError(err, form.setError, ['username', 'password']);
    }
  });

  // A console without any account yet is claimed on the setup page.
  if (setup.data?.required) return <Navigate to="/setup" replace />;

  return (
    <AuthFrame title="Sign in">
      {notice && (
        <Alert color="blue" variant="light" role="status">
          {notice}
        </Alert>
      )}
      <Stack component="form" gap="sm" onSubmit={submit} aria-label="Sign in">
        <TextInput
          label="Username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          data-autofocus
          {...form.register('username')}
          error={errors.username?.message}
        />
        <PasswordField label="Password" autoComplete="current-password" {...form.register('password')} error={errors.password?.message} />
        {errors.root && (
          <Alert color="red" role="alert">
            {errors.root.message}
          </Alert>
        )}
        <Button type="submit" loading={signIn.isPending} fullWidth>
          Sign In
        </Button>
      </Stack>
    </AuthFrame>
  );
}
