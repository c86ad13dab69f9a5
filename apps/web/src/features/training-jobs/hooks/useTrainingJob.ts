import { useQuery } from '@tanstack/react-query';
import { fetchTrainingJob, isTerminal, LIST_POLL_INTERVAL_MS, trainingJobKeys } from '../../../api/training-jobs';

/** One job version; polls until the job has ended. */
export function useTrainingJob(name: string, version: string, options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: trainingJobKeys.detail(name, version),
    queryFn: ({ signal }) => fetchTrainingJob(name, version, signal),
    refetchInterval: (query) => (query.state.data && !isTerminal(query.state.data.status) ? LIST_POLL_INTERVAL_MS : false),
    enabled: options.enabled ?? true,
  });
}
