import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, screen, within } from '@testing-library/react';
import type { TrainingJob } from '@tc/contracts';
import { JobAttempts } from './JobAttempts';
import { StatusBadge } from '../../../ui/StatusBadge';
import { renderPage } from '../../../test-utils';

afterEach(cleanup);

const job = (over: Partial<TrainingJob>): TrainingJob =>
  ({
    id: '1',
    name: 'j',
    version: 'V001',
    status: 'Running',
    reason: null,
    queuePosition: null,
    spec: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:01:00.000Z',
    endedAt: null,
    nodes: [],
    events: [],
    ...over,
  }) as TrainingJob;

describe('JobAttempts', () => {
  it('lists each attempt with its status, reason and log', () => {
    renderPage(
      <JobAttempts
        now={new Date('2026-01-01T00:10:00.000Z')}
        job={job({
          attempt: 2,
          maxAttempts: 3,
          attempts: [
            {
              attempt: 1,
              startedAt: '2026-01-01T00:00:00.000Z',
              endedAt: '2026-01-01T00:02:00.000Z',
              status: 'Running failed',
              reason: 'training failed: its container was removed',
              failureClass: 'platform',
            },
            { attempt: 2, startedAt: '2026-01-01T00:03:00.000Z', endedAt: null, status: 'Running', reason: null, failureClass: null },
          ],
        })}
      />,
    );
    const table = screen.getByRole('region', { name: 'Attempts' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain('1 of 3');
    expect(rows[0]!.textContent).toContain('Running failed');
    expect(rows[0]!.textContent).toContain('its container was removed');
    expect(rows[0]!.textContent).toContain('platform');
    expect(within(rows[1]!).getByRole('link', { name: 'Download' }).getAttribute('href')).toBe(
      '/api/v1/training-jobs/j/versions/V001/logs/download?node=0&attempt=2',
    );
  });

  it('says when a retry in its backoff may start', () => {
    renderPage(
      <JobAttempts
        now={new Date('2026-01-01T00:10:00.000Z')}
        job={job({
          status: 'Queuing',
          attempt: 2,
          maxAttempts: 2,
          retryAt: '2026-01-01T00:11:00.000Z',
          attempts: [
            {
              attempt: 1,
              startedAt: '2026-01-01T00:00:00.000Z',
              endedAt: '2026-01-01T00:02:00.000Z',
              status: 'Running failed',
              reason: 'x',
              failureClass: 'platform',
            },
          ],
        })}
      />,
    );
    expect(screen.getByText(/Attempt 2 waits in the queue until/)).toBeTruthy();
  });

  it('shows nothing for a job without a retry policy', () => {
    renderPage(<JobAttempts now={new Date()} job={job({})} />);
    expect(screen.queryByRole('region', { name: 'Attempts' })).toBeNull();
  });
});

describe('StatusBadge during a retry', () => {
  it('says which attempt runs, and nothing on the first or once ended', () => {
    renderPage(<StatusBadge status="Queuing" attempt={{ attempt: 2, maxAttempts: 3 }} />);
    expect(screen.getByText('Queuing · attempt 2 of 3')).toBeTruthy();
  });
  it('leaves the first attempt and an ended job as they were', () => {
    renderPage(
      <>
        <StatusBadge status="Running" attempt={{ attempt: 1, maxAttempts: 3 }} />
        <StatusBadge status="Successful" attempt={{ attempt: 2, maxAttempts: 3 }} />
      </>,
    );
    expect(screen.getByText('Running')).toBeTruthy();
    expect(screen.getByText('Successful')).toBeTruthy();
  });
});
