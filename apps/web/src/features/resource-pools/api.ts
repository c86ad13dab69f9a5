import { useQuery } from '@tanstack/react-query';
import type { ResourcePoolList } from '@tc/contracts';
import { api } from '../../api/client';

export const resourcePoolKeys = { all: ['resource-pools'] as const };

export function fetchResourcePools(signal?: AbortSignal): Promise<ResourcePoolList> {
  return api.get<ResourcePoolList>('/resource-pools', { signal });
}

/** Free capacity changes as jobs start and end, so it is re-read every few seconds while shown. */
export function useResourcePools() {
  return useQuery({ queryKey: resourcePoolKeys.all, queryFn: ({ signal }) => fetchResourcePools(signal), refetchInterval: 5000 });
}
