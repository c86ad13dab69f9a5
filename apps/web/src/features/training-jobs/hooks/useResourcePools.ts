import { useQuery } from '@tanstack/react-query';
import { fetchResourcePools, resourcePoolKeys } from '../../../api/resource-pools';

/** Free capacity changes as jobs start and end, so it is re-read every few seconds while shown. */
export function useResourcePools() {
  return useQuery({ queryKey: resourcePoolKeys.all, queryFn: ({ signal }) => fetchResourcePools(signal), refetchInterval: 5000 });
}
