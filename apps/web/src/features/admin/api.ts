import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AuditLog, CreateUserRequest, User, UserList } from '@tc/contracts';
import { api } from '../../api/client';

export const userKeys = {
  all: ['users'] as const,
  list: () => [...userKeys.all, 'list'] as const,
};

export const auditKeys = {
  all: ['audit-log'] as const,
  page: (username: string, page: number, pageSize: number) => [...auditKeys.all, { username, page, pageSize }] as const,
};

export function useUsers() {
  return useQuery({
    queryKey: userKeys.list(),
    queryFn: ({ signal }) => api.get<UserList>('/users', { signal }),
  });
}

export function useCreateUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateUserRequest) => api.post<User>('/users', body),
    onSuccess: () => qc.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useDeleteUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (username: string) => api.delete<void>(`/users/${encodeURIComponent(username)}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useAuditLog(username: string, page: number, pageSize: number) {
  return useQuery({
    queryKey: auditKeys.page(username, page, pageSize),
    queryFn: ({ signal }) => api.get<AuditLog>('/audit-log', { query: { username, page, pageSize }, signal }),
    placeholderData: (previous) => previous,
  });
}
