import { QueryClient } from '@tanstack/react-query';
import { ApiRequestError } from '../api/client';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 1000,
        // A 4xx will not get better by asking again; network errors and 5xx get a few tries.
        retry: (failureCount, error) =>
          !(error instanceof ApiRequestError && error.status >= 400 && error.status < 500) && failureCount < 2,
      },
    },
  });
}
