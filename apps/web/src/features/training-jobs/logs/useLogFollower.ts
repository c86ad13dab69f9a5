import { useEffect, useRef, useState } from 'react';
import { LOG_STREAM_END_EVENT, type LogLine, type LogPage } from '@tc/contracts';
import { fetchLogPage, logStreamUrl } from '../api';

export const LOG_PAGE_SIZE = 5000;
export const LOG_POLL_MS = 1000;
/** Errors in a row (no event got through between them) before the live stream gives way to polling. */
export const STREAM_FAILURES_BEFORE_POLLING = 3;

export interface LogFollower {
  /** Grows in place; `count` changes whenever it does. */
  lines: readonly LogLine[];
  count: number;
  /** The job has ended and every line has been read. */
  complete: boolean;
  error: string | null;
}

/**
 * A node's log from its start, then its new lines until the job has ended. While the job runs the
 * server pushes them (server-sent events); the browser's EventSource reconnects by itself with
 * the last event's id, which is the logs API's cursor, so a dropped connection loses and repeats
 * nothing. When the stream keeps failing (a proxy that does not pass it, a refusal), or for a job
 * that has ended, the log is read through the logs API from the same cursor, page by page, asking
 * again for new lines until the server says the log is complete. Lines live in one array that
 * only grows, so 100,000 lines cost one re-render per page, not per line.
 */
export function useLogFollower(name: string, version: string, node: number, live = false): LogFollower {
  const lines = useRef<LogLine[]>([]);
  const [state, setState] = useState({ count: 0, complete: false, error: null as string | null });
  // Read when a log is opened: a job that ends meanwhile does not start the reading over.
  const liveAtOpen = useRef(live);
  useEffect(() => {
    liveAtOpen.current = live;
  }, [live]);

  useEffect(() => {
    const abort = new AbortController();
    lines.current = [];
    setState({ count: 0, complete: false, error: null });
    let cursor: string | undefined;
    let lastSeq = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let source: EventSource | null = null;

    const take = (page: LogPage) => {
      // Seqs only grow along the cursor; this only guards against a server that repeats itself.
      const fresh = page.lines.filter((l) => l.seq > lastSeq);
      if (fresh.length > 0) {
        lines.current.push(...fresh);
        lastSeq = fresh[fresh.length - 1]!.seq;
      }
      cursor = page.nextCursor;
      setState({ count: lines.current.length, complete: page.complete, error: null });
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
        setState((s) => ({ ...s, error: err instanceof Error ? err.message : String(err) }));
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

    if (liveAtOpen.current && typeof EventSource !== 'undefined') stream();
    else void tick();
    return () => {
      abort.abort();
      source?.close();
      if (timer) clearTimeout(timer);
    };
  }, [name, version, node]);

  return { lines: lines.current, ...state };
}
