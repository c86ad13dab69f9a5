import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ListTrainingJobConfigsQuery, TrainingJobConfig, TrainingJobConfigList, UpdateTrainingJobConfigRequest } from '@tc/contracts';
import { api, apiRequest } from '../../api/client';

export type ConfigListParams = Partial<ListTrainingJobConfigsQuery>;

/** Hierarchical, so invalidating `all` refreshes lists and details alike. */
export const configKeys = {
  all: ['training-job-configs'] as const,
  list: (params: ConfigListParams) => [...configKeys.all, 'list', params] as const,
  detail: (name: string) => [...configKeys.all, 'detail', name] as const,
};

const path = (name: string) => `/training-job-configs/${encodeURIComponent(name)}`;

export function useTrainingJobConfigs(params: ConfigListParams) {
  return useQuery({
    queryKey: configKeys.list(params),
    queryFn: ({ signal }) => api.get<TrainingJobConfigList>('/training-job-configs', { query: { ...params }, signal }),
    placeholderData: (previous) => previous,
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
