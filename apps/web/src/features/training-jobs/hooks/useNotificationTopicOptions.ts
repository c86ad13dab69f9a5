import { useQuery } from '@tanstack/react-query';
import { catalogKeys, fetchNotificationTopics } from '../../../api/catalog';

export function useNotificationTopicOptions() {
  return useQuery({ queryKey: catalogKeys.topics(), queryFn: ({ signal }) => fetchNotificationTopics(signal) });
}
