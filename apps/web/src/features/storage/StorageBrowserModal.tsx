import { useState } from 'react';
import { Anchor, Breadcrumbs, Button, Group, Modal, NavLink, ScrollArea, Stack, Text, TextInput } from '@mantine/core';
import { FolderPrefix, formatObjectPath, parseObjectPath } from '@tc/contracts';
import { ErrorState, LoadingState } from '../../ui/states';
import { formatBytes } from '../../lib/format';
import { useBuckets, useCreateFolder, useStorageListing } from './api';

interface Location {
  bucket: string | null;
  prefix: string;
}

/** Where to open: the folder the field already names, else the bucket list. */
export function startLocation(value: string): Location {
  try {
    const { bucket, prefix } = parseObjectPath(value);
    return { bucket, prefix };
  } catch {
    return { bucket: null, prefix: '' };
  }
}

export interface StorageBrowserModalProps {
  opened: boolean;
  title: string;
  initialPath: string;
  onClose: () => void;
  onSelect: (path: string) => void;
}

/** Browses buckets and folders one level at a time; picks a folder or creates one. */
export function StorageBrowserModal({ opened, title, initialPath, onClose, onSelect }: StorageBrowserModalProps) {
  return (
    <Modal opened={opened} onClose={onClose} title={title} size="lg">
      {/* Mounted only while open, so each opening starts at the field's current value. */}
      {opened && <Browser initial={startLocation(initialPath)} onSelect={onSelect} onCancel={onClose} />}
    </Modal>
  );
}

function Browser({ initial, onSelect, onCancel }: { initial: Location; onSelect: (path: string) => void; onCancel: () => void }) {
  const [at, setAt] = useState<Location>(initial);
  const buckets = useBuckets(at.bucket === null);
  const listing = useStorageListing(at.bucket, at.prefix);
  const segments = at.prefix.split('/').filter(Boolean);

  return (
    <Stack gap="sm">
      <Breadcrumbs separator="/" aria-label="Location">
        <Anchor component="button" type="button" onClick={() => setAt({ bucket: null, prefix: '' })}>
          Buckets
        </Anchor>
        {at.bucket && (
          <Anchor component="button" type="button" onClick={() => setAt({ bucket: at.bucket, prefix: '' })}>
            {at.bucket}
          </Anchor>
        )}
        {segments.map((seg, i) => (
          <Anchor
            key={`${i}-${seg}`}
            component="button"
            type="button"
            onClick={() => setAt({ bucket: at.bucket, prefix: `${segments.slice(0, i + 1).join('/')}/` })}
          >
            {seg}
          </Anchor>
        ))}
      </Breadcrumbs>

      <ScrollArea.Autosize mah={320} type="auto">
        {at.bucket === null ? (
          buckets.isPending ? (
            <LoadingState label="Loading buckets…" />
          ) : buckets.isError ? (
            <ErrorState title="Could not list buckets" message={buckets.error.message} onRetry={() => void buckets.refetch()} />
          ) : buckets.data.items.length === 0 ? (
            <Text c="dimmed" py="md">
              No buckets yet. Create one in the object store first.
            </Text>
          ) : (
            <ul className="plain-list" aria-label="Buckets">
              {buckets.data.items.map((b) => (
                <li key={b.name}>
                  <NavLink
                    component="button"
                    type="button"
                    label={b.name}
                    description="bucket"
                    onClick={() => setAt({ bucket: b.name, prefix: '' })}
                  />
                </li>
              ))}
            </ul>
          )
        ) : listing.isPending ? (
          <LoadingState label="Loading folder…" />
        ) : listing.isError ? (
          <ErrorState title="Could not open this folder" message={listing.error.message} onRetry={() => void listing.refetch()} />
        ) : listing.data.folders.length === 0 && listing.data.objects.length === 0 ? (
          <Text c="dimmed" py="md">
            This folder is empty.
          </Text>
        ) : (
          <ul className="plain-list" aria-label="Folder contents">
            {listing.data.folders.map((f) => (
              <li key={f.prefix}>
                <NavLink
                  component="button"
                  type="button"
                  label={`${f.name}/`}
                  description="folder"
                  onClick={() => setAt({ bucket: at.bucket, prefix: f.prefix })}
                />
              </li>
            ))}
            {listing.data.objects.map((o) => (
              <li key={o.key}>
                <NavLink component="div" label={o.name} description={formatBytes(o.size)} disabled aria-disabled />
              </li>
            ))}
          </ul>
        )}
      </ScrollArea.Autosize>

      {at.bucket !== null && (
        <NewFolder bucket={at.bucket} prefix={at.prefix} onCreated={(prefix) => setAt({ bucket: at.bucket, prefix })} />
      )}

      <Group justify="space-between" wrap="wrap">
        <Text size="sm" c="dimmed" style={{ wordBreak: 'break-all' }}>
          {at.bucket ? formatObjectPath(at.bucket, at.prefix) : 'Choose a bucket'}
        </Text>
        <Group gap="xs">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button disabled={at.bucket === null} onClick={() => at.bucket && onSelect(formatObjectPath(at.bucket, at.prefix))}>
            Select this folder
          </Button>
        </Group>
      </Group>
    </Stack>
  );
}

function NewFolder({ bucket, prefix, onCreated }: { bucket: string; prefix: string; onCreated: (prefix: string) => void }) {
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const create = useCreateFolder();

  const submit = () => {
    const next = `${prefix}${name.trim().replace(/\/+$/, '')}/`;
    const checked = FolderPrefix.safeParse(next);
    if (!name.trim() || !checked.success) {
      setProblem(name.trim() ? (checked.error?.issues[0]?.message ?? 'invalid folder name') : 'Folder name is required');
      return;
    }
    setProblem(null);
    create.mutate(
      { bucket, prefix: next },
      {
        onSuccess: (folder) => {
          setName('');
          onCreated(folder.prefix);
        },
        onError: (err) => setProblem(err.message),
      },
    );
  };

  return (
    <Group align="flex-start" gap="xs" wrap="nowrap">
      <TextInput
        label="New folder"
        placeholder="folder name"
        value={name}
        onChange={(e) => setName(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            submit();
          }
        }}
        error={problem}
        style={{ flex: 1 }}
      />
      <Button mt={25} variant="light" loading={create.isPending} onClick={submit}>
        Create folder
      </Button>
    </Group>
  );
}
