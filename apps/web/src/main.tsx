import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router';
import { ApiRequestError } from './api/client';
import { TrainingJobsPage } from './features/training-jobs/list/TrainingJobsPage';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 1000,
      // A 4xx will not get better by asking again; network errors and 5xx get a few tries.
      retry: (failureCount, error) => !(error instanceof ApiRequestError && error.status >= 400 && error.status < 500) && failureCount < 2,
    },
  },
});

const router = createBrowserRouter([
  { path: '/', element: <Navigate to="/jobs" replace /> },
  { path: '/jobs', element: <TrainingJobsPage /> },
  { path: '*', element: <Navigate to="/jobs" replace /> },
]);

function App() {
  return (
    <div className="app">
      <header className="app__bar">
        <span className="app__brand">Training Console</span>
      </header>
      <main className="app__main">
        <RouterProvider router={router} />
      </main>
    </div>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
