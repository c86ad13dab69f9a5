import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { CreateTrainingJobInput } from '@tc/contracts';
import { createTrainingJob, trainingJobKeys } from '../../../api/training-jobs';

export function useCreateTrainingJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ body, idempotencyKey }: { body: CreateTrainingJobInput; idempotencyKey: string }) =>
      createTrainingJob(body, idempotencyKey),
    onSuccess: (job) => {
      client.setQueryData(trainingJobKeys.detail(job.name, job.version), job);
      return client.invalidateQueries({ queryKey: trainingJobKeys.lists() });
    },
  });
}
