import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Badge, Button, Card, Group, Stack, Table, Text, TextInput, Textarea, Title } from '@mantine/core';
import { CreateDatasetRequest, type Dataset } from '@tc/contracts';
import { ApiRequestError } from '../../api/client';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import { formatBytes, formatDateTime } from '../../lib/format';
import { useCreateDataset, useDatasetFiles, useDatasets, useDeleteDataset, usePublishVersion } from './api';

function CreateDatasetForm() {
  const create = useCreateDataset();
  const form = useForm<CreateDatasetRequest>({
    resolver: zodResolver(CreateDatasetRequest),
    mode: 'onBlur',
    defaultValues: { name: '', path: '' },
  });
  const { errors } = form.formState;
  const submit = form.handleSubmit(async (values) => {
    try {
      await create.mutateAsync({ ...values, description: values.description || undefined });
      form.reset({ name: '', description: '', path: '' });
    } catch (err) {
      if (err instanceof ApiRequestError) {
        for (const f of err.fields) {
          if (f.path === 'name' || f.path === 'path' || f.path === 'description') form.setError(f.path, { message: f.message });
        }
        if (!err.fields.length) form.setError('root', { message: err.message });
      }
    }
  });
  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="Create dataset">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Create dataset
        </Title>
        <Group grow align="flex-start">
          <TextInput label="Name" withAsterisk {...form.register('name')} error={errors.name?.message} />
          <TextInput
            label="Storage path"
            withAsterisk
            placeholder="obs://bucket/folder/"
            description="The folder a version pins"
            {...form.register('path')}
            error={errors.path?.message}
          />
        </Group>
        <Textarea label="Description" autosize minRows={1} {...form.register('description')} error={errors.description?.message} />
        {errors.root && (
          <Alert color="red" role="alert">
            {errors.root.message}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={create.isPending}>
            Create
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function VersionFiles({ name, version }: { name: string; version: string }) {
  const [after, setAfter] = useState<string[]>(['']);
  const current = after[after.length - 1]!;
  const files = useDatasetFiles(name, version, current);
  if (files.isPending) return <LoadingState label="Loading files…" />;
  if (files.isError)
    return <ErrorState title="Could not load the files" message={files.error.message} onRetry={() => void files.refetch()} />;
  return (
    <Stack gap="xs">
      <Table aria-label={`Files of ${name} ${version}`} striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Key</Table.Th>
            <Table.Th>Size</Table.Th>
            <Table.Th>ETag</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {files.data.items.map((f) => (
            <Table.Tr key={f.key}>
              <Table.Td>{f.key}</Table.Td>
              <Table.Td>{formatBytes(f.size)}</Table.Td>
              <Table.Td>
                <Text size="xs" ff="monospace">
                  {f.etag}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group>
        <Button size="xs" variant="default" disabled={after.length === 1} onClick={() => setAfter(after.slice(0, -1))}>
          Previous
        </Button>
        <Button size="xs" variant="default" disabled={!files.data.nextAfter} onClick={() => setAfter([...after, files.data.nextAfter!])}>
          Next
        </Button>
      </Group>
    </Stack>
  );
}

function DatasetCard({ ds }: { ds: Dataset }) {
  const publish = usePublishVersion();
  const remove = useDeleteDataset();
  const [open, setOpen] = useState<string | null>(null);
  const latest = ds.versions[0];
  return (
    <Card withBorder aria-label={`Dataset ${ds.name}`} component="section">
      <Stack gap="sm">
        <Group justify="space-between">
          <div>
            <Title order={3} size="h5">
              {ds.name}
            </Title>
            <Text size="sm" c="dimmed">
              {ds.path}
              {ds.description ? ` · ${ds.description}` : ''}
            </Text>
          </div>
          <Group gap="xs">
            <Button size="xs" onClick={() => publish.mutate(ds.name)} loading={publish.isPending}>
              Publish version
            </Button>
            <Button
              size="xs"
              color="red"
              variant="outline"
              onClick={() => {
                if (window.confirm(`Delete dataset ${ds.name}? Its files in storage stay.`)) remove.mutate(ds.name);
              }}
            >
              Delete
            </Button>
          </Group>
        </Group>
        {publish.isError && (
          <Alert color="red" role="alert">
            {publish.error.message}
          </Alert>
        )}
        {latest ? (
          <Table aria-label={`Versions of ${ds.name}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Version</Table.Th>
                <Table.Th>Files</Table.Th>
                <Table.Th>Total size</Table.Th>
                <Table.Th>Published</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {ds.versions.map((v) => (
                <Table.Tr key={v.version}>
                  <Table.Td>
                    <Badge variant="light">{v.version}</Badge>
                  </Table.Td>
                  <Table.Td>{v.files}</Table.Td>
                  <Table.Td>{formatBytes(v.totalBytes)}</Table.Td>
                  <Table.Td>
                    <time dateTime={v.createdAt}>{formatDateTime(v.createdAt)}</time>
                  </Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="subtle" onClick={() => setOpen(open === v.version ? null : v.version)}>
                      {open === v.version ? 'Hide files' : 'Show files'}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : (
          <Text size="sm">No version yet: publish one to pin the folder’s files.</Text>
        )}
        {open && <VersionFiles name={ds.name} version={open} />}
      </Stack>
    </Card>
  );
}

/** Data Management: datasets over storage folders, versions that pin their files. */
export function DatasetsPage() {
  const list = useDatasets();
  return (
    <Stack gap="md">
      <Title order={1} size="h3">
        Data Management
      </Title>
      <CreateDatasetForm />
      {list.isPending && <LoadingState label="Loading datasets…" />}
      {list.isError && <ErrorState title="Could not load datasets" message={list.error.message} onRetry={() => void list.refetch()} />}
      {list.isSuccess && list.data.items.length === 0 && (
        <EmptyState title="No datasets yet">
          <Text size="sm">Create one over a storage folder, then publish a version to use it in a training job.</Text>
        </EmptyState>
      )}
      {list.isSuccess && list.data.items.map((ds) => <DatasetCard key={ds.name} ds={ds} />)}
    </Stack>
  );
}
