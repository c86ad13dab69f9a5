import type { DatasetList, NotificationTopicList, TrainingJobConfigList } from '@tc/contracts';
import { ApiRequestError, api } from './client';

/**
 * What the wizard picks from (topics, saved parameter sets, datasets). These resources are newer
 * than the wizard: a server without them answers 404, which the wizard shows as "none yet".
 */
export const catalogKeys = {
  all: ['catalog'] as const,
  topics: () => [...catalogKeys.all, 'notification-topics'] as const,
  configs: () => [...catalogKeys.all, 'training-job-configs'] as const,
  datasets: () => [...catalogKeys.all, 'datasets'] as const,
};

async function orEmptyOn404<T>(request: Promise<{ items: T[]; total: number }>): Promise<{ items: T[]; total: number }> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof ApiRequestError && err.status === 404) return { items: [], total: 0 };
    throw err;
  }
}

export function fetchNotificationTopics(signal?: AbortSignal): Promise<NotificationTopicList> {
  return orEmptyOn404(api.get<NotificationTopicList>('/notification-topics', { query: { pageSize: 100 }, signal }));
}

export function fetchTrainingJobConfigs(signal?: AbortSignal): Promise<TrainingJobConfigList> {
  return orEmptyOn404(api.get<TrainingJobConfigList>('/training-job-configs', { query: { pageSize: 100 }, signal }));
}

export function fetchDatasets(signal?: AbortSignal): Promise<DatasetList> {
  return orEmptyOn404(api.get<DatasetList>('/datasets', { query: { pageSize: 100 }, signal }));
}
