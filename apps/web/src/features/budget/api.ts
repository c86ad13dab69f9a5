import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { Budget, JobConsumptionList } from '@tc/contracts';
import { api } from '../../api/client';

export const budgetKeys = {
  all: ['budget'] as const,
  summary: () => [...budgetKeys.all, 'summary'] as const,
  jobs: (page: number, pageSize: number) => [...budgetKeys.all, 'jobs', page, pageSize] as const,
};

/** Running jobs consume as time passes, so the figures refresh on their own. */
const REFRESH_MS = 10_000;

export function useBudget() {
  return useQuery({
    queryKey: budgetKeys.summary(),
    queryFn: ({ signal }) => api.get<Budget>('/budget', { signal }),
    refetchInterval: REFRESH_MS,
  });
}

export function useBudgetJobs(page: number, pageSize: number) {
  return useQuery({
    queryKey: budgetKeys.jobs(page, pageSize),
    queryFn: ({ signal }) => api.get<JobConsumptionList>('/budget/jobs', { query: { page, pageSize }, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
  });
}
