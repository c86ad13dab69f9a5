import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, screen } from '@testing-library/react';
import type { TrainingJob } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { ResourceUsages } from './ResourceUsages';

// The tab over a fake API at the fetch boundary; client, hook and component are real.

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const job = { name: 'j', version: 'V001', status: 'Running', nodes: [], events: [] } as unknown as TrainingJob;
const url = 'GET /api/v1/training-jobs/j/versions/V001/usage';

describe('ResourceUsages', () => {
  it('says why an engine that takes no samples shows no charts', async () => {
    const why = 'Resource usage is not sampled on a Docker Swarm (ENGINE=swarm): the manager cannot read the containers of other hosts.';
    routeFetch({ [url]: () => json({ nodes: [{ index: 0, samples: [] }], unavailable: why }) });
    renderPage(<ResourceUsages job={job} />);
    expect(await screen.findByText('Not available on this engine')).toBeTruthy();
    expect(screen.getByText(why)).toBeTruthy();
    expect(screen.queryByText('No samples yet')).toBeNull();
  });

  it('waits for the first sample where the engine takes them', async () => {
    routeFetch({ [url]: () => json({ nodes: [{ index: 0, samples: [] }], unavailable: null }) });
    renderPage(<ResourceUsages job={job} />);
    expect(await screen.findByText('No samples yet')).toBeTruthy();
    expect(screen.getByText(/sampled every few seconds while the job runs/)).toBeTruthy();
  });
});
