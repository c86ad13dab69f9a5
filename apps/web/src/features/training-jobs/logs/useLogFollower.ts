import { useEffect, useRef, useState } from 'react';
import { LOG_STREAM_END_EVENT, type LogLine, type LogPage } from '@tc/contracts';
import { fetchLogPage, logStreamUrl } from '../api';

export const LOG_PAGE_SIZE = 5000;
export const LOG_POLL_MS = 1000;
/** Errors in a row (no event got through between them) before the live stream gives way to polling. */
export const STREAM_FAILURES_BEFORE_POLLING = 3;

/** A line as the viewer shows it: `node` is set when several nodes' logs are interleaved. */
export type ViewLine = LogLine & { node?: number };

export interface LogFollower {
  /** Grows in place; `count` changes whenever it does. */
  lines: readonly ViewLine[];
  count: number;
  /** The job has ended and every line has been read. */
  complete: boolean;
  error: string | null;
}

interface LogSink {
  /** New lines (seq above every earlier one) and whether the log is now complete. */
  take(fresh: LogLine[], complete: boolean): void;
  fail(message: string): void;
}

/**
 * Reads one node's log from its start, then its new lines until the job has ended. While the job
 * runs the server pushes them (server-sent events); the browser's EventSource reconnects by
 * itself with the last event's id, which is the logs API's cursor, so a dropped connection loses
 * and repeats nothing. When the stream keeps failing (a proxy that does not pass it, a refusal),
 * or for a job that has ended, the log is read through the logs API from the same cursor, page
 * by page, asking again for new lines until the server says the log is complete. Returns the stop.
 */
function openLog(name: string, version: string, node: number, live: boolean, sink: LogSink): () => void {
  const abort = new AbortController();
  let cursor: string | undefined;
  let lastSeq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let source: EventSource | null = null;

  const take = (page: LogPage) => {
    // Seqs only grow along the cursor; this only guards against a server that repeats itself.
    const fresh = page.lines.filter((l) => l.seq > lastSeq);
    if (fresh.length > 0) lastSeq = fresh[fresh.length - 1]!.seq;
    cursor = page.nextCursor;
    sink.take(fresh, page.complete);
  };

  const tick = async () => {
    try {
      const page = await fetchLogPage(name, version, { node, cursor, limit: LOG_PAGE_SIZE }, abort.signal);
      if (abort.signal.aborted) return;
      take(page);
      if (page.complete) return;
      // A full page means more is waiting: ask again at once; otherwise wait for new lines.
      timer = setTimeout(() => void tick(), page.lines.length >= LOG_PAGE_SIZE ? 0 : LOG_POLL_MS);
    } catch (err) {
      if (abort.signal.aborted) return;
      sink.fail(err instanceof Error ? err.message : String(err));
      timer = setTimeout(() => void tick(), LOG_POLL_MS * 3);
    }
  };

  const stream = () => {
    let failures = 0;
    const es = new EventSource(logStreamUrl(name, version, node, cursor));
    source = es;
    es.onmessage = (e: MessageEvent<string>) => {
      failures = 0;
      take(JSON.parse(e.data) as LogPage);
    };
    es.addEventListener(LOG_STREAM_END_EVENT, (e) => {
      // Closed here, or the browser would reconnect to a stream that has nothing more.
      es.close();
      source = null;
      take(JSON.parse((e as MessageEvent<string>).data) as LogPage);
    });
    es.onerror = () => {
      failures += 1;
      // While CONNECTING the browser retries by itself, from the last event's id.
      if (es.readyState !== EventSource.CLOSED && failures < STREAM_FAILURES_BEFORE_POLLING) return;
      es.close();
      source = null;
      if (!abort.signal.aborted) void tick();
    };
  };

  if (live && typeof EventSource !== 'undefined') stream();
  else void tick();
  return () => {
    abort.abort();
    source?.close();
    if (timer) clearTimeout(timer);
  };
}

interface FollowState {
  /** The log these lines are of; a new one starts empty. */
  key: string;
  lines: readonly ViewLine[];
  count: number;
  complete: boolean;
  error: string | null;
}

