import { useRef, useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Input,
  Progress,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { ImageRef, type EngineImage, type ImageVerdict, type LoadedImages } from '@tc/contracts';
import { ApiRequestError } from '../../api/client';
import { formatBytes, formatDateTime } from '../../lib/format';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states';
import { imageKeys, pullImage, useCheckImage, useImages, useUploadImage } from './api';
import { applyPullEvent, pullTotals, startPull, type PullState } from './pull-progress';

/** How a row names its image: the first tag, or the short ID of an untagged one. */
export function imageName(i: EngineImage): string {
  return i.repoTags[0] ?? i.id.replace(/^sha256:/, '').slice(0, 12);
}

export function VerdictBadge({ check }: { check: ImageVerdict }) {
  const look = {
    passed: { color: 'green', label: 'UID 1101 passed' },
    failed: { color: 'red', label: 'Check failed' },
    unchecked: { color: 'gray', label: 'Not checked yet' },
  }[check.status];
  return (
    <Badge
      color={look.color}
      variant={check.status === 'unchecked' ? 'outline' : 'light'}
      data-check={check.status}
      style={{ textTransform: 'none' }}
    >
      {look.label}
    </Badge>
  );
}

function Verdict({ check }: { check: ImageVerdict }) {
  return (
    <Stack gap={2}>
      <VerdictBadge check={check} />
      {check.reason && (
        <Text size="xs" c="red.8">
          {check.reason}
        </Text>
      )}
      {check.checkedAt && (
        <Text size="xs" c="dimmed">
          checked {formatDateTime(check.checkedAt)}
        </Text>
      )}
    </Stack>
  );
}

function PullForm() {
  const qc = useQueryClient();
  const [ref, setRef] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [state, setState] = useState<PullState | null>(null);
  const running = state?.phase === 'pulling';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = ImageRef.safeParse(ref.trim());
    if (!parsed.success) {
      setFieldError(parsed.error.issues[0]?.message ?? 'invalid reference');
      return;
    }
    setFieldError(null);
    let s = startPull(parsed.data);
    setState(s);
    try {
      await pullImage(parsed.data, (ev) => {
        s = applyPullEvent(s, ev);
        setState(s);
      });
      if (s.phase === 'pulling')
        setState({ phase: 'error', ref: parsed.data, message: 'the pull ended without a result; see the server log' });
    } catch (err) {
      if (err instanceof ApiRequestError && err.fields.some((f) => f.path === 'ref')) {
        setFieldError(err.fields.find((f) => f.path === 'ref')!.message);
        setState(null);
      } else {
        setState({ phase: 'error', ref: parsed.data, message: err instanceof Error ? err.message : String(err) });
      }
    }
    await qc.invalidateQueries({ queryKey: imageKeys.all });
  };

  const totals = state ? pullTotals(state) : null;
  return (
    <Card withBorder component="form" onSubmit={(e) => void submit(e)} aria-label="Pull an image">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Pull by reference
        </Title>
        <TextInput
          label="Image reference"
          placeholder="registry.example.com:5000/org/train:1.0"
          description="The engine pulls it from its registry, then the image is checked"
          value={ref}
          onChange={(e) => setRef(e.currentTarget.value)}
          error={fieldError}
          withAsterisk
        />
        <Group>
          <Button type="submit" loading={running}>
            Pull
          </Button>
        </Group>
        {state?.phase === 'pulling' && (
          <Stack gap={4} role="status" aria-live="polite">
            <Progress value={totals?.percent ?? 100} animated striped={totals?.percent === null} aria-label="Pull progress" />
            <Text size="sm" c="dimmed">
              {state.status}
              {totals && totals.total > 0 ? ` · ${formatBytes(totals.current)} of ${formatBytes(totals.total)}` : ''}
            </Text>
          </Stack>
        )}
        {state?.phase === 'done' && (
          <Alert
            color={state.image.check.status === 'passed' ? 'green' : 'orange'}
            role="status"
            title={state.pulled ? `Pulled ${state.ref}` : `${state.ref} was already on the engine`}
          >
            <Verdict check={state.image.check} />
          </Alert>
        )}
        {state?.phase === 'error' && (
          <Alert color="red" role="alert" title="Pull failed">
            {state.message}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

function UploadForm() {
  const upload = useUploadImage();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [missing, setMissing] = useState(false);
  const [result, setResult] = useState<LoadedImages | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!file) {
      setMissing(true);
      return;
    }
    setResult(null);
    upload.mutate(file, {
      onSuccess: (r) => {
        setResult(r);
        setFile(null);
        if (input.current) input.current.value = '';
      },
    });
  };

  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="Upload an image tarball">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Upload a tarball
        </Title>
        <Input.Wrapper
          id="image-tarball"
          label="Image tarball"
          description={
            <>
              Made with <Code>docker save -o train.tar org/train:1.0</Code>; streamed to the engine as it is read
            </>
          }
          error={missing ? 'Choose a .tar file first' : undefined}
          withAsterisk
        >
          <input
            id="image-tarball"
            ref={input}
            type="file"
            accept=".tar,.tar.gz,.tgz,application/x-tar,application/gzip"
            onChange={(e) => {
              setFile(e.currentTarget.files?.[0] ?? null);
              setMissing(false);
            }}
            style={{ display: 'block', marginTop: 4 }}
          />
        </Input.Wrapper>
        <Group>
          <Button type="submit" loading={upload.isPending}>
            Upload
          </Button>
          {upload.isPending && file && (
            <Text size="sm" c="dimmed" role="status">
              Uploading {file.name} ({formatBytes(file.size)})…
            </Text>
          )}
        </Group>
        {upload.isError && (
          <Alert color="red" role="alert" title="Upload failed">
            {upload.error.message}
          </Alert>
        )}
        {result && (
          <Alert color="green" role="status" title={`Loaded ${result.refs.join(', ')}`}>
            <Stack gap="xs">
              {result.items.map((i) => (
                <Group key={i.id} gap="xs" align="flex-start">
                  <Text size="sm" fw={500}>
                    {imageName(i)}
                  </Text>
                  <Verdict check={i.check} />
                </Group>
              ))}
            </Stack>
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

function ImageTable({ items }: { items: EngineImage[] }) {
  const check = useCheckImage();
  return (
    <Stack gap="xs">
      {check.isError && (
        <Alert color="red" role="alert" title="Check failed">
          {check.error.message}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={820}>
        <Table aria-label="Images" striped verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Repository : tag</Table.Th>
              <Table.Th>Image ID</Table.Th>
              <Table.Th>Size</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Check (default user UID 1101)</Table.Th>
              <Table.Th>Jobs</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((i) => {
              const ref = i.repoTags[0] ?? i.id;
              return (
                <Table.Tr key={i.id}>
                  <Table.Td>
                    {i.repoTags.length ? (
                      i.repoTags.map((t) => <div key={t}>{t}</div>)
                    ) : (
                      <Text size="sm" c="dimmed">
                        (untagged)
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" ff="monospace" title={i.id}>
                      {i.id.replace(/^sha256:/, '').slice(0, 12)}
                    </Text>
                  </Table.Td>
                  <Table.Td>{formatBytes(i.sizeBytes)}</Table.Td>
                  <Table.Td>{formatDateTime(i.createdAt)}</Table.Td>
                  <Table.Td>
                    <Verdict check={i.check} />
                  </Table.Td>
                  <Table.Td>{i.jobs ?? '—'}</Table.Td>
                  <Table.Td>
                    <Button
                      size="xs"
                      variant="default"
                      aria-label={`Check ${imageName(i)}`}
                      loading={check.isPending && check.variables === ref}
                      onClick={() => check.mutate(ref)}
                    >
                      Check
                    </Button>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

/** The engine's images with their UID 1101 verdicts, and the two ways to add one. */
export function ImagesPage() {
  const images = useImages();
  const [filter, setFilter] = useState('');
  const [usedOnly, setUsedOnly] = useState(false);
  const term = filter.trim().toLowerCase();
  const shown = (images.data?.items ?? []).filter(
    (i) =>
      (!usedOnly || (i.jobs ?? 0) > 0) &&
      (term === '' || i.repoTags.some((t) => t.toLowerCase().includes(term)) || i.id.replace(/^sha256:/, '').startsWith(term)),
  );
  return (
    <Stack gap="md">
      <div>
        <Title order={1} size="h3">
          Images
        </Title>
        <Text size="sm" c="dimmed">
          The images the engine has. A training image&apos;s default user must be UID 1101; each image is checked once, the first time a job
          uses it, or now with Check.
        </Text>
      </div>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <PullForm />
        <UploadForm />
      </SimpleGrid>
      <Group justify="space-between">
        <Title order={2} size="h4">
          On the engine
        </Title>
        <Button size="xs" variant="default" onClick={() => void images.refetch()} loading={images.isFetching}>
          Refresh
        </Button>
      </Group>
      <Group gap="md" align="flex-end" wrap="wrap">
        <TextInput
          label="Filter by name"
          type="search"
          placeholder="part of a repository or tag"
          value={filter}
          onChange={(e) => setFilter(e.currentTarget.value)}
          autoComplete="off"
          spellCheck={false}
          w={280}
          maw="100%"
        />
        <Switch label="Only images that jobs use" checked={usedOnly} onChange={(e) => setUsedOnly(e.currentTarget.checked)} mb={8} />
      </Group>
      {images.isPending ? (
        <LoadingState label="Loading images…" />
      ) : images.isError ? (
        <ErrorState title="Could not list the images" message={images.error.message} onRetry={() => void images.refetch()} />
      ) : images.data.items.length === 0 ? (
        <EmptyState title="No images on the engine yet">
          <Text size="sm">Pull one by reference or upload a tarball above.</Text>
        </EmptyState>
      ) : shown.length === 0 ? (
        <EmptyState title="No image matches" testId="no-matching-images">
          <Text size="sm">{images.data.items.length} image(s) on the engine; change the filter to see them.</Text>
        </EmptyState>
      ) : (
        <ImageTable items={shown} />
      )}
    </Stack>
  );
}
