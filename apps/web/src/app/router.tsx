import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { AppLayout } from './AppLayout';
import { DocumentTitle, type RouteHandle } from './DocumentTitle';
import { NotFoundPage } from './NotFoundPage';
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
const EditParameterSetPage = lazy(() =>
  import('../features/job-parameters/EditParameterSetPage').then((m) => ({ default: m.EditParameterSetPage })),
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
  return (
    <Suspense fallback={<LoadingState label="Loading page…" />}>
      <DocumentTitle />
      {children}
    </Suspense>
  );
}

const title = (t: RouteHandle['title']): RouteHandle => ({ title: t });

export function createRouter() {
  return createBrowserRouter([
    {
      path: '/sign-in',
      handle: title('Sign in'),
      element: (
        <Standalone>
          <SignInPage />
        </Standalone>
      ),
    },
    {
      path: '/setup',
      handle: title('Set up'),
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
        { path: '/jobs', handle: title('Training Jobs'), element: <TrainingJobsPage /> },
        { path: '/jobs/new', handle: title('Create Training Job'), element: <CreateTrainingJobPage /> },
        {
          path: '/jobs/:name/:version',
          handle: title((p) => `${p.name ?? ''} ${p.version ?? ''} · Training Jobs`),
          element: <TrainingJobDetailPage />,
        },
        { path: '/job-parameters', handle: title('Job Parameters'), element: <JobParametersPage /> },
        { path: '/job-parameters/:name/edit', handle: title('Edit Job Parameters'), element: <EditParameterSetPage /> },
        { path: '/notification-topics', handle: title('Notification Topics'), element: <NotificationTopicsPage /> },
        { path: '/datasets', handle: title('Data Management'), element: <DatasetsPage /> },
        { path: '/images', handle: title('Images'), element: <ImagesPage /> },
        { path: '/budget', handle: title('Budget'), element: <BudgetPage /> },
        { path: '/account', handle: title('Account'), element: <AccountPage /> },
        {
          path: '/admin/users',
          handle: title('Users'),
          element: (
            <RequireAdmin>
              <UsersPage />
            </RequireAdmin>
          ),
        },
        {
          path: '/admin/audit-log',
          handle: title('Audit log'),
          element: (
            <RequireAdmin>
              <AuditLogPage />
            </RequireAdmin>
          ),
        },
        { path: '*', handle: title('Page not found'), element: <NotFoundPage /> },
      ],
    },
  ]);
}
