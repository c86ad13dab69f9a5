import { memo, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Badge, Box, Button, Group, Select, Switch, Text, TextInput } from '@mantine/core';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useLocation, useNavigate } from 'react-router';
import type { JobNode } from '@tc/contracts';
import { logDownloadUrl } from '../api';
import { stripAnsi, toSegments } from './ansi';
import { useAllNodesLog, useLogFollower, type ViewLine } from './useLogFollower';
import './LogViewer.css';

const ROW_HEIGHT = 20;
/** The Node picker's value for every node's lines interleaved by time. */
export const ALL_NODES = 'all';
const TIMESTAMPS_KEY = 'tc.logs.timestamps';

/**
 * What "First error" looks for: a line whose text (colours stripped) says error, exception or
 * traceback, on any stream. Not every stderr line: Python's logging and progress bars write there.
 */
export const ERROR_LINE = /error|exception|traceback/i;

export interface LogViewerProps {
  name: string;
  version: string;
  nodes: JobNode[];
  /** The job can still write lines. */
  live: boolean;
}

/** A line's place in a link: `#L12` (the node in `?node=`), or `#N1-L12` among all nodes. */
interface LineRef {
  node: number;
  seq: number;
}

export function parseLineHash(hash: string, node: number | typeof ALL_NODES): LineRef | null {
  const all = /^#N(\d+)-L(\d+)$/.exec(hash);
  if (all) return { node: Number(all[1]), seq: Number(all[2]) };
  const one = /^#L(\d+)$/.exec(hash);
  if (one) return { node: node === ALL_NODES ? 0 : node, seq: Number(one[1]) };
  return null;
}

const lineHash = (ref: LineRef, all: boolean): string => (all ? `#N${ref.node}-L${ref.seq}` : `#L${ref.seq}`);
const sameLine = (a: LineRef | null, b: LineRef): boolean => a !== null && a.node === b.node && a.seq === b.seq;

function readTimestamps(): boolean {
  try {
    return localStorage.getItem(TIMESTAMPS_KEY) === '1';
  } catch {
    return false;
  }
}

/**
 * Per-node logs that follow while the job runs: follow/pause, search, download, ANSI colours,
 * timestamps, every node interleaved by time, "First error", and links to a line (`#L<seq>`,
 * kept with `?tab=logs&node=` in the address) that scroll to it and mark it.
 */
