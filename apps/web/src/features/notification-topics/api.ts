import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  CreateNotificationTopicRequest,
  CreatedNotificationTopic,
  NotificationDeliveryList,
  NotificationSubscription,
  NotificationTopicList,
  NotificationTopicSecret,
} from '@tc/contracts';
import { api } from '../../api/client';

export const topicKeys = {
  all: ['notification-topics'] as const,
  list: (params: TopicListParams) => [...topicKeys.all, 'list', params] as const,
  deliveries: (topic: string) => [...topicKeys.all, 'deliveries', topic] as const,
};

const path = (name: string) => `/notification-topics/${encodeURIComponent(name)}`;

/** While deliveries are pending the list refreshes, so retries can be watched as they happen. */
export const DELIVERIES_POLL_MS = 2000;

export interface TopicListParams {
  name?: string;
  page?: number;
  pageSize?: number;
}

/** What the wizard's Topic picker offers: the first page the API gives at its largest size. */
export const TOPIC_OPTIONS: TopicListParams = { pageSize: 100 };

/** The page's list and the wizard's picker alike: one key family, so a change refreshes both. */
export function useNotificationTopics(params: TopicListParams = TOPIC_OPTIONS) {
  return useQuery({
    queryKey: topicKeys.list(params),
    queryFn: ({ signal }) => api.get<NotificationTopicList>('/notification-topics', { query: { ...params }, signal }),
    placeholderData: (previous) => previous,
  });
}

export function useDeliveries(topic: string) {
  return useQuery({
    queryKey: topicKeys.deliveries(topic),
    queryFn: ({ signal }) => api.get<NotificationDeliveryList>(`${path(topic)}/deliveries`, { query: { pageSize: 50 }, signal }),
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.state === 'pending') ? DELIVERIES_POLL_MS : false),
  });
}

function useTopicMutation<TVars, TResult>(fn: (vars: TVars) => Promise<TResult>) {
  const client = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: () => client.invalidateQueries({ queryKey: topicKeys.all }) });
}

export const useCreateTopic = () =>
  useTopicMutation((body: CreateNotificationTopicRequest) => api.post<CreatedNotificationTopic>('/notification-topics', body));

export const useDeleteTopic = () => useTopicMutation((name: string) => api.delete<void>(path(name)));

export const useRotateSecret = () => useTopicMutation((name: string) => api.post<NotificationTopicSecret>(`${path(name)}/secret`));

export const useAddSubscription = () =>
  useTopicMutation(({ topic, url }: { topic: string; url: string }) =>
    api.post<NotificationSubscription>(`${path(topic)}/subscriptions`, { url }),
  );

export const useRemoveSubscription = () =>
  useTopicMutation(({ topic, id }: { topic: string; id: string }) =>
    api.delete<void>(`${path(topic)}/subscriptions/${encodeURIComponent(id)}`),
  );
