import type { ReactNode } from 'react';
import { Code, Table, Text } from '@mantine/core';
import type { TrainingJob } from '@tc/contracts';

/** The job's parameters as stored, in the wizard's words. */
export function JobParameters({ job }: { job: TrainingJob }) {
  const s = job.spec;
  const none = (
    <Text c="dimmed" span>
      —
    </Text>
  );
  const mono = (v: string | undefined) => (v ? <Code style={{ wordBreak: 'break-all' }}>{v}</Code> : none);
  const rows: [string, ReactNode][] = [
    ['Name', s.name],
    ['Version', job.version],
    ['Description', s.description || none],
    ['Algorithm Source', 'Custom'],
    ['Image Path', mono(s.algorithm.imagePath)],
    // What the containers ran: the ID the check passed at, whatever the tag points at now.
    [
      'Image ID',
      job.imageId ? (
        <>
          {mono(job.imageId)}
          {job.imageDigest ? <div>{mono(job.imageDigest)}</div> : null}
        </>
      ) : (
        <Text c="dimmed" span>
          not checked yet
        </Text>
      ),
    ],
    ['Code Directory', mono(s.algorithm.codeDir)],
    ['Boot Command', mono(s.algorithm.bootCommand)],
    [
      'Data Source',
      s.data.source === 'path' ? (
        <>Data path {mono(s.data.path)}</>
      ) : (
        <>
          Dataset {mono(s.data.datasetId)} {mono(s.data.version)}
        </>
      ),
    ],
    ['Training Output Path', mono(s.trainOutput)],
    [
      'Environment Variable',
      s.env && s.env.length > 0
        ? s.env.map((e) => <div key={e.name}>{mono(`${e.name}=${e.secret ? '•••••• (secret)' : e.value}`)}</div>)
        : none,
    ],
    ['Job Log Path', mono(s.logPath)],
    ['Checkpoint Path', s.checkpointPath ? mono(s.checkpointPath) : 'none'],
    ['Max Running Time', s.maxRuntimeMinutes ? `${s.maxRuntimeMinutes} minutes` : 'no limit'],
    ['Stall Watchdog', s.stallWatchdog ? `${s.stallWatchdog.action} when no log line for ${s.stallWatchdog.minutes} minutes` : 'off'],
    ['Resource Pool', s.resources?.pool || 'public'],
    ['Type', s.resources?.type ?? 'CPU'],
    ['Specifications', mono(s.resources?.flavor)],
    ['Compute Nodes', String(s.resources?.nodes ?? 1)],
    ['Automatic Retry', s.retry?.maxAttempts ? `${s.retry.maxAttempts} on ${(s.retry.on ?? ['platform']).join(', ')}` : 'off'],
    ['Notification', s.notification?.topic ? `${s.notification.topic}: ${s.notification.events.join(', ')}` : 'No notification'],
  ];
  return (
    <Table withTableBorder withColumnBorders variant="vertical" layout="fixed" aria-label="Configurations">
      <Table.Tbody>
        {rows.map(([label, value]) => (
          <Table.Tr key={label}>
            <Table.Th w={{ base: 140, sm: 220 }} scope="row">
              {label}
            </Table.Th>
            <Table.Td>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
