import { useEffect, useRef, useState } from 'react';
import { Alert, Box, Group, Loader, Text } from '@mantine/core';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';

export interface TerminalViewProps {
  /** The terminal route's path, e.g. /api/v1/training-jobs/NAME/versions/V001/nodes/0/terminal. */
  path: string;
}

type State = { kind: 'connecting' } | { kind: 'open' } | { kind: 'closed'; message: string } | { kind: 'error'; message: string };

/** What the server's close codes mean (apps/server/src/terminal/terminal-sessions.ts, TerminalClose). */
function closedMessage(code: number, reason: string): State {
  if (code === 1000) return { kind: 'closed', message: reason || 'The shell exited.' };
  if (code === 4000) {
    const status = reason.replace(/^the job is /, '');
    return { kind: 'closed', message: `The job ${status === 'Stopping' ? 'is stopping' : `ended (${status})`}; the terminal is closed.` };
  }
  if (code === 4001) return { kind: 'closed', message: 'Closed after a while without input. Open it again to go on.' };
  if (code === 1001) return { kind: 'closed', message: 'The console is restarting. Open the terminal again in a moment.' };
  return { kind: 'error', message: reason || `The connection was lost (code ${code}).` };
}

/**
 * A handshake the server refused closes with 1006 and nothing else: the browser hides the HTTP
 * answer. The same address as a plain GET runs the same checks and says why.
 */
async function refusal(path: string): Promise<string> {
  try {
    const res = await fetch(path, { credentials: 'same-origin' });
    const body = (await res.json().catch(() => null)) as { message?: unknown } | null;
    if (typeof body?.message === 'string') return body.message;
  } catch {
    // Offline or the server is down: the generic message says enough.
  }
  return 'Could not connect to the node. It may have stopped, or the console is not reachable.';
}

/**
 * xterm.js over the terminal WebSocket (loaded lazily, in its own chunk). Keys go out as binary
 * frames, the size as a JSON control frame; the terminal follows its box's size.
 */
export default function TerminalView({ path }: TerminalViewProps) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<State>({ kind: 'connecting' });

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${window.location.host}${path}?cols=${term.cols}&rows=${term.rows}`);
    ws.binaryType = 'arraybuffer';
    let opened = false;
    let disposed = false;
    const encoder = new TextEncoder();
    const send = (data: Uint8Array | string) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    };
    ws.onopen = () => {
      opened = true;
      setState({ kind: 'open' });
      term.focus();
    };
    ws.onmessage = (e: MessageEvent) => {
      if (e.data instanceof ArrayBuffer) term.write(new Uint8Array(e.data));
    };
    ws.onclose = (e) => {
      if (disposed) return;
      if (!opened) {
        void refusal(path).then((message) => !disposed && setState({ kind: 'error', message }));
        return;
      }
      setState(closedMessage(e.code, e.reason));
      term.options.disableStdin = true;
    };
    const subscriptions = [
      term.onData((d) => send(encoder.encode(d))),
      // Some mouse reports are binary strings: one byte a character.
      term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff))),
      term.onResize(({ cols, rows }) => send(JSON.stringify({ type: 'resize', cols, rows }))),
    ];
    const observer = new ResizeObserver(() => {
      try {
        fit.fit();
      } catch {
        // A box of no size (the modal closing) has nothing to fit.
      }
    });
    observer.observe(el);
    return () => {
      disposed = true;
      observer.disconnect();
      subscriptions.forEach((s) => s.dispose());
      ws.close();
      term.dispose();
    };
  }, [path]);

  return (
    <Box>
      <Group gap="xs" mb="xs" mih={24}>
        {state.kind === 'connecting' && (
          <>
            <Loader size="xs" />
            <Text size="sm" c="dimmed">
              Connecting…
            </Text>
          </>
        )}
        {state.kind === 'open' && (
          <Text size="sm" c="dimmed" data-terminal-state="open">
            Connected as UID 1101 in /home/work. Type <code>exit</code> or close this window to end the session.
          </Text>
        )}
      </Group>
      {(state.kind === 'closed' || state.kind === 'error') && (
        <Alert color={state.kind === 'error' ? 'red' : 'gray'} mb="xs" data-terminal-state={state.kind} role="status">
          {state.message}
        </Alert>
      )}
      <Box ref={box} data-testid="terminal" style={{ height: '60vh', minHeight: 240, background: '#000', padding: 4, borderRadius: 4 }} />
    </Box>
  );
}
