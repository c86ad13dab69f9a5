import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobNode, JobStatus, NodeTransfer, TrainingJob } from '@tc/contracts';
import { renderPage } from '../../../test-utils';
import { detailRefetchInterval, LIST_POLL_INTERVAL_MS, TRANSFER_POLL_INTERVAL_MS } from '../api';
import { JobNodes } from './JobNodes';

const MiB = 1024 * 1024;
const downloading: NodeTransfer = {
  step: 'download',
  files: 1234,
  filesTotal: 10000,
  bytes: 512 * MiB,
  bytesTotal: 1024 * MiB,
  done: false,
};
const downloaded: NodeTransfer = { ...downloading, files: 10000, bytes: 1024 * MiB, done: true };
const uploading: NodeTransfer = { step: 'upload', files: 1, filesTotal: 3, bytes: 3 * MiB, bytesTotal: 12 * MiB, done: false };
const uploaded: NodeTransfer = { ...uploading, files: 3, bytes: 12 * MiB, done: true };

const node = (index: number, transfers: NodeTransfer[], state = 'running'): JobNode => ({
  index,
  hostname: `linreg-v001-worker-${index}`,
  state,
  exitCode: null,
  transfers,
});

function show(status: JobStatus, ...nodes: JobNode[]) {
  renderPage(<JobNodes status={status} nodes={nodes} />);
  return screen.getByRole('list', { name: 'Compute nodes' });
}

/** A node's transfer lines, in page order, as `step[-done]`. */
const lines = (row: Element) => [...row.querySelectorAll('[data-transfer]')].map((el) => el.getAttribute('data-transfer'));

/** What a node's transfer area takes up: lines (shown or blank) and rooms for a bar. */
const room = (row: Element) => ({
  lines: row.querySelectorAll('[data-transfer], [data-transfer-blank]').length,
  bars: row.querySelectorAll('[data-bar-room]').length,
});

describe('JobNodes', () => {
  afterEach(() => cleanup());

  it('shows a named bar and the counts while code and data come down, with room kept for the upload', () => {
    const list = show('Initializing', node(0, [downloading], 'created'));
    const bar = within(list).getByRole('progressbar', { name: 'Node 0 code and data download' });
    expect(bar.getAttribute('aria-valuenow')).toBe('50');
    expect(within(list).getByText('Downloading code and data: 1,234 of 10,000 files, 512 MiB of 1.0 GiB')).toBeTruthy();
    expect(within(list).getByText('linreg-v001-worker-0 · created')).toBeTruthy();
    const row = within(list).getByRole('listitem');
    // The download's line, then a blank one where the upload will show.
    expect(lines(row)).toEqual(['download']);
    expect(row.querySelector('[data-transfer-blank]')?.textContent).toBe('\u00a0');
  });

  it('keeps the finished download as a line of totals above the upload in progress', () => {
    const list = show('Running', node(0, [downloaded, uploading]));
    const row = within(list).getByRole('listitem');
    expect(lines(row)).toEqual(['download-done', 'upload']);
    expect(within(row).getByText('Downloaded 10,000 files, 1.0 GiB')).toBeTruthy();
    expect(within(row).getByText('Uploading outputs: 1 of 3 files, 3.0 MiB of 12 MiB')).toBeTruthy();
    // One bar, the upload's: the download has none left.
    expect(within(row).getAllByRole('progressbar')).toHaveLength(1);
    const bar = within(row).getByRole('progressbar', { name: 'Node 0 output upload' });
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(within(row).queryByRole('progressbar', { name: 'Node 0 code and data download' })).toBeNull();
  });

  it('shows both totals, and no bar, once download and upload are done', () => {
    const list = show('Successful', node(0, [downloaded, uploaded], 'exited'));
    const row = within(list).getByRole('listitem');
    expect(lines(row)).toEqual(['download-done', 'upload-done']);
    expect(within(row).getByText('Downloaded 10,000 files, 1.0 GiB')).toBeTruthy();
    expect(within(row).getByText('Uploaded 3 files, 12 MiB')).toBeTruthy();
    expect(within(row).queryByRole('progressbar')).toBeNull();
  });

  it('shows each node with its own transfers and bars', () => {
    const list = show('Running', node(0, [downloaded, uploading]), node(1, [downloaded, uploaded]));
    const [first, second] = within(list).getAllByRole('listitem');
    expect(within(first!).getByRole('progressbar', { name: 'Node 0 output upload' })).toBeTruthy();
    expect(within(second!).queryByRole('progressbar')).toBeNull();
    expect(within(second!).getByText('Uploaded 3 files, 12 MiB')).toBeTruthy();
  });

  it('keeps the room for both steps before any transfer, so nothing moves when they come', () => {
    const list = show('Queuing', node(0, [], 'pending'));
    const row = within(list).getByRole('listitem');
    expect(within(list).queryByRole('progressbar')).toBeNull();
    expect(row.textContent).toContain('linreg-v001-worker-0 · pending');
    // Two blank lines (a no-break space each) and a bar's room, before any transfer.
    expect(row.querySelector('[data-transfer-slot]')?.textContent).toBe('\u00a0\u00a0');
    expect(room(row)).toEqual({ lines: 2, bars: 1 });
    expect(within(list).queryByText(/Download|Upload/)).toBeNull();
  });

  it('takes the same room at every step while the job can change, and keeps it once it has ended', () => {
    const steps: [JobStatus, NodeTransfer[]][] = [
      ['Queuing', []],
      ['Initializing', [downloading]],
      ['Running', [downloaded]],
      ['Running', [downloaded, uploading]],
      ['Stopping', [downloaded, uploaded]],
      ['Successful', [downloaded, uploaded]],
    ];
    for (const [status, transfers] of steps) {
      const list = show(status, node(0, transfers));
      expect({ status, transfers: transfers.length, ...room(within(list).getByRole('listitem')) }).toEqual({
        status,
        transfers: transfers.length,
        lines: 2,
        bars: 1,
      });
      cleanup();
    }
  });

  it('a node without the field (an older server) keeps the same room', () => {
    const list = show('Queuing', { index: 0, hostname: 'linreg-v001-worker-0', state: 'pending', exitCode: null });
    expect(within(list).getByRole('listitem').querySelector('[data-transfer-slot]')?.textContent).toBe('\u00a0\u00a0');
  });

  it('an ended job with no transfer shows just its nodes, and a stopped transfer has no moving bar', () => {
    const list = show('Stopped', { ...node(0, [], 'exited'), exitCode: 143 }, node(1, [downloaded, uploading], 'exited'));
    const [first, second] = within(list).getAllByRole('listitem');
    expect(within(list).getByText('linreg-v001-worker-0 · exited · exit code 143')).toBeTruthy();
    // Nothing will come: no room is kept.
    expect(first!.querySelector('[data-transfer-slot]')).toBeNull();
    expect(within(list).queryByRole('progressbar')).toBeNull();
    expect(lines(second!)).toEqual(['download-done', 'upload']);
    expect(within(second!).getByText('Downloaded 10,000 files, 1.0 GiB')).toBeTruthy();
    expect(within(second!).getByText('Upload stopped at 1 of 3 files, 3.0 MiB of 12 MiB')).toBeTruthy();
  });

  it('an ended job keeps no blank line for an upload that never came', () => {
    const list = show('Running failed', node(0, [downloading], 'exited'));
    expect(room(within(list).getByRole('listitem'))).toEqual({ lines: 1, bars: 1 });
    expect(within(list).getByText('Download stopped at 1,234 of 10,000 files, 512 MiB of 1.0 GiB')).toBeTruthy();
    expect(within(list).queryByRole('progressbar')).toBeNull();
  });
});

