import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiTokenList, CreateApiTokenRequest, CreatedApiToken } from '@tc/contracts';
import { api } from '../../api/client';

export const tokenKeys = {
  all: ['api-tokens'] as const,
  list: () => [...tokenKeys.all, 'list'] as const,
};

export function useApiTokens() {
  return useQuery({
    queryKey: tokenKeys.list(),
    queryFn: ({ signal }) => api.get<ApiTokenList>('/auth/tokens', { signal }),
  });
}

export function useCreateToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateApiTokenRequest) => api.post<CreatedApiToken>('/auth/tokens', body),
    onSuccess: () => qc.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}

export function useRevokeToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete<void>(`/auth/tokens/${encodeURIComponent(id)}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}
