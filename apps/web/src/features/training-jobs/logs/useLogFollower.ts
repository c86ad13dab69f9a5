import { useEffect, useRef, useState } from 'react';
import type { LogLine } from '@tc/contracts';
import { fetchLogPage } from '../api';

export const LOG_PAGE_SIZE = 5000;
export const LOG_POLL_MS = 1000;

export interface LogFollower {
  /** Grows in place; `count` changes whenever it does. */
  lines: readonly LogLine[];
  count: number;
  /** The job has ended and every line has been read. */
  complete: boolean;
  error: string | null;
}

/**
 * Reads a node's log page by page from the start and keeps asking for lines after the last
 * cursor until the server says the log is complete. Lines live in one array that only grows,
 * so 100,000 lines cost one re-render per page, not per line.
 */
export function useLogFollower(name: string, version: string, node: number): LogFollower {
  const lines = useRef<LogLine[]>([]);
  const [state, setState] = useState({ count: 0, complete: false, error: null as string | null });

  useEffect(() => {
    const abort = new AbortController();
    lines.current = [];
    setState({ count: 0, complete: false, error: null });
    let cursor: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const tick = async () => {
      try {
        const page = await fetchLogPage(name, version, { node, cursor, limit: LOG_PAGE_SIZE }, abort.signal);
        if (abort.signal.aborted) return;
        cursor = page.nextCursor;
        if (page.lines.length > 0) lines.current.push(...page.lines);
        setState({ count: lines.current.length, complete: page.complete, error: null });
        if (page.complete) return;
        // A full page means more is waiting: ask again at once; otherwise wait for new lines.
        timer = setTimeout(() => void tick(), page.lines.length >= LOG_PAGE_SIZE ? 0 : LOG_POLL_MS);
      } catch (err) {
        if (abort.signal.aborted) return;
        setState((s) => ({ ...s, error: err instanceof Error ? err.message : String(err) }));
        timer = setTimeout(() => void tick(), LOG_POLL_MS * 3);
      }
    };
    void tick();
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, [name, version, node]);

  return { lines: lines.current, ...state };
}
