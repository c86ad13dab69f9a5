import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  CreateTrainingJobConfigRequest,
  ListTrainingJobConfigsQuery,
  TrainingJobConfig,
  TrainingJobConfigList,
  UpdateTrainingJobConfigRequest,
} from '@tc/contracts';
import { api, apiRequest } from '../../api/client';

export type ConfigListParams = Partial<ListTrainingJobConfigsQuery>;

/**
 * Hierarchical, so invalidating `all` refreshes lists and details alike, the wizard's
 * One-Click Configuration list among them.
 */
export const configKeys = {
  all: ['training-job-configs'] as const,
  list: (params: ConfigListParams) => [...configKeys.all, 'list', params] as const,
  detail: (name: string) => [...configKeys.all, 'detail', name] as const,
};

/** What One-Click Configuration offers: the first page the API gives at its largest size. */
export const CONFIG_OPTIONS: ConfigListParams = { pageSize: 100 };

const path = (name: string) => `/training-job-configs/${encodeURIComponent(name)}`;

export function fetchTrainingJobConfigs(params: ConfigListParams, signal?: AbortSignal): Promise<TrainingJobConfigList> {
  return api.get<TrainingJobConfigList>('/training-job-configs', { query: { ...params }, signal });
}

export function useTrainingJobConfigs(params: ConfigListParams = CONFIG_OPTIONS) {
  return useQuery({
    queryKey: configKeys.list(params),
    queryFn: ({ signal }) => fetchTrainingJobConfigs(params, signal),
    placeholderData: (previous) => previous,
  });
}

export function useTrainingJobConfig(name: string) {
  return useQuery({
    queryKey: configKeys.detail(name),
    queryFn: ({ signal }) => api.get<TrainingJobConfig>(path(name), { signal }),
  });
}

export function useCreateTrainingJobConfig() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateTrainingJobConfigRequest) => api.post<TrainingJobConfig>('/training-job-configs', body),
    onSuccess: () => client.invalidateQueries({ queryKey: configKeys.all }),
  });
}

export function useUpdateTrainingJobConfig() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, body }: { name: string; body: UpdateTrainingJobConfigRequest }) =>
      apiRequest<TrainingJobConfig>(path(name), { method: 'PUT', body }),
    onSuccess: () => client.invalidateQueries({ queryKey: configKeys.all }),
  });
}

export function useDeleteTrainingJobConfig() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.delete<void>(path(name)),
    onSuccess: () => client.invalidateQueries({ queryKey: configKeys.all }),
  });
}
