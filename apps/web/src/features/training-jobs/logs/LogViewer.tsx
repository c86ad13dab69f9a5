import { memo, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Badge, Box, Button, Group, Select, Switch, Text, TextInput } from '@mantine/core';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { JobNode, LogLine } from '@tc/contracts';
import { logDownloadUrl } from '../api';
import { stripAnsi, toSegments } from './ansi';
import { useLogFollower } from './useLogFollower';

const ROW_HEIGHT = 20;

export interface LogViewerProps {
  name: string;
  version: string;
  nodes: JobNode[];
  /** The job can still write lines. */
  live: boolean;
}

/** Per-node logs that follow while the job runs: follow/pause, search, download, ANSI colours. */
export function LogViewer({ name, version, nodes, live }: LogViewerProps) {
  const [node, setNode] = useState(0);
  const log = useLogFollower(name, version, node, live);
  // A finished job's log is read from its start; a running one is followed at its end.
  const [follow, setFollow] = useState(live);
  const nodeOptions = nodes.map((n) => ({ value: String(n.index), label: `Node ${n.index} (${n.hostname})` }));
  // Hostnames are long (the engine's container names): the picker is as wide as the longest one.
  const nodeWidth = `calc(${Math.max(...nodeOptions.map((o) => o.label.length), 12)}ch + 48px)`;
  const [search, setSearch] = useState('');
  const term = useDeferredValue(search.trim().toLowerCase());

  return (
    <Box>
      <Group gap="sm" mb="sm" wrap="wrap" align="flex-end">
        {nodes.length > 1 && (
          <Select
            label="Node"
            w={nodeWidth}
            maw="100%"
            allowDeselect={false}
            data={nodeOptions}
            value={String(node)}
            onChange={(v) => setNode(Number(v ?? 0))}
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
        <Button
          component="a"
          href={logDownloadUrl(name, version, node)}
          download
          variant="default"
          aria-label={`Download the log of node ${node}`}
        >
          Download
        </Button>
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
      />
    </Box>
  );
}

interface LogLinesProps {
  lines: readonly LogLine[];
  count: number;
  term: string;
  follow: boolean;
  complete: boolean;
  onUserScrollUp: () => void;
}

function LogLines({ lines, count, term, follow, complete, onUserScrollUp }: LogLinesProps) {
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

  useEffect(() => {
    if (follow && total > 0) virtualizer.scrollToIndex(total - 1, { align: 'end' });
  }, [follow, total, virtualizer]);

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
            return line ? <Row key={row.key} line={line} top={row.start} /> : null;
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

const Row = memo(function Row({ line, top }: { line: LogLine; top: number }) {
  return (
    <div className={`log-line log-line--${line.stream}`} style={{ transform: `translateY(${top}px)` }} data-seq={line.seq}>
      <span className="log-line__seq" aria-hidden>
        {line.seq}
      </span>
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
