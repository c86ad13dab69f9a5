import { createContext, useContext, useEffect, useRef, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import type { Session } from '@tc/contracts';
import { ApiRequestError, onUnauthorized } from '../../api/client';
import { ErrorState, LoadingState } from '../../ui/states';
import { signInPath, useEndSession, useSessionQuery, useSetupState } from './api';

const SessionContext = createContext<Session | null>(null);

/** The signed-in session; only inside RequireSession, where there always is one. */
export function useCurrentSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useCurrentSession outside RequireSession');
  return session;
}

/**
 * The signed-in part of the console: asks the server who is signed in before showing anything.
 * Nobody: to the setup page while the console has no admin yet, else to sign-in (back here
 * afterwards). A later 401 from any request does the same, and drops the cached answers.
 */
export function RequireSession({ children }: { children: ReactNode }) {
  const session = useSessionQuery();
  const location = useLocation();
  const endSession = useEndSession();
  const here = `${location.pathname}${location.search}`;
  const hereRef = useRef(here);
  useEffect(() => {
    hereRef.current = here;
  }, [here]);
  useEffect(
    () => onUnauthorized(() => endSession(signInPath(hereRef.current), { notice: 'Your session has ended. Sign in again to go on.' })),
    [endSession],
  );

  const signedOut = session.isError && session.error instanceof ApiRequestError && session.error.status === 401;
  const setup = useSetupState(signedOut);

  if (session.isPending) return <LoadingState label="Checking your session…" />;
  if (session.isSuccess) return <SessionContext.Provider value={session.data}>{children}</SessionContext.Provider>;
  if (!signedOut) {
    return <ErrorState title="Could not reach the console" message={session.error.message} onRetry={() => void session.refetch()} />;
  }
  if (setup.isPending) return <LoadingState label="Checking your session…" />;
  if (setup.data?.required) return <Navigate to="/setup" replace />;
  return <Navigate to={signInPath(here)} replace />;
}

/** A page for admins only; others are told so instead (the server refuses them anyway). */
export function RequireAdmin({ children }: { children: ReactNode }) {
  const { user } = useCurrentSession();
  if (user.role !== 'admin') {
    return <ErrorState title="Admins only" message="This page is for the console's admins. Ask one if you need something here." />;
  }
  return <>{children}</>;
}
