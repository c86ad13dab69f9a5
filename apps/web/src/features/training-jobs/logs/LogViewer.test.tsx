import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
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

describe('LogViewer niceties', () => {
  afterEach(() => localStorage.clear());

  const serveLines = (byNode: Record<number, LogLine[]>) =>
    routeFetch({
      'GET /api/v1/training-jobs/j/versions/V001/logs': ({ url }) => {
        const node = Number(new URL(url, 'http://x').searchParams.get('node') ?? 0);
        const lines = byNode[node] ?? [];
        return json({ lines, nextCursor: String(lines.length), complete: true } satisfies LogPage);
      },
    });
  const at = (s: number) => `2025-11-28T10:00:${String(s).padStart(2, '0')}.000Z`;
  const node = (index: number) => ({ index, hostname: `host-${index}`, state: 'exited', exitCode: 0 });

  it('shows each line’s time when asked, and remembers the choice', async () => {
    serveLines({ 0: [{ ...line(1), at: at(5) }] });
    const view = renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />);
    await screen.findByText('epoch 1 loss=0.1');
    expect(document.querySelector('.log-line__time')).toBeNull();
    fireEvent.click(screen.getByRole('switch', { name: 'Timestamps' }));
    const time = document.querySelector('time.log-line__time');
    expect(time?.getAttribute('datetime')).toBe(at(5));
    expect(time?.textContent).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:05\.000$/);
    view.unmount();

    renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />);
    await screen.findByText('epoch 1 loss=0.1');
    expect((screen.getByRole('switch', { name: 'Timestamps' }) as HTMLInputElement).checked).toBe(true);
    expect(document.querySelector('time.log-line__time')).not.toBeNull();
  });

  it('jumps to the first line that mentions an error and marks it', async () => {
    serveLines({
      0: [
        line(1, 'starting'),
        { ...line(2, 'progress 10%'), stream: 'stderr' },
        line(3, 'Traceback (most recent call last):'),
        line(4, 'ValueError: bad'),
      ],
    });
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />, { url: '/jobs/j/V001' });
    await screen.findByText('starting');
    fireEvent.click(screen.getByRole('button', { name: 'First error' }));
    await waitFor(() => expect(document.querySelector('.log-line--target')?.getAttribute('data-seq')).toBe('3'));
    expect(document.querySelector('[aria-current="location"]')?.textContent).toContain('Traceback');
  });

  it('offers no jump when no line mentions an error', async () => {
    serveLines({ 0: [line(1, 'all fine')] });
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />);
    await screen.findByText('all fine');
    expect((screen.getByRole('button', { name: 'First error' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('opens a link to a line at that line, marked, and each line number is such a link', async () => {
    serveLines({ 0: Array.from({ length: 30 }, (_, i) => line(i + 1)) });
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live />, { url: '/jobs/j/V001?tab=logs#L25' });
    await screen.findByText('epoch 25 loss=0.25');
    await waitFor(() => expect(document.querySelector('.log-line--target')?.getAttribute('data-seq')).toBe('25'));
    // A link points at the line, with the tab and node kept.
    expect(screen.getByRole('link', { name: 'Link to line 7' }).getAttribute('href')).toBe('/jobs/j/V001?tab=logs&node=0#L7');
    fireEvent.click(screen.getByRole('link', { name: 'Link to line 7' }));
    await waitFor(() => expect(document.querySelector('.log-line--target')?.getAttribute('data-seq')).toBe('7'));
  });

  it('interleaves every node’s lines by time, each with its node', async () => {
    serveLines({
      0: [
        { ...line(1, 'n0 first'), at: at(1) },
        { ...line(2, 'n0 third'), at: at(3) },
      ],
      1: [
        { ...line(1, 'n1 second'), at: at(2) },
        { ...line(2, 'n1 fourth'), at: at(4) },
      ],
    });
    renderPage(<LogViewer name="j" version="V001" nodes={[node(0), node(1)]} live={false} />, { url: '/jobs/j/V001?node=all' });
    await screen.findByText('n1 fourth');
    const rows = [...document.querySelectorAll('.log-line')].map((r) => r.textContent);
    expect(rows).toEqual(['[0]1n0 first', '[1]1n1 second', '[0]2n0 third', '[1]2n1 fourth']);
    expect(screen.getByText('4 lines')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Link to node 1 line 2' }).getAttribute('href')).toBe('/jobs/j/V001?node=all&tab=logs#N1-L2');
  });
});

/** The browser's EventSource as the hook uses it; the test plays the server. */
class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static made: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onmessage: ((e: MessageEvent<string>) => void) | null = null;
  onerror: (() => void) | null = null;
  private readonly listeners = new Map<string, ((e: MessageEvent<string>) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.made.push(this);
  }

  addEventListener(type: string, fn: (e: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }

  /** A page of lines; its id is the cursor after it, as the server sends. */
  send(from: number, to: number, event = 'message'): void {
    const lines: LogLine[] = [];
    for (let s = from; s <= to; s++) lines.push(line(s));
    const page: LogPage = { lines, nextCursor: String(to), complete: event === 'end' };
    const e = new MessageEvent(event, { data: JSON.stringify(page), lastEventId: String(to) });
    this.readyState = FakeEventSource.OPEN;
    act(() => {
      if (event === 'message') this.onmessage?.(e);
      for (const fn of this.listeners.get(event) ?? []) fn(e);
    });
  }

  /** The connection dropped: the browser reconnects (CONNECTING) or gives up (CLOSED). */
  fail(giveUp = false): void {
    this.readyState = giveUp ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    act(() => this.onerror?.());
  }
}

describe('LogViewer while the job runs', () => {
  afterEach(() => {
    FakeEventSource.made = [];
  });

  it('follows the log by server-sent events, without repeats across a reconnect, until the end event', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    const calls = routeFetch({});
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live />);
    await waitFor(() => expect(FakeEventSource.made).toHaveLength(1));
    const es = FakeEventSource.made[0]!;
    expect(es.url).toBe('/api/v1/training-jobs/j/versions/V001/logs/stream?node=0');

    es.send(1, 3);
    expect(await screen.findByText('epoch 3 loss=0.3')).toBeTruthy();
    expect(screen.getByText('3 lines · following')).toBeTruthy();
    // The browser reconnects with Last-Event-ID itself; a line sent twice is shown once.
    es.fail();
    es.send(3, 5);
    expect(await screen.findByText('epoch 5 loss=0.5')).toBeTruthy();
    expect(screen.getByText('5 lines · following')).toBeTruthy();
    expect(document.querySelectorAll('[data-seq="3"]')).toHaveLength(1);

    es.send(6, 6, 'end');
    expect(await screen.findByText('6 lines')).toBeTruthy();
    expect(es.readyState).toBe(FakeEventSource.CLOSED);
    expect(FakeEventSource.made).toHaveLength(1);
    expect(calls).toHaveLength(0);
  });

  it('falls back to the logs API from the last cursor when the stream keeps failing', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    serveLog(5);
    const calls = vi.mocked(globalThis.fetch).mock.calls;
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live />);
    await waitFor(() => expect(FakeEventSource.made).toHaveLength(1));
    const es = FakeEventSource.made[0]!;
    es.send(1, 2);
    expect(await screen.findByText('epoch 2 loss=0.2')).toBeTruthy();
    es.fail();
    es.fail();
    expect(calls).toHaveLength(0);
    es.fail();
    expect(es.readyState).toBe(FakeEventSource.CLOSED);
    expect(await screen.findByText('5 lines')).toBeTruthy();
    expect(String(calls[0]![0])).toContain('cursor=2');
    expect(document.querySelectorAll('[data-seq="2"]')).toHaveLength(1);
  });

  it('reads an ended job through the logs API, without a stream', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    serveLog(2);
    renderPage(<LogViewer name="j" version="V001" nodes={[]} live={false} />);
    expect(await screen.findByText('2 lines')).toBeTruthy();
    expect(FakeEventSource.made).toHaveLength(0);
  });
});