export function LogViewer({ name, version, nodes, live }: LogViewerProps) {
  const location = useLocation();
  const navigate = useNavigate();
  const params = new URLSearchParams(location.search);
  const nodeParam = params.get('node');
  const multi = nodes.length > 1;
  const node: number | typeof ALL_NODES =
    multi && nodeParam === ALL_NODES ? ALL_NODES : nodeParam !== null && /^\d+$/.test(nodeParam) ? Number(nodeParam) : 0;
  const all = node === ALL_NODES;
  const oneNode = typeof node === 'number' ? node : 0;

  const one = useLogFollower(name, version, oneNode, live, !all);
  const indexes = useMemo(() => nodes.map((n) => n.index), [nodes]);
  const merged = useAllNodesLog(name, version, indexes, live, all);
  const log = all ? merged : one;

  const [target, setTarget] = useState<{ ref: LineRef; nonce: number } | null>(() => {
    const ref = parseLineHash(location.hash, node);
    return ref ? { ref, nonce: 0 } : null;
  });
  // A finished job's log is read from its start; a running one is followed at its end, unless a link points at a line.
  const [follow, setFollow] = useState(live && target === null);
  const [search, setSearch] = useState('');
  const term = useDeferredValue(search.trim().toLowerCase());
  const [timestamps, setTimestamps] = useState(readTimestamps);

  // A link followed while the page is open (back, forward, a pasted address) points somewhere new.
  const [seenHash, setSeenHash] = useState(location.hash);
  if (location.hash !== seenHash) {
    setSeenHash(location.hash);
    const ref = parseLineHash(location.hash, node);
    if (ref) {
      setTarget((t) => ({ ref, nonce: (t?.nonce ?? 0) + 1 }));
      setFollow(false);
    }
  }

  const linkParams = new URLSearchParams(location.search);
  linkParams.set('tab', 'logs');
  linkParams.set('node', String(node));
  const linkBase = `${location.pathname}?${linkParams.toString()}`;

  const goTo = (ref: LineRef) => {
    setSearch('');
    setFollow(false);
    setTarget((t) => ({ ref, nonce: (t?.nonce ?? 0) + 1 }));
    const hash = lineHash(ref, all);
    setSeenHash(hash);
    void navigate(`${linkBase}${hash}`, { replace: true });
  };

  const firstError = useMemo(() => {
    for (let i = 0; i < log.count; i++) {
      const l = log.lines[i];
      // The raw text first: most lines do not match, and colour codes never add a match.
      if (l && ERROR_LINE.test(l.text) && ERROR_LINE.test(stripAnsi(l.text))) return l;
    }
    return null;
  }, [log.lines, log.count]);

  const setNode = (v: string) => {
    const next = new URLSearchParams(location.search);
    next.set('node', v);
    setTarget(null);
    void navigate(`${location.pathname}?${next.toString()}`, { replace: true });
  };

  const nodeOptions = [
    ...nodes.map((n) => ({ value: String(n.index), label: `Node ${n.index} (${n.hostname})` })),
    ...(multi ? [{ value: ALL_NODES, label: 'All nodes, by time' }] : []),
  ];
  // Hostnames are long (the engine's container names): the picker is as wide as the longest one.
  const nodeWidth = `calc(${Math.max(...nodeOptions.map((o) => o.label.length), 12)}ch + 48px)`;

  return (
    <Box>
      <Group gap="sm" mb="sm" wrap="wrap" align="flex-end">
        {multi && (
          <Select
            label="Node"
            w={nodeWidth}
            maw="100%"
            allowDeselect={false}
            data={nodeOptions}
            value={String(node)}
            onChange={(v) => setNode(v ?? '0')}
          />
        )}
        <TextInput
          label="Search logs"
          type="search"
          placeholder="text in a line"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={240}
        />
        <Switch label="Follow" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} mb={8} />
        <Switch
          label="Timestamps"
          checked={timestamps}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            setTimestamps(on);
            try {
              localStorage.setItem(TIMESTAMPS_KEY, on ? '1' : '0');
            } catch {
              // Private windows may refuse storage: the choice then lasts as long as the page.
            }
          }}
          mb={8}
        />
        <Button
          variant="default"
          disabled={!firstError}
          title={firstError ? undefined : 'No line mentions an error, exception or traceback'}
          onClick={() => firstError && goTo({ node: firstError.node ?? oneNode, seq: firstError.seq })}
        >
          First error
        </Button>
        {all ? (
          <Button variant="default" disabled title="Choose one node to download its log">
            Download
          </Button>
        ) : (
          <Button
            component="a"
            href={logDownloadUrl(name, version, oneNode)}
            download
            variant="default"
            aria-label={`Download the log of node ${oneNode}`}
          >
            Download
          </Button>
        )}
        <Text size="sm" c="dimmed" mb={8} aria-live="polite">
          {log.count.toLocaleString()} lines{log.complete ? '' : live ? ' · following' : ''}
        </Text>
      </Group>
      {log.error && (
        <Alert color="red" role="alert" mb="sm" title="Could not read the log">
          {log.error} — retrying.
        </Alert>
      )}
      <LogLines
        lines={log.lines}
        count={log.count}
        term={term}
        follow={follow}
        onUserScrollUp={() => setFollow(false)}
        complete={log.complete}
        node={all ? null : oneNode}
        timestamps={timestamps}
        target={target}
        linkBase={linkBase}
        onLink={goTo}
      />
    </Box>
  );
}

interface LogLinesProps {
  lines: readonly ViewLine[];
  count: number;
  term: string;
  follow: boolean;
  complete: boolean;
  onUserScrollUp: () => void;
  /** The node every line is from; null when lines carry their own (all nodes). */
  node: number | null;
  timestamps: boolean;
  target: { ref: LineRef; nonce: number } | null;
  linkBase: string;
  onLink: (ref: LineRef) => void;
}

