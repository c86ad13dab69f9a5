import { Box, Group, Progress, Text } from '@mantine/core';
import { isTerminal, type JobNode, type JobStatus, type NodeTransfer } from '@tc/contracts';
import { formatBytes } from '../../../lib/format';
import { NodeTerminalButton } from './NodeTerminal';

const files = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'file' : 'files'}`;

/** A transfer in words: what moves, how much of it so far, or what it came to. */
export function transferText(t: NodeTransfer, ended: boolean): string {
  const download = t.step === 'download';
  if (t.done) return `${download ? 'Downloaded' : 'Uploaded'} ${files(t.files)}, ${formatBytes(t.bytes)}`;
  const sofar = `${t.files.toLocaleString()} of ${files(t.filesTotal)}, ${formatBytes(t.bytes)} of ${formatBytes(t.bytesTotal)}`;
  // A job that ended mid-transfer (a failure or a stop) left it where it was: no moving bar.
  if (ended) return `${download ? 'Download' : 'Upload'} stopped at ${sofar}`;
  return `${download ? 'Downloading code and data' : 'Uploading outputs'}: ${sofar}`;
}

/** Done share in percent: by bytes, by files when there are no bytes to move. */
export function transferPercent(t: NodeTransfer): number {
  if (t.bytesTotal > 0) return Math.min(100, Math.round((t.bytes / t.bytesTotal) * 100));
  if (t.filesTotal > 0) return Math.min(100, Math.round((t.files / t.filesTotal) * 100));
  return t.done ? 100 : 0;
}

/** A node has at most two steps: the download before the run, the upload after it. */
const STEPS = 2;

/** The bar's room: under the moving transfer's line, or at the bottom when none moves. */
const BAR_ROOM = { h: 8, mt: 4 } as const;

/**
 * Each node with its state and its transfers, download first, then upload: a bar under the one
 * under way, one line of totals for each one done. While the job can still change, every node
 * keeps room for both lines and one bar (only one step moves at a time), so nothing below moves
 * when a step starts or ends.
 */
export function JobNodes({
  nodes,
  status,
  job,
}: {
  nodes: JobNode[];
  status: JobStatus;
  /** The job the nodes belong to: with it, running nodes offer a terminal. */
  job?: { name: string; version: string };
}) {
  const ended = isTerminal(status);
  if (nodes.length === 0) return null;
  return (
    <Box component="ul" aria-label="Compute nodes" m={0} p={0} style={{ listStyle: 'none' }}>
      {nodes.map((n) => {
        const transfers = n.transfers ?? [];
        const blanks = ended ? 0 : Math.max(0, STEPS - transfers.length);
        const moving = (t: NodeTransfer) => !t.done && !ended;
        return (
          <Box component="li" key={n.index} mt="sm" data-node={n.index}>
            <Group gap="xs" wrap="wrap">
              <Text size="sm" fw={500}>
                Node {n.index}
              </Text>
              <Text size="sm" c="dimmed">
                {n.hostname}
                {n.host ? ` on ${n.host}` : ''} · {n.state}
                {n.exitCode !== null ? ` · exit code ${n.exitCode}` : ''}
              </Text>
              {job && status === 'Running' && n.state === 'running' && (
                <NodeTerminalButton name={job.name} version={job.version} node={n.index} />
              )}
            </Group>
            {transfers.length + blanks > 0 && (
              <Box data-transfer-slot>
                {transfers.map((t, i) => (
                  <Box key={`${t.step}-${i}`}>
                    <Text size="sm" c={moving(t) ? undefined : 'dimmed'} data-transfer={`${t.step}${t.done ? '-done' : ''}`}>
                      {transferText(t, ended)}
                    </Text>
                    {moving(t) && (
                      <Box {...BAR_ROOM} data-bar-room>
                        <Progress
                          size={8}
                          value={transferPercent(t)}
                          aria-label={`Node ${n.index} ${t.step === 'upload' ? 'output upload' : 'code and data download'}`}
                        />
                      </Box>
                    )}
                  </Box>
                ))}
                {Array.from({ length: blanks }, (_, i) => (
                  <Text key={`blank-${i}`} size="sm" aria-hidden data-transfer-blank>
                    {'\u00a0'}
                  </Text>
                ))}
                {!transfers.some(moving) && <Box {...BAR_ROOM} aria-hidden data-bar-room />}
              </Box>
            )}
          </Box>
        );
      })}
    </Box>
  );
}
