import { useMutation, useQueryClient } from '@tanstack/react-query';
import { stopTrainingJob, trainingJobKeys } from '../../../api/training-jobs';

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