function LogLines({ lines, count, term, follow, complete, onUserScrollUp, node, timestamps, target, linkBase, onLink }: LogLinesProps) {
  const parent = useRef<HTMLDivElement>(null);
  // Only the indexes of matching lines are kept; `count` stands for the array growing in place.
  const shown = useMemo(() => {
    if (!term) return null;
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const line = lines[i];
      if (line && stripAnsi(line.text).toLowerCase().includes(term)) out.push(i);
    }
    return out;
  }, [lines, count, term]);
  const total = shown ? shown.length : count;
  // TanStack Virtual hands back new functions each render, so the compiler leaves this component alone.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const lastTop = useRef(0);
  const refOf = (l: ViewLine): LineRef => ({ node: l.node ?? node ?? 0, seq: l.seq });

  useEffect(() => {
    if (follow && total > 0) virtualizer.scrollToIndex(total - 1, { align: 'end' });
  }, [follow, total, virtualizer]);

  // A link's line is scrolled to once it has been read (a long log comes page by page).
  const reached = useRef<number | null>(null);
  useEffect(() => {
    if (!target || reached.current === target.nonce) return;
    for (let i = 0; i < total; i++) {
      const l = lines[shown ? shown[i]! : i];
      if (l && sameLine(target.ref, refOf(l))) {
        reached.current = target.nonce;
        virtualizer.scrollToIndex(i, { align: 'center' });
        return;
      }
    }
  });

  // A hidden tab has no height; when the Logs tab is shown again, following resumes at the end.
  useEffect(() => {
    const el = parent.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    let wasHidden = el.clientHeight === 0;
    const observer = new ResizeObserver(() => {
      const hidden = el.clientHeight === 0;
      if (wasHidden && !hidden && follow && total > 0) virtualizer.scrollToIndex(total - 1, { align: 'end' });
      wasHidden = hidden;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [follow, total, virtualizer]);

  return (
    <div
      ref={parent}
      className="log-view"
      role="log"
      aria-label="Log lines"
      tabIndex={0}
      onScroll={(e) => {
        const top = e.currentTarget.scrollTop;
        // Scrolling up to read is a pause; the Follow switch brings it back.
        if (top < lastTop.current - 4 && follow) onUserScrollUp();
        lastTop.current = top;
      }}
    >
      {total === 0 ? (
        <div className="log-view__empty">{term ? 'No line matches.' : complete ? 'This log is empty.' : 'Waiting for log lines…'}</div>
      ) : (
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative', minWidth: '100%', width: 'max-content' }}>
          {virtualizer.getVirtualItems().map((row) => {
            const line = lines[shown ? (shown[row.index] ?? 0) : row.index];
            if (!line) return null;
            const ref = refOf(line);
            return (
              <Row
                key={row.key}
                line={line}
                top={row.start}
                showNode={node === null}
                timestamps={timestamps}
                targeted={sameLine(target?.ref ?? null, ref)}
                href={`${linkBase}${lineHash(ref, node === null)}`}
                onLink={onLink}
                lineRef={ref}
              />
            );
          })}
        </div>
      )}
      {term && shown && (
        <Badge className="log-view__matches" variant="filled" color="dark">
          {shown.length.toLocaleString()} matching
        </Badge>
      )}
    </div>
  );
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local time to the millisecond, always 23 characters wide. */
export function formatLogTime(at: string): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at.slice(0, 23).padEnd(23);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

interface RowProps {
  line: ViewLine;
  top: number;
  showNode: boolean;
  timestamps: boolean;
  targeted: boolean;
  href: string;
  lineRef: LineRef;
  onLink: (ref: LineRef) => void;
}

const Row = memo(function Row({ line, top, showNode, timestamps, targeted, href, lineRef, onLink }: RowProps) {
  return (
    <div
      className={`log-line log-line--${line.stream}${targeted ? ' log-line--target' : ''}`}
      style={{ transform: `translateY(${top}px)` }}
      data-seq={line.seq}
      data-node={line.node}
      aria-current={targeted ? 'location' : undefined}
    >
      {showNode && <span className="log-line__node">[{line.node}]</span>}
      {timestamps && (
        <time className="log-line__time" dateTime={line.at}>
          {formatLogTime(line.at)}
        </time>
      )}
      <a
        className="log-line__seq"
        href={href}
        aria-label={showNode ? `Link to node ${lineRef.node} line ${line.seq}` : `Link to line ${line.seq}`}
        onClick={(e) => {
          if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
          e.preventDefault();
          onLink(lineRef);
        }}
      >
        {line.seq}
      </a>
      <span className="log-line__text">
        {toSegments(line.text).map((s, i) =>
          s.style ? (
            <span key={i} style={s.style}>
              {s.text}
            </span>
          ) : (
            s.text
          ),
        )}
      </span>
    </div>
  );
});
