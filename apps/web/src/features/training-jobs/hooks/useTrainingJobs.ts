import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { fetchTrainingJobs, listRefetchInterval, trainingJobKeys, type TrainingJobListParams } from '../../../api/training-jobs';

/** The list; it polls while any shown job can still change and stops when all have ended. */
export function useTrainingJobs(params: TrainingJobListParams = {}) {
  return useQuery({
    queryKey: trainingJobKeys.list(params),
    queryFn: ({ signal }) => fetchTrainingJobs(params, signal),
    refetchInterval: (query) => listRefetchInterval(query.state.data),
    placeholderData: keepPreviousData,
  });
}
