import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createFolder, storageKeys } from '../../../api/storage';

export function useCreateFolder() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ bucket, prefix }: { bucket: string; prefix: string }) => createFolder(bucket, prefix),
    onSuccess: (_folder, { bucket }) => client.invalidateQueries({ queryKey: [...storageKeys.all, 'listing', bucket] }),
  });
}
