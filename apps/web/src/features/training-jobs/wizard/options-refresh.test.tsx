import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { useCreateTrainingJobConfig, useTrainingJobConfigs } from '../../job-parameters/api';
import { useCreateTopic, useNotificationTopics } from '../../notification-topics/api';

// The wizard's pickers read each resource through its feature's own hooks and keys, so a change
// made on the resource's page refreshes them with no invalidation written for the wizard.

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function Both() {
  const topics = useNotificationTopics();
  const configs = useTrainingJobConfigs();
  const createTopic = useCreateTopic();
  const createConfig = useCreateTrainingJobConfig();
  return (
    <>
      <p>topics: {topics.data?.items.map((t) => t.name).join(',')}</p>
      <p>configs: {configs.data?.items.map((c) => c.name).join(',')}</p>
      <button type="button" onClick={() => createTopic.mutate({ name: 'ops' })}>
        topic
      </button>
      <button type="button" onClick={() => createConfig.mutate({ name: 'p1', parameters: {} as never })}>
        config
      </button>
    </>
  );
}

describe('the wizard’s option lists', () => {
  it('show a topic or a parameter set created elsewhere without a reload', async () => {
    const topics: { name: string }[] = [];
    const configs: { name: string }[] = [];
    routeFetch({
      'GET /api/v1/notification-topics': () => json({ items: topics, total: topics.length }),
      'POST /api/v1/notification-topics': () => {
        topics.push({ name: 'ops' });
        return json({ name: 'ops', secret: 's' }, 201);
      },
      'GET /api/v1/training-job-configs': () => json({ items: configs, total: configs.length }),
      'POST /api/v1/training-job-configs': () => {
        configs.push({ name: 'p1' });
        return json({ name: 'p1' }, 201);
      },
    });
    renderPage(<Both />);
    await screen.findByText('topics:');
    fireEvent.click(screen.getByRole('button', { name: 'topic' }));
    await waitFor(() => expect(screen.getByText('topics: ops')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'config' }));
    await waitFor(() => expect(screen.getByText('configs: p1')).toBeTruthy());
  });
});
