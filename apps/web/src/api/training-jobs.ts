import {
  isTerminal,
  type CreateTrainingJobInput,
  type JobStatus,
  type LogPage,
  type TrainingJob,
  type TrainingJobList,
  type TrainingJobSummary,
} from '@tc/contracts';
import { api, apiRequest } from './client';

export { isTerminal, TERMINAL_STATUSES } from '@tc/contracts';
export type { JobStatus, TrainingJob, TrainingJobList, TrainingJobSummary };

export interface TrainingJobListParams {
  name?: string;
  status?: JobStatus;
  page?: number;
  pageSize?: number;
}

/** How often lists and details refresh while a shown job can still change. */
export const LIST_POLL_INTERVAL_MS = 2000;

/** Query keys, hierarchical so `invalidateQueries({ queryKey: trainingJobKeys.all })` hits everything. */
export const trainingJobKeys = {
  all: ['training-jobs'] as const,
  lists: () => [...trainingJobKeys.all, 'list'] as const,
  list: (params: TrainingJobListParams = {}) => [...trainingJobKeys.lists(), params] as const,
  details: () => [...trainingJobKeys.all, 'detail'] as const,
  detail: (name: string, version: string) => [...trainingJobKeys.details(), name, version] as const,
  versions: (name: string) => [...trainingJobKeys.all, 'versions', name] as const,
};

const jobPath = (name: string, version: string) => `/training-jobs/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;

export function fetchTrainingJobs(params: TrainingJobListParams = {}, signal?: AbortSignal): Promise<TrainingJobList> {
  return api.get<TrainingJobList>('/training-jobs', { query: { ...params }, signal });
}

export function fetchTrainingJob(name: string, version: string, signal?: AbortSignal): Promise<TrainingJob> {
  return api.get<TrainingJob>(jobPath(name, version), { signal });
}

export function createTrainingJob(body: CreateTrainingJobInput, idempotencyKey: string): Promise<TrainingJob> {
  return api.post<TrainingJob>('/training-jobs', body, { headers: { 'idempotency-key': idempotencyKey } });
}

export function stopTrainingJob(name: string, version: string): Promise<TrainingJob> {
  return api.post<TrainingJob>(`${jobPath(name, version)}/stop`);
}

export function deleteTrainingJob(name: string, version: string): Promise<void> {
  return apiRequest<void>(jobPath(name, version), { method: 'DELETE' });
}

export function fetchLogPage(
  name: string,
  version: string,
  params: { node: number; cursor?: string; limit?: number },
  signal?: AbortSignal,
): Promise<LogPage> {
  return api.get<LogPage>(`${jobPath(name, version)}/logs`, { query: { ...params }, signal });
}

export function logDownloadUrl(name: string, version: string, node: number): string {
  return `/api/v1${jobPath(name, version)}/logs/download?node=${node}`;
}

/** Poll while anything is non-terminal; stop once every listed job has settled. */
export function listRefetchInterval(data: TrainingJobList | undefined): number | false {
  return data?.items.some((job) => !isTerminal(job.status)) ? LIST_POLL_INTERVAL_MS : false;
}

/** The version the server will assign next to `name`, from the versions it has (V001 when none). */
export function nextVersion(versions: readonly string[]): string {
  const highest = versions.reduce((max, v) => Math.max(max, Number(/^V(\d+)$/.exec(v)?.[1] ?? 0)), 0);
  return `V${String(highest + 1).padStart(3, '0')}`;
}
