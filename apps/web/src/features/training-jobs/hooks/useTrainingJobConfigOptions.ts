import { useQuery } from '@tanstack/react-query';
import { catalogKeys, fetchTrainingJobConfigs } from '../../../api/catalog';

export function useTrainingJobConfigOptions() {
  return useQuery({ queryKey: catalogKeys.configs(), queryFn: ({ signal }) => fetchTrainingJobConfigs(signal) });
}
