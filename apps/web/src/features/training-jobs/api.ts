import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  isTerminal,
  type CreateTrainingJobInput,
  type JobOutputList,
  type JobUsage,
  type JobStatus,
  type LogPage,
  type TrainingJob,
  type TrainingJobList,
  type TrainingJobSummary,
  type JobMetrics,
  type VersionComparison,
} from '@tc/contracts';
import { api, apiFetch, ApiRequestError, apiRequest } from '../../api/client';
import { configKeys } from '../job-parameters/api';

export { isTerminal, TERMINAL_STATUSES } from '@tc/contracts';
export type { JobStatus, TrainingJob, TrainingJobList, TrainingJobSummary };

export interface TrainingJobListParams {
  name?: string;
  status?: JobStatus;
  /** One row per job name (its latest version, with `versionCount`) instead of every version. */
  latest?: boolean;
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
  // Under lists(), so a create or delete (which invalidates the lists) refreshes the versions too.
  versions: (name: string) => [...trainingJobKeys.lists(), 'versions', name] as const,
  outputs: (name: string, version: string) => [...trainingJobKeys.detail(name, version), 'outputs'] as const,
  outputPreview: (name: string, version: string, key: string) => [...trainingJobKeys.outputs(name, version), 'preview', key] as const,
  usage: (name: string, version: string) => [...trainingJobKeys.detail(name, version), 'usage'] as const,
};

const jobPath = (name: string, version: string) => `/training-jobs/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;

export function fetchTrainingJobs(params: TrainingJobListParams = {}, signal?: AbortSignal): Promise<TrainingJobList> {
  const { latest, ...rest } = params;
  return api.get<TrainingJobList>('/training-jobs', { query: { ...rest, ...(latest ? { latest: 'true' } : {}) }, signal });
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

/** The live log as server-sent events (an EventSource sends the session cookie; GET needs no CSRF header). */
export function logStreamUrl(name: string, version: string, node: number, cursor?: string): string {
  return `/api/v1${jobPath(name, version)}/logs/stream?node=${node}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
}

export function logDownloadUrl(name: string, version: string, node: number): string {
  return `/api/v1${jobPath(name, version)}/logs/download?node=${node}`;
}

/** How often a job's page refreshes while its nodes stage data or upload outputs (the server writes progress twice a second). */
export const TRANSFER_POLL_INTERVAL_MS = 1000;

/**
 * A job's page: every second while it initializes (code and data coming down) or a node's
 * transfer is under way, so the bars move; every two seconds otherwise until it ends.
 */
export function detailRefetchInterval(job: TrainingJob | undefined): number | false {
  if (!job || isTerminal(job.status)) return false;
  if (job.status === 'Initializing' || job.nodes.some((n) => n.transfers?.some((t) => !t.done))) return TRANSFER_POLL_INTERVAL_MS;
  return LIST_POLL_INTERVAL_MS;
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

/** The list; it polls while any shown job can still change and stops when all have ended. */
export function useTrainingJobs(params: TrainingJobListParams = {}) {
  return useQuery({
    queryKey: trainingJobKeys.list(params),
    queryFn: ({ signal }) => fetchTrainingJobs(params, signal),
    refetchInterval: (query) => listRefetchInterval(query.state.data),
    placeholderData: keepPreviousData,
  });
}

/** One job version; polls until the job has ended. */
export function useTrainingJob(name: string, version: string, options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: trainingJobKeys.detail(name, version),
    queryFn: ({ signal }) => fetchTrainingJob(name, version, signal),
    refetchInterval: (query) => detailRefetchInterval(query.state.data),
    enabled: options.enabled ?? true,
  });
}

/** How often the Resource Usages tab refreshes while the job runs (the server samples every 5 s by default). */
export const USAGE_POLL_INTERVAL_MS = 5000;

export function fetchJobUsage(name: string, version: string, signal?: AbortSignal): Promise<JobUsage> {
  return api.get<JobUsage>(`${jobPath(name, version)}/usage`, { signal });
}

/** The nodes' resource usage samples; polls while the job is live, then stays as it ended. */
export function useJobUsage(name: string, version: string, live: boolean) {
  return useQuery({
    queryKey: trainingJobKeys.usage(name, version),
    queryFn: ({ signal }) => fetchJobUsage(name, version, signal),
    refetchInterval: live ? USAGE_POLL_INTERVAL_MS : false,
  });
}

/**
 * Every version of one job name, newest first (the list's name filter is a substring match, so
 * exact names are kept). Empty for a name no job has yet.
 */
export function useJobVersions(name: string | null) {
  return useQuery({
    queryKey: trainingJobKeys.versions(name ?? ''),
    queryFn: async ({ signal }) => {
      const list = await fetchTrainingJobs({ name: name ?? '', pageSize: 100 }, signal);
      return list.items.filter((job) => job.name === name).map((job) => job.version);
    },
    enabled: !!name,
  });
}

