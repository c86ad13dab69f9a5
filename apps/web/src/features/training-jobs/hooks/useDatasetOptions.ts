import { useQuery } from '@tanstack/react-query';
import { catalogKeys, fetchDatasets } from '../../../api/catalog';

export function useDatasetOptions() {
  return useQuery({ queryKey: catalogKeys.datasets(), queryFn: ({ signal }) => fetchDatasets(signal) });
}
