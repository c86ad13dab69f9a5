import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { StorageBucketList, StorageFolder, StorageListing } from '@tc/contracts';
import { api } from '../../api/client';

export const storageKeys = {
  all: ['storage'] as const,
  buckets: () => [...storageKeys.all, 'buckets'] as const,
  listings: (bucket: string) => [...storageKeys.all, 'listing', bucket] as const,
  listing: (bucket: string, prefix: string) => [...storageKeys.listings(bucket), prefix] as const,
};

const bucketPath = (bucket: string) => `/storage/buckets/${encodeURIComponent(bucket)}`;

export function fetchBuckets(signal?: AbortSignal): Promise<StorageBucketList> {
  return api.get<StorageBucketList>('/storage/buckets', { signal });
}

export function fetchListing(bucket: string, prefix: string, signal?: AbortSignal): Promise<StorageListing> {
  return api.get<StorageListing>(`${bucketPath(bucket)}/objects`, { query: { prefix }, signal });
}

export function createFolder(bucket: string, prefix: string): Promise<StorageFolder> {
  return api.post<StorageFolder>(`${bucketPath(bucket)}/folders`, { prefix });
}

export function useBuckets(enabled = true) {
  return useQuery({ queryKey: storageKeys.buckets(), queryFn: ({ signal }) => fetchBuckets(signal), enabled });
}

/** One level of a bucket; `bucket` null means the bucket list is shown instead. */
export function useStorageListing(bucket: string | null, prefix: string) {
  return useQuery({
    queryKey: storageKeys.listing(bucket ?? '', prefix),
    queryFn: ({ signal }) => fetchListing(bucket ?? '', prefix, signal),
    enabled: bucket !== null,
    placeholderData: keepPreviousData,
  });
}

export function useCreateFolder() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ bucket, prefix }: { bucket: string; prefix: string }) => createFolder(bucket, prefix),
    onSuccess: (_folder, { bucket }) => client.invalidateQueries({ queryKey: storageKeys.listings(bucket) }),
  });
}
