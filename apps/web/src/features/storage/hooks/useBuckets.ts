import { useQuery } from '@tanstack/react-query';
import { fetchBuckets, storageKeys } from '../../../api/storage';

export function useBuckets(enabled = true) {
  return useQuery({ queryKey: storageKeys.buckets(), queryFn: ({ signal }) => fetchBuckets(signal), enabled });
}
