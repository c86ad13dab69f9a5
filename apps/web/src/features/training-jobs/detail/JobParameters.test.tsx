import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrainingJob } from '@tc/contracts';
import { renderPage } from '../../../test-utils';
import { JobParameters } from './JobParameters';

const job: TrainingJob = {
  id: '1',
  name: 'pinned',
  version: 'V001',
  status: 'Successful',
  reason: null,
  queuePosition: null,
  spec: {
    name: 'pinned',
    algorithm: { source: 'custom', imagePath: 'org/train:1', codeDir: 'obs://b/code/', bootCommand: 'true' },
    data: { source: 'path', path: 'obs://b/data/' },
    trainOutput: 'obs://b/out/',
  },
  imageId: `sha256:${'a'.repeat(64)}`,
  imageDigest: `registry.example.com/org/train@sha256:${'b'.repeat(64)}`,
  createdAt: '2026-12-01T10:00:00.000Z',
  startedAt: null,
  endedAt: null,
  nodes: [],
  events: [],
};

function row(label: string): HTMLElement {
  return screen.getByRole('rowheader', { name: label }).closest('tr')!;
}

describe('JobParameters', () => {
  afterEach(() => cleanup());

  it('shows the image ID the job ran, with its digest', () => {
    renderPage(<JobParameters job={job} />);
    expect(within(row('Image ID')).getByText(job.imageId!)).toBeTruthy();
    expect(within(row('Image ID')).getByText(job.imageDigest!)).toBeTruthy();
  });

  it('says when the image has not been checked yet', () => {
    renderPage(<JobParameters job={{ ...job, imageId: null, imageDigest: null }} />);
    expect(within(row('Image ID')).getByText('not checked yet')).toBeTruthy();
  });
});
