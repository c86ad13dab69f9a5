import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import type { LogLine, LogPage } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { LogViewer } from './LogViewer';

// happy-dom does no layout; the virtualizer sizes its window from the scroll element's box.
const box = { offsetHeight: 400, offsetWidth: 800, clientHeight: 400, clientWidth: 800 };
const saved = Object.keys(box).map((k) => [k, Object.getOwnPropertyDescriptor(HTMLElement.prototype, k)] as const);
beforeAll(() => {
  for (const [k, v] of Object.entries(box)) Object.defineProperty(HTMLElement.prototype, k, { configurable: true, get: () => v });
});
afterAll(() => {
  for (const [k, d] of saved) if (d) Object.defineProperty(HTMLElement.prototype, k, d);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const line = (seq: number, text = `epoch ${seq} loss=0.${seq}`): LogLine => ({
  seq,
  at: '2025-11-28T10:00:00.000Z',
  stream: 'stdout',
  text,
});

/** Serves `total` lines in pages as the API does: `cursor` is the last seq handed out. */
function serveLog(total: number, { completeAt = total }: { completeAt?: number } = {}) {
  const state = { available: total };
  routeFetch({
    'GET /api/v1/training-jobs/j/versions/V001/logs': ({ url }) => {
      const q = new URL(url, 'http://x').searchParams;
      const after = Number(q.get('cursor') ?? 0);
      const limit = Number(q.get('limit') ?? 1000);
      const end = Math.min(state.available, after + limit);
      const lines: LogLine[] = [];
      for (let s = after + 1; s <= end; s++) lines.push(line(s));
      const page: LogPage = { lines, nextCursor: String(end), complete: end >= completeAt };
      return json(page);
    },
  });
  return state;
}

describe('LogViewer', () => {
  it('reads 100,000 lines yet keeps only a window of them in the DOM', async () => {
    serveLog(100_000);
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />);

    expect(await screen.findByText('100,000 lines', {}, { timeout: 10_000 })).toBeTruthy();
    const rows = document.querySelectorAll('.log-line');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(200);
  });

  it('shows new lines as they come while the job runs', async () => {
    const log = serveLog(3, { completeAt: Number.POSITIVE_INFINITY });
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live />);
    expect(await screen.findByText('epoch 3 loss=0.3')).toBeTruthy();
    log.available = 5;
    expect(await screen.findByText('epoch 5 loss=0.5', {}, { timeout: 5000 })).toBeTruthy();
  });

  it('renders ANSI colours and searches the text without them', async () => {
    routeFetch({
      'GET /api/v1/training-jobs/j/versions/V001/logs': () =>
        json({ lines: [line(1, '\u001b[31mERROR\u001b[0m disk full'), line(2, 'all fine')], nextCursor: '2', complete: true }),
    });
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />);
    const red = await screen.findByText('ERROR');
    expect(red.getAttribute('style')).toContain('color');
    expect(document.body.textContent).not.toContain('\u001b');

    fireEvent.change(screen.getByLabelText('Search logs'), { target: { value: 'error disk' } });
    await waitFor(() => expect(screen.queryByText('all fine')).toBeNull());
    expect(screen.getByText('1 matching')).toBeTruthy();
  });

  it('links the download of the node’s whole log', async () => {
    serveLog(1);
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />);
    expect(screen.getByRole('link', { name: 'Download the log of node 0' }).getAttribute('href')).toBe(
      '/api/v1/training-jobs/j/versions/V001/logs/download?node=0',
    );
  });
});