export function useCreateTrainingJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ body, idempotencyKey }: { body: CreateTrainingJobInput; idempotencyKey: string }) =>
      createTrainingJob(body, idempotencyKey),
    onSuccess: (job, { body }) => {
      client.setQueryData(trainingJobKeys.detail(job.name, job.version), job);
      // A create that saves its parameters also made a parameter set.
      if (body.saveConfig) void client.invalidateQueries({ queryKey: configKeys.all });
      return client.invalidateQueries({ queryKey: trainingJobKeys.lists() });
    },
  });
}

export function useStopTrainingJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, version }: { name: string; version: string }) => stopTrainingJob(name, version),
    onSuccess: (job) => {
      client.setQueryData(trainingJobKeys.detail(job.name, job.version), job);
      return client.invalidateQueries({ queryKey: trainingJobKeys.lists() });
    },
  });
}

export function useDeleteTrainingJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, version }: { name: string; version: string }) => deleteTrainingJob(name, version),
    onSuccess: (_nothing, { name, version }) => {
      client.removeQueries({ queryKey: trainingJobKeys.detail(name, version) });
      return client.invalidateQueries({ queryKey: trainingJobKeys.lists() });
    },
  });
}

const outputPath = (name: string, version: string, key: string) =>
  `${jobPath(name, version)}/outputs/${key.split('/').map(encodeURIComponent).join('/')}`;

/** A plain link to this (the session cookie goes with a GET): the file as an attachment, streamed. */
export function outputDownloadUrl(name: string, version: string, key: string): string {
  return `/api/v1${outputPath(name, version, key)}`;
}

/** Every output file in one tar, streamed by the server file after file. */
export function outputArchiveUrl(name: string, version: string): string {
  return `/api/v1${jobPath(name, version)}/outputs.tar`;
}

/** The extensions the server previews as text (anything else is a 415 there). */
const PREVIEW_EXTENSIONS = ['.txt', '.log', '.json', '.jsonl', '.csv', '.md', '.yaml', '.yml'];

export function isPreviewable(key: string): boolean {
  const lower = key.toLowerCase();
  return PREVIEW_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export interface OutputPreview {
  text: string;
  /** The file is longer than the part shown. */
  truncated: boolean;
}

export async function fetchOutputPreview(name: string, version: string, key: string, signal?: AbortSignal): Promise<OutputPreview> {
  const res = await apiFetch(`${outputPath(name, version, key)}?preview=1`, { signal });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { message?: unknown; error?: unknown } | null;
    const message = typeof body?.message === 'string' ? body.message : `${res.status} ${res.statusText}`.trim();
    throw new ApiRequestError(res.status, message, typeof body?.error === 'string' ? body.error : undefined);
  }
  return { text: await res.text(), truncated: res.headers.get('x-preview-truncated') === 'true' };
}

export function fetchJobOutputs(name: string, version: string, signal?: AbortSignal): Promise<JobOutputList> {
  return api.get<JobOutputList>(`${jobPath(name, version)}/outputs`, { signal });
}

/** The job's output files; read again when the job ends (outputs are uploaded then). */
export function useJobOutputs(name: string, version: string, status: JobStatus) {
  return useQuery({
    queryKey: [...trainingJobKeys.outputs(name, version), isTerminal(status)],
    queryFn: ({ signal }) => fetchJobOutputs(name, version, signal),
  });
}

export function useOutputPreview(name: string, version: string, key: string | null) {
  return useQuery({
    queryKey: trainingJobKeys.outputPreview(name, version, key ?? ''),
    queryFn: ({ signal }) => fetchOutputPreview(name, version, key ?? '', signal),
    enabled: key !== null,
    retry: false,
  });
}

/** How often a comparison refreshes while one of its versions can still change. */
export const COMPARISON_POLL_INTERVAL_MS = 3000;

export function fetchVersionComparison(name: string, versions: readonly string[], signal?: AbortSignal): Promise<VersionComparison> {
  return api.get<VersionComparison>(`/training-jobs/${encodeURIComponent(name)}/comparison`, {
    query: { versions: versions.join(',') },
    signal,
  });
}

/** "View Comparison Result" of the chosen versions (2 to 10); polls while one of them runs. */
export function useVersionComparison(name: string, versions: readonly string[]) {
  return useQuery({
    queryKey: [...trainingJobKeys.all, 'comparison', name, versions.join(',')],
    queryFn: ({ signal }) => fetchVersionComparison(name, versions, signal),
    enabled: versions.length >= 2,
    refetchInterval: (query) => (query.state.data?.versions.some((v) => !isTerminal(v.status)) ? COMPARISON_POLL_INTERVAL_MS : false),
  });
}

export function fetchJobMetrics(name: string, version: string, signal?: AbortSignal): Promise<JobMetrics> {
  return api.get<JobMetrics>(`${jobPath(name, version)}/metrics`, { signal });
}

/** The query of one version's metrics (the Metrics tab's key, so the two share a cache entry). */
export function jobMetricsQuery(name: string, version: string) {
  return {
    queryKey: [...trainingJobKeys.detail(name, version), 'metrics'],
    queryFn: ({ signal }: { signal?: AbortSignal }) => fetchJobMetrics(name, version, signal),
  };
}
