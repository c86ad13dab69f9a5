import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { EngineImage, PullEvent } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../test-utils';
import { ImagesPage } from './ImagesPage';
import { applyPullEvent, pullTotals, startPull } from './pull-progress';

// The page over a fake API at the fetch boundary; client, hooks and page are the real code.

const passed: EngineImage = {
  id: `sha256:${'a'.repeat(64)}`,
  repoTags: ['demo/linreg-train:1.0'],
  repoDigests: [],
  sizeBytes: 2_000_000,
  createdAt: '2026-11-28T10:00:00.000Z',
  check: { status: 'passed', reason: null, checkedAt: '2026-11-28T11:00:00.000Z' },
};
const unchecked: EngineImage = {
  id: `sha256:${'b'.repeat(64)}`,
  repoTags: ['org/root-image:2'],
  repoDigests: [],
  sizeBytes: 5_000,
  createdAt: '2026-11-27T10:00:00.000Z',
  check: { status: 'unchecked', reason: null, checkedAt: null },
};
const failed: EngineImage = {
  ...unchecked,
  check: { status: 'failed', reason: 'the image’s default user is root; it must be UID 1101', checkedAt: '2026-11-28T12:00:00.000Z' },
};

function ndjson(events: PullEvent[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      const enc = new TextEncoder();
      // Split mid-line, as a network would.
      const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      c.enqueue(enc.encode(text.slice(0, 25)));
      c.enqueue(enc.encode(text.slice(25)));
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('ImagesPage', () => {
  it('lists the images with their verdicts, and checks one on demand', async () => {
    let items = [passed, unchecked];
    const calls = routeFetch({
      'GET /api/v1/images': () => json({ items }),
      'POST /api/v1/images/check': () => {
        items = [passed, failed];
        return json({ ref: 'org/root-image:2', image: failed, cached: false });
      },
    });
    renderPage(<ImagesPage />);
    const table = await screen.findByRole('table', { name: 'Images' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell')[0]!.textContent)).toEqual(['demo/linreg-train:1.0', 'org/root-image:2']);
    expect(within(rows[0]!).getByText('UID 1101 passed')).toBeTruthy();
    expect(within(rows[1]!).getByText('Not checked yet')).toBeTruthy();

    fireEvent.click(within(table).getByRole('button', { name: 'Check org/root-image:2' }));
    expect(await within(table).findByText(/must be UID 1101/)).toBeTruthy();
    expect(within(table).getByText('Check failed')).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')).toEqual({
      method: 'POST',
      url: '/api/v1/images/check',
      body: { ref: 'org/root-image:2' },
    });
  });

  it('shows an empty state, and an error state with retry', async () => {
    let fail = true;
    routeFetch({
      'GET /api/v1/images': () =>
        fail ? json({ error: 'internal', message: 'the Docker engine does not answer' }, 503) : json({ items: [] }),
    });
    renderPage(<ImagesPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('the Docker engine does not answer');
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { name: 'No images on the engine yet' })).toBeTruthy();
  });

  it('pulls by reference, showing the progress lines and then the verdict', async () => {
    const calls = routeFetch({
      'GET /api/v1/images': () => json({ items: [] }),
      'POST /api/v1/images/pull': () =>
        ndjson([
          { type: 'progress', status: 'pulling demo/linreg-train:1.0', layer: null, current: null, total: null },
          { type: 'progress', status: 'Downloading', layer: 'l1', current: 10, total: 100 },
          { type: 'done', ref: 'demo/linreg-train:1.0', pulled: true, image: passed },
        ]),
    });
    renderPage(<ImagesPage />);
    const form = screen.getByRole('form', { name: 'Pull an image' });
    fireEvent.change(within(form).getByLabelText(/Image reference/), { target: { value: 'demo/linreg-train:1.0' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Pull' }));
    expect(await within(form).findByText('Pulled demo/linreg-train:1.0')).toBeTruthy();
    expect(within(form).getByText('UID 1101 passed')).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ ref: 'demo/linreg-train:1.0' });
  });

  it('shows the error line of a failed pull, and refuses a bad reference before sending', async () => {
    const calls = routeFetch({
      'GET /api/v1/images': () => json({ items: [] }),
      'POST /api/v1/images/pull': () =>
        ndjson([{ type: 'error', message: 'could not pull reg.invalid/x:1: the registry reg.invalid cannot be reached from the engine' }]),
    });
    renderPage(<ImagesPage />);
    const form = screen.getByRole('form', { name: 'Pull an image' });
    const field = within(form).getByLabelText(/Image reference/);
    fireEvent.change(field, { target: { value: 'Not A Ref' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Pull' }));
    expect(await within(form).findByText(/must be an image reference/)).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);

    fireEvent.change(field, { target: { value: 'reg.invalid/x:1' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Pull' }));
    expect((await within(form).findByRole('alert')).textContent).toContain('cannot be reached from the engine');
  });

  it('uploads the chosen file itself as the body and shows what was loaded', async () => {
    let sent: { body: unknown; type: string | null } | null = null;
    const mock = vi.fn<typeof fetch>(async (input, init) => {
      if (String(input) === '/api/v1/images/load') {
        sent = { body: init?.body, type: new Headers(init?.headers).get('content-type') };
        return json({ refs: ['org/train:1'], items: [{ ...passed, repoTags: ['org/train:1'] }] });
      }
      return json({ items: [] });
    });
    vi.stubGlobal('fetch', mock);
    renderPage(<ImagesPage />);
    const form = screen.getByRole('form', { name: 'Upload an image tarball' });
    fireEvent.click(within(form).getByRole('button', { name: 'Upload' }));
    expect(await within(form).findByText('Choose a .tar file first')).toBeTruthy();

    const file = new File(['tar bytes'], 'train.tar', { type: 'application/x-tar' });
    fireEvent.change(within(form).getByLabelText(/Image tarball/), { target: { files: [file] } });
    fireEvent.click(within(form).getByRole('button', { name: 'Upload' }));
    expect(await within(form).findByText('Loaded org/train:1')).toBeTruthy();
    await waitFor(() => expect(sent).not.toBeNull());
    expect(sent!.body).toBe(file);
    expect(sent!.type).toBe('application/x-tar');
  });
});

describe('pull progress', () => {
  it('adds up the layers whose size is known, counting finished layers as whole', () => {
    let s = startPull('x:1');
    s = applyPullEvent(s, { type: 'progress', status: 'Downloading', layer: 'a', current: 50, total: 100 });
    s = applyPullEvent(s, { type: 'progress', status: 'Downloading', layer: 'b', current: 0, total: 300 });
    s = applyPullEvent(s, { type: 'progress', status: 'Waiting', layer: 'c', current: null, total: null });
    expect(pullTotals(s)).toEqual({ current: 50, total: 400, percent: 12 });
    s = applyPullEvent(s, { type: 'progress', status: 'Download complete', layer: 'a', current: null, total: null });
    expect(pullTotals(s)).toEqual({ current: 100, total: 400, percent: 25 });
    s = applyPullEvent(s, { type: 'error', message: 'gone' });
    expect(s).toEqual({ phase: 'error', ref: 'x:1', message: 'gone' });
    // Nothing after the last line changes it.
    expect(applyPullEvent(s, { type: 'progress', status: 'late', layer: null, current: null, total: null })).toBe(s);
  });
});
