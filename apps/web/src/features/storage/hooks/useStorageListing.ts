import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { fetchListing, storageKeys } from '../../../api/storage';

/** One level of a bucket; `bucket` null means the bucket list is shown instead. */
export function useStorageListing(bucket: string | null, prefix: string) {
  return useQuery({
    queryKey: storageKeys.listing(bucket ?? '', prefix),
    queryFn: ({ signal }) => fetchListing(bucket ?? '', prefix, signal),
    enabled: bucket !== null,
    placeholderData: keepPreviousData,
  });
}
