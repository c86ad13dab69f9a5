import { useState } from 'react';
import { Anchor, Button, Code, Group, Modal, ScrollArea, Table, Text } from '@mantine/core';
import { isTerminal, type JobStatus } from '@tc/contracts';
import { formatBytes, formatDateTime } from '../../../lib/format';
import { EmptyState, ErrorState, LoadingState } from '../../../ui/states';
import { isPreviewable, outputArchiveUrl, outputDownloadUrl, useJobOutputs, useOutputPreview } from '../api';

interface Props {
  name: string;
  version: string;
  path: string;
  status: JobStatus;
}

/**
 * The files the job wrote to its Training Output Path: each one a plain download link (the
 * server streams it as an attachment), all of them as one tar, and text files previewed here.
 */
export function JobOutputs({ name, version, path, status }: Props) {
  const outputs = useJobOutputs(name, version, status);
  const [previewing, setPreviewing] = useState<string | null>(null);
  const ended = isTerminal(status);

  return (
    <>
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Text size="sm" c="dimmed">
          Training Output Path: <Code>{path}</Code>
        </Text>
        {outputs.data && outputs.data.items.length > 0 && (
          <Button component="a" href={outputArchiveUrl(name, version)} download size="xs" variant="light">
            Download all (.tar)
          </Button>
        )}
      </Group>
      {outputs.isPending ? (
        <LoadingState label="Loading output files…" />
      ) : outputs.isError ? (
        <ErrorState title="Could not list the output files" message={outputs.error.message} onRetry={() => void outputs.refetch()} />
      ) : outputs.data.items.length === 0 ? (
        <EmptyState title={ended ? 'No outputs' : 'No outputs yet'}>
          <Text size="sm" c="dimmed">
            {ended
              ? 'The job has not written any outputs to /home/work/outputs/.'
              : 'Outputs are uploaded from /home/work/outputs/ when the job ends.'}
          </Text>
        </EmptyState>
      ) : (
        <Table aria-label="Output files" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Path</Table.Th>
              <Table.Th ta="right">Size</Table.Th>
              <Table.Th>Modified</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {outputs.data.items.map((f) => (
              <Table.Tr key={f.key}>
                <Table.Td>{f.key}</Table.Td>
                <Table.Td ta="right">{formatBytes(f.size)}</Table.Td>
                <Table.Td>{f.modified ? formatDateTime(f.modified) : '—'}</Table.Td>
                <Table.Td>
                  <Group gap="sm" wrap="nowrap">
                    <Anchor href={outputDownloadUrl(name, version, f.key)} download aria-label={`Download ${f.key}`} size="sm">
                      Download
                    </Anchor>
                    {isPreviewable(f.key) && (
                      <Anchor
                        component="button"
                        type="button"
                        size="sm"
                        aria-label={`Preview ${f.key}`}
                        onClick={() => setPreviewing(f.key)}
                      >
                        Preview
                      </Anchor>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <PreviewModal name={name} version={version} fileKey={previewing} onClose={() => setPreviewing(null)} />
    </>
  );
}

function PreviewModal({ name, version, fileKey, onClose }: { name: string; version: string; fileKey: string | null; onClose: () => void }) {
  const preview = useOutputPreview(name, version, fileKey);
  return (
    <Modal opened={fileKey !== null} onClose={onClose} title={fileKey ?? ''} size="xl">
      {preview.isPending ? (
        <LoadingState label="Loading the preview…" />
      ) : preview.isError ? (
        <ErrorState title="Could not preview the file" message={preview.error.message} />
      ) : (
        <>
          {preview.data.truncated && (
            <Text size="sm" c="dimmed" mb="xs">
              Truncated: the first 64 KiB are shown; download the file for the rest.
            </Text>
          )}
          <ScrollArea.Autosize mah="60vh">
            <Code block aria-label={`Preview of ${fileKey ?? ''}`}>
              {preview.data.text}
            </Code>
          </ScrollArea.Autosize>
        </>
      )}
    </Modal>
  );
}
