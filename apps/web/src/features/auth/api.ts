import { useCallback } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import type { ChangePasswordRequest, PasswordChanged, Session, SetupRequest, SetupState, SignInRequest } from '@tc/contracts';
import { api, forgetSession, rememberSession } from '../../api/client';

export const authKeys = {
  all: ['auth'] as const,
  session: () => [...authKeys.all, 'session'] as const,
  setup: () => [...authKeys.all, 'setup'] as const,
};

export function fetchSession(signal?: AbortSignal): Promise<Session> {
  return api.get<Session>('/auth/session', { signal }).then(rememberSession);
}

/** The signed-in session; read once when the console opens (any later 401 sends the user to sign in). */
export function useSessionQuery() {
  return useQuery({
    queryKey: authKeys.session(),
    queryFn: ({ signal }) => fetchSession(signal),
    staleTime: Infinity,
    retry: false,
    refetchOnWindowFocus: false,
  });
}

/** Whether the console still waits for its first admin. */
export function useSetupState(enabled = true) {
  return useQuery({
    queryKey: authKeys.setup(),
    queryFn: ({ signal }) => api.get<SetupState>('/auth/setup', { signal }),
    enabled,
    retry: false,
  });
}

/** A new session replaces whatever another user had cached in this tab. */
function useStartSession<TBody>(path: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: TBody) => api.post<Session>(path, body).then(rememberSession),
    onSuccess: (session) => {
      qc.removeQueries();
      qc.setQueryData(authKeys.session(), session);
    },
  });
}

export const useSignIn = () => useStartSession<SignInRequest>('/auth/sign-in');
export const useSetup = () => useStartSession<SetupRequest>('/auth/setup');

/** Ends the session on the server; the caller leaves the console with useEndSession. */
export function useSignOut() {
  return useMutation({ mutationFn: () => api.post<void>('/auth/sign-out') });
}

/** The server ends the user's other sessions on a change (this one stays), and their API tokens if asked. */
export function useChangePassword() {
  return useMutation({ mutationFn: (body: ChangePasswordRequest) => api.post<PasswordChanged>('/auth/password', body) });
}

/**
 * Leaves the signed-in part of the console: forgets the CSRF token, goes to `to`, and drops
 * every cached answer (the next user of this tab must not see them). Navigating first keeps the
 * pages being left from asking the server again.
 */
export function useEndSession() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return useCallback(
    (to: string, state?: SignInNotice) => {
      forgetSession();
      void navigate(to, { replace: true, state });
      qc.removeQueries();
    },
    [navigate, qc],
  );
}

/** What the sign-in page says above its form after the console sent the user there. */
export interface SignInNotice {
  notice: string;
}

/** Where a signed-out user goes so that signing in brings them back to `here`. */
export function signInPath(here: string): string {
  return here === '/' || here.startsWith('/sign-in') || here.startsWith('/setup')
    ? '/sign-in'
    : `/sign-in?next=${encodeURIComponent(here)}`;
}

/** The page to open after sign-in: `next` when it is a path of this console, else the job list. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/jobs';
  if (next.startsWith('/sign-in') || next.startsWith('/setup')) return '/jobs';
  return next;
}
