import { useQuery } from '@tanstack/react-query';
import { api } from './client';

// TODO: use @tc/contracts TrainingJobSummary (and JobStatus, TERMINAL_STATUSES / isTerminal)
export type JobStatus = 'Initializing' | 'Queuing' | 'Running' | 'Successful' | 'Running failed' | 'Stopping' | 'Stopped';

// TODO: use @tc/contracts TrainingJobSummary
export interface TrainingJobSummary {
  name: string;
  version: string;
  status: JobStatus;
  /** The failing step and its error when the job failed; null otherwise. */
  reason: string | null;
  /** Flavor id; its type and size are in /resource-pools. */
  flavor: string;
  nodes: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

// TODO: use @tc/contracts TrainingJobList
export interface TrainingJobList {
  items: TrainingJobSummary[];
  total: number;
}

export interface TrainingJobListParams {
  name?: string;
  status?: JobStatus;
  page?: number;
  pageSize?: number;
}

export const TERMINAL_STATUSES: readonly JobStatus[] = ['Successful', 'Running failed', 'Stopped'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** How often the list refreshes while any listed job can still change. */
export const LIST_POLL_INTERVAL_MS = 2000;

/** Query keys, hierarchical so `invalidateQueries({ queryKey: trainingJobKeys.all })` hits everything. */
export const trainingJobKeys = {
  all: ['training-jobs'] as const,
  lists: () => [...trainingJobKeys.all, 'list'] as const,
  list: (params: TrainingJobListParams = {}) => [...trainingJobKeys.lists(), params] as const,
  details: () => [...trainingJobKeys.all, 'detail'] as const,
  detail: (name: string, version: string) => [...trainingJobKeys.details(), name, version] as const,
};

export function fetchTrainingJobs(params: TrainingJobListParams = {}, signal?: AbortSignal): Promise<TrainingJobList> {
  return api.get<TrainingJobList>('/training-jobs', { query: { ...params }, signal });
}

/** Poll while anything is non-terminal; stop once every listed job has settled. */
export function listRefetchInterval(data: TrainingJobList | undefined): number | false {
  return data?.items.some((job) => !isTerminal(job.status)) ? LIST_POLL_INTERVAL_MS : false;
}

export function useTrainingJobs(params: TrainingJobListParams = {}) {
  return useQuery({
    queryKey: trainingJobKeys.list(params),
    queryFn: ({ signal }) => fetchTrainingJobs(params, signal),
    refetchInterval: (query) => listRefetchInterval(query.state.data),
  });
}