const empty = (key: string): FollowState => ({ key, lines: [], count: 0, complete: false, error: null });

/** State for the log `key`: reset as soon as the key changes, before the new log's first page. */
function useFollowState(key: string) {
  const [state, setState] = useState(() => empty(key));
  if (state.key !== key) {
    setState(empty(key));
    return [empty(key), setState] as const;
  }
  return [state, setState] as const;
}

/**
 * A node's log (see openLog). Lines live in one array that only grows, so 100,000 lines cost one
 * re-render per page, not per line. `enabled: false` reads nothing (another view is shown).
 */
export function useLogFollower(name: string, version: string, node: number, live = false, enabled = true): LogFollower {
  const key = `${name}/${version}/${node}/${enabled}`;
  const [state, setState] = useFollowState(key);
  // Read when a log is opened: a job that ends meanwhile does not start the reading over.
  const liveAtOpen = useRef(live);
  useEffect(() => {
    liveAtOpen.current = live;
  }, [live]);

  useEffect(() => {
    if (!enabled) return;
    const lines: LogLine[] = [];
    return openLog(name, version, node, liveAtOpen.current, {
      take: (fresh, complete) => {
        if (fresh.length > 0) lines.push(...fresh);
        setState({ key, lines, count: lines.length, complete, error: null });
      },
      fail: (error) => setState((s) => (s.key === key ? { ...s, error } : s)),
    });
  }, [name, version, node, enabled, key, setState]);

  return { lines: state.lines, count: state.count, complete: state.complete, error: state.error };
}

/**
 * Several nodes' logs interleaved by time: each node is read as useLogFollower reads one, and
 * its lines carry `node`. Ties keep node order, and a node's own lines keep their order.
 */
export function useAllNodesLog(name: string, version: string, nodes: readonly number[], live = false, enabled = true): LogFollower {
  const nodesKey = nodes.join(',');
  const key = `${name}/${version}/${nodesKey}/${enabled}`;
  const [state, setState] = useFollowState(key);
  const liveAtOpen = useRef(live);
  useEffect(() => {
    liveAtOpen.current = live;
  }, [live]);

  useEffect(() => {
    const indexes = nodesKey.split(',').filter(Boolean).map(Number);
    if (!enabled || indexes.length === 0) return;
    const perNode = indexes.map((): ViewLine[] => []);
    const done = new Set<number>();
    const stops = indexes.map((n, i) =>
      openLog(name, version, n, liveAtOpen.current, {
        take: (fresh, complete) => {
          if (fresh.length > 0) perNode[i]!.push(...fresh.map((l) => ({ ...l, node: n })));
          if (complete) done.add(n);
          // Re-merged whole: another node's older lines may come after this one's newer ones.
          const lines = mergeByTime(perNode);
          setState({ key, lines, count: lines.length, complete: done.size === indexes.length, error: null });
        },
        fail: (error) => setState((s) => (s.key === key ? { ...s, error } : s)),
      }),
    );
    return () => stops.forEach((stop) => stop());
  }, [name, version, nodesKey, enabled, key, setState]);

  return { lines: state.lines, count: state.count, complete: state.complete, error: state.error };
}

const timeOf = (l: LogLine): number => Date.parse(l.at);

/** A k-way merge of logs each already in time order. */
export function mergeByTime(logs: readonly (readonly ViewLine[])[]): ViewLine[] {
  const out: ViewLine[] = [];
  const at = logs.map(() => 0);
  const total = logs.reduce((n, l) => n + l.length, 0);
  while (out.length < total) {
    let best = -1;
    let bestTime = Infinity;
    for (let i = 0; i < logs.length; i++) {
      const l = logs[i]![at[i]!];
      if (!l) continue;
      const t = timeOf(l);
      if (best < 0 || t < bestTime) {
        best = i;
        bestTime = t;
      }
    }
    out.push(logs[best]![at[best]!]!);
    at[best] = at[best]! + 1;
  }
  return out;
}
