import { useQuery } from '@tanstack/react-query';
import { fetchTrainingJobs, trainingJobKeys } from '../../../api/training-jobs';

/** Every version of one job name (the list's name filter is a substring match, so exact names are kept). */
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
