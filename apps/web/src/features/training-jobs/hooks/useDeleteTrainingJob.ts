import { useMutation, useQueryClient } from '@tanstack/react-query';
import { deleteTrainingJob, trainingJobKeys } from '../../../api/training-jobs';

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
