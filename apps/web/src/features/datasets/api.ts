import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateDatasetRequest, Dataset, DatasetFilePage, DatasetList } from '@tc/contracts';
import { api } from '../../api/client';

export const datasetKeys = {
  all: ['datasets'] as const,
  list: () => [...datasetKeys.all, 'list'] as const,
  files: (name: string, version: string, after: string) => [...datasetKeys.all, 'files', name, version, after] as const,
};

export function useDatasets() {
  return useQuery({
    queryKey: datasetKeys.list(),
    queryFn: ({ signal }) => api.get<DatasetList>('/datasets', { query: { pageSize: 100 }, signal }),
  });
}

export function useDatasetFiles(name: string, version: string, after: string) {
  return useQuery({
    queryKey: datasetKeys.files(name, version, after),
    queryFn: ({ signal }) =>
      api.get<DatasetFilePage>(`/datasets/${encodeURIComponent(name)}/versions/${version}/files`, { query: { after, limit: 50 }, signal }),
  });
}

/** The wizard's dataset picker reads the same list, so this refreshes it too. */
function useInvalidate() {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: datasetKeys.all });
}

export function useCreateDataset() {
  const invalidate = useInvalidate();
  return useMutation({ mutationFn: (req: CreateDatasetRequest) => api.post<Dataset>('/datasets', req), onSuccess: invalidate });
}

export function usePublishVersion() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (name: string) => api.post<Dataset>(`/datasets/${encodeURIComponent(name)}/versions`),
    onSuccess: invalidate,
  });
}

export function useDeleteDataset() {
  const invalidate = useInvalidate();
  return useMutation({ mutationFn: (name: string) => api.delete<null>(`/datasets/${encodeURIComponent(name)}`), onSuccess: invalidate });
}
