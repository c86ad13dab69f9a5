import type { ResourcePoolList } from '@tc/contracts';
import { api } from './client';

export const resourcePoolKeys = { all: ['resource-pools'] as const };

export function fetchResourcePools(signal?: AbortSignal): Promise<ResourcePoolList> {
  return api.get<ResourcePoolList>('/resource-pools', { signal });
}
