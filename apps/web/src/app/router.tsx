import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { AppLayout } from './AppLayout';
import { TrainingJobsPage } from '../features/training-jobs/list/TrainingJobsPage';
import { RequireAdmin, RequireSession } from '../features/auth/session';
import { LoadingState } from '../ui/states';

// The list is the landing page and ships in the first bundle; the rest load when opened.
const CreateTrainingJobPage = lazy(() =>
  import('../features/training-jobs/wizard/CreateTrainingJobPage').then((m) => ({ default: m.CreateTrainingJobPage })),
);
const TrainingJobDetailPage = lazy(() =>
  import('../features/training-jobs/detail/TrainingJobDetailPage').then((m) => ({ default: m.TrainingJobDetailPage })),
);
const JobParametersPage = lazy(() =>
  import('../features/job-parameters/JobParametersPage').then((m) => ({ default: m.JobParametersPage })),
);
const DatasetsPage = lazy(() => import('../features/datasets/DatasetsPage').then((m) => ({ default: m.DatasetsPage })));
const ImagesPage = lazy(() => import('../features/images/ImagesPage').then((m) => ({ default: m.ImagesPage })));
const BudgetPage = lazy(() => import('../features/budget/BudgetPage').then((m) => ({ default: m.BudgetPage })));
const NotificationTopicsPage = lazy(() =>
  import('../features/notification-topics/NotificationTopicsPage').then((m) => ({ default: m.NotificationTopicsPage })),
);
const SignInPage = lazy(() => import('../features/auth/SignInPage').then((m) => ({ default: m.SignInPage })));
const SetupPage = lazy(() => import('../features/auth/SetupPage').then((m) => ({ default: m.SetupPage })));
const AccountPage = lazy(() => import('../features/account/AccountPage').then((m) => ({ default: m.AccountPage })));
const UsersPage = lazy(() => import('../features/admin/UsersPage').then((m) => ({ default: m.UsersPage })));
const AuditLogPage = lazy(() => import('../features/admin/AuditLogPage').then((m) => ({ default: m.AuditLogPage })));

/** The pages outside the console frame (sign-in, setup) wait for their code on their own. */
function Standalone({ children }: { children: ReactNode }) {
  return <Suspense fallback={<LoadingState label="Loading page…" />}>{children}</Suspense>;
}

export function createRouter() {
  return createBrowserRouter([
    {
      path: '/sign-in',
      element: (
        <Standalone>
          <SignInPage />
        </Standalone>
      ),
    },
    {
      path: '/setup',
      element: (
        <Standalone>
          <SetupPage />
        </Standalone>
      ),
    },
    {
      // Everything else needs a session: the gate asks the server first, and sends a stranger to sign in.
      element: (
        <RequireSession>
          <AppLayout />
        </RequireSession>
      ),
      children: [
        { path: '/', element: <Navigate to="/jobs" replace /> },
        { path: '/jobs', element: <TrainingJobsPage /> },
        { path: '/jobs/new', element: <CreateTrainingJobPage /> },
        { path: '/jobs/:name/:version', element: <TrainingJobDetailPage /> },
        { path: '/job-parameters', element: <JobParametersPage /> },
        { path: '/notification-topics', element: <NotificationTopicsPage /> },
        { path: '/datasets', element: <DatasetsPage /> },
        { path: '/images', element: <ImagesPage /> },
        { path: '/budget', element: <BudgetPage /> },
        { path: '/account', element: <AccountPage /> },
        {
          path: '/admin/users',
          element: (
            <RequireAdmin>
              <UsersPage />
            </RequireAdmin>
          ),
        },
        {
          path: '/admin/audit-log',
          element: (
            <RequireAdmin>
              <AuditLogPage />
            </RequireAdmin>
          ),
        },
        { path: '*', element: <Navigate to="/jobs" replace /> },
      ],
    },
  ]);
}