describe('detailRefetchInterval', () => {
  const job = (status: JobStatus, ...nodes: JobNode[]) => ({ status, nodes }) as TrainingJob;

  it('polls every second while the job initializes or a node transfers', () => {
    expect(detailRefetchInterval(job('Initializing', node(0, [])))).toBe(TRANSFER_POLL_INTERVAL_MS);
    // The download done and kept, the upload under way.
    expect(detailRefetchInterval(job('Running', node(0, [downloaded, uploading])))).toBe(TRANSFER_POLL_INTERVAL_MS);
    expect(detailRefetchInterval(job('Stopping', node(0, [downloaded]), node(1, [downloaded, uploading])))).toBe(TRANSFER_POLL_INTERVAL_MS);
    expect(TRANSFER_POLL_INTERVAL_MS).toBe(1000);
  });

  it('polls at the list pace otherwise, and stops once the job has ended', () => {
    expect(detailRefetchInterval(job('Running', node(0, [downloaded])))).toBe(LIST_POLL_INTERVAL_MS);
    expect(detailRefetchInterval(job('Stopping', node(0, [downloaded, uploaded])))).toBe(LIST_POLL_INTERVAL_MS);
    expect(detailRefetchInterval(job('Queuing', node(0, [])))).toBe(LIST_POLL_INTERVAL_MS);
    expect(detailRefetchInterval(job('Queuing', { index: 0, hostname: 'linreg-v001-worker-0', state: 'pending', exitCode: null }))).toBe(
      LIST_POLL_INTERVAL_MS,
    );
    expect(detailRefetchInterval(job('Successful', node(0, [downloaded, uploaded])))).toBe(false);
    expect(detailRefetchInterval(undefined)).toBe(false);
  });
});

describe('terminal button', () => {
  const terminals = (status: JobStatus, ...nodes: JobNode[]) => {
    renderPage(<JobNodes status={status} nodes={nodes} job={{ name: 'linreg', version: 'V001' }} />);
    return screen.queryAllByRole('button', { name: /^Open a terminal on node/ }).map((b) => b.getAttribute('aria-label'));
  };

  it('is offered on the running nodes of a running job only', () => {
    expect(terminals('Running', node(0, [downloaded]), node(1, [downloaded], 'created'))).toEqual(['Open a terminal on node 0']);
    cleanup();
    expect(terminals('Stopping', node(0, [downloaded]))).toEqual([]);
    cleanup();
    expect(terminals('Successful', node(0, [downloaded, uploaded], 'exited'))).toEqual([]);
    cleanup();
    // Without the job (another page listing nodes), no terminal.
    renderPage(<JobNodes status="Running" nodes={[node(0, [downloaded])]} />);
    expect(screen.queryByRole('button', { name: /terminal/i })).toBeNull();
  });
});
