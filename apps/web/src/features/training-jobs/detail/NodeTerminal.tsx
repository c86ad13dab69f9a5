import { lazy, Suspense, useState } from 'react';
import { Button, Modal, Skeleton } from '@mantine/core';
import { API_BASE } from '../../../api/client';

// xterm.js (≈ 100 kB gzip) is fetched when a terminal is first opened, never with the page.
const TerminalView = lazy(() => import('./TerminalView'));

/** The terminal route of one node (see apps/server/src/http/terminal.ts). */
export function terminalPath(name: string, version: string, node: number): string {
  return `${API_BASE}/training-jobs/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/nodes/${node}/terminal`;
}

/**
 * "Terminal" on a running node: a shell in the node's container, in a window. Whoever sees the
 * job page may open one (its owner and admins: everyone else gets no page at all).
 */
export function NodeTerminalButton({ name, version, node }: { name: string; version: string; node: number }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button size="compact-xs" variant="light" onClick={() => setOpen(true)} aria-label={`Open a terminal on node ${node}`}>
        Terminal
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Terminal: ${name} ${version}, node ${node}`} size="90%">
        {open && (
          <Suspense fallback={<Skeleton height={320} aria-label="Loading the terminal" />}>
            <TerminalView path={terminalPath(name, version, node)} />
          </Suspense>
        )}
      </Modal>
    </>
  );
}
