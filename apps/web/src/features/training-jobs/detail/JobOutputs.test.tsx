import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { JobOutputs } from './JobOutputs';

// The component over a fake API at the fetch boundary; client, hooks and component are real.

const base = '/api/v1/training-jobs/linreg/versions/V001/outputs';
const props = { name: 'linreg', version: 'V001', path: 'obs://demo/out/linreg/', status: 'Successful' as const };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('JobOutputs', () => {
  it('lists each file with a download link, a preview for text files, and the whole tar', async () => {
    routeFetch({
      [`GET ${base}`]: () =>
        json({
          path: props.path,
          items: [
            { key: 'ckpt/model weights.bin', size: 2048, modified: '2026-12-01T10:00:00.000Z' },
            { key: 'model.json', size: 12, modified: '2026-12-01T10:00:00.000Z' },
          ],
        }),
    });
    renderPage(<JobOutputs {...props} />);
    const table = await screen.findByRole('table', { name: 'Output files' });
    expect(within(table).getByRole('link', { name: 'Download ckpt/model weights.bin' }).getAttribute('href')).toBe(
      `${base}/ckpt/model%20weights.bin`,
    );
    expect(within(table).getByRole('link', { name: 'Download model.json' }).hasAttribute('download')).toBe(true);
    expect(within(table).queryByRole('button', { name: 'Preview ckpt/model weights.bin' })).toBeNull();
    expect(within(table).getByRole('button', { name: 'Preview model.json' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Download all (.tar)' }).getAttribute('href')).toBe(`${base}.tar`);
  });

  it('previews a text file in a dialog, saying when it was cut', async () => {
    const calls = routeFetch({
      [`GET ${base}/metrics.csv`]: () =>
        new Response('step,loss\n0,1.0\n', { headers: { 'content-type': 'text/plain; charset=utf-8', 'x-preview-truncated': 'true' } }),
      [`GET ${base}`]: () => json({ path: props.path, items: [{ key: 'metrics.csv', size: 100_000 }] }),
    });
    renderPage(<JobOutputs {...props} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Preview metrics.csv' }));
    const dialog = await screen.findByRole('dialog', { name: 'metrics.csv' });
    expect((await within(dialog).findByLabelText('Preview of metrics.csv')).textContent).toBe('step,loss\n0,1.0\n');
    expect(within(dialog).getByText(/^Truncated: the first 64 KiB/)).toBeTruthy();
    expect(calls.map((c) => c.url)).toContain(`${base}/metrics.csv?preview=1`);
  });

  it('says when a job has written nothing, and when a listing fails', async () => {
    routeFetch({ [`GET ${base}`]: () => json({ path: props.path, items: [] }) });
    renderPage(<JobOutputs {...props} />);
    expect(await screen.findByText('The job has not written any outputs to /home/work/outputs/.')).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Download all (.tar)' })).toBeNull();
    cleanup();
    vi.unstubAllGlobals();

    routeFetch({ [`GET ${base}`]: () => json({ error: 'store_unavailable', message: 'the object store does not answer' }, 503) });
    renderPage(<JobOutputs {...props} />);
    expect((await screen.findByRole('alert')).textContent).toContain('the object store does not answer');
  });
});
