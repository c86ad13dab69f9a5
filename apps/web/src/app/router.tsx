import { lazy } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { AppLayout } from './AppLayout';
import { TrainingJobsPage } from '../features/training-jobs/list/TrainingJobsPage';

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

export function createRouter() {
  return createBrowserRouter([
    {
      element: <AppLayout />,
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
        { path: '*', element: <Navigate to="/jobs" replace /> },
      ],
    },
  ]);
}
