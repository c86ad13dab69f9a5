import type { StorageBucketList, StorageFolder, StorageListing } from '@tc/contracts';
import { api } from './client';

export const storageKeys = {
  all: ['storage'] as const,
  buckets: () => [...storageKeys.all, 'buckets'] as const,
  listing: (bucket: string, prefix: string) => [...storageKeys.all, 'listing', bucket, prefix] as const,
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
