import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { PullEvent, type ImageCheckResult, type ImageList, type LoadedImages } from '@tc/contracts';
import { api, apiFetch, ApiRequestError } from '../../api/client';

export const imageKeys = {
  all: ['images'] as const,
  list: () => [...imageKeys.all, 'list'] as const,
};

export function useImages() {
  return useQuery({
    queryKey: imageKeys.list(),
    queryFn: ({ signal }) => api.get<ImageList>('/images', { signal }),
  });
}

export function useCheckImage() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (ref: string) => api.post<ImageCheckResult>('/images/check', { ref }),
    onSuccess: () => qc.invalidateQueries({ queryKey: imageKeys.all }),
  });
}

/** The API's error body (`{ error, message, fields }`) of a refused request as ApiRequestError. */
async function toError(res: Response): Promise<ApiRequestError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown; fields?: unknown };
    const fields = Array.isArray(body.fields) ? (body.fields as { path: string; message: string }[]) : [];
    return new ApiRequestError(
      res.status,
      typeof body.message === 'string' ? body.message : `${res.status} ${res.statusText}`,
      typeof body.error === 'string' ? body.error : undefined,
      fields,
    );
  } catch {
    return new ApiRequestError(res.status, text.trim() ? text.trim().slice(0, 500) : `${res.status} ${res.statusText}`.trim());
  }
}

/**
 * Pulls `ref`, calling onEvent for every NDJSON line as it arrives. Resolves after the last line;
 * a refused request (bad reference) rejects with ApiRequestError.
 */
export async function pullImage(ref: string, onEvent: (e: PullEvent) => void, signal?: AbortSignal): Promise<void> {
  const res = await apiFetch('/images/pull', {
    method: 'POST',
    headers: { accept: 'application/x-ndjson', 'content-type': 'application/json' },
    body: JSON.stringify({ ref }),
    signal,
  });
  if (!res.ok) throw await toError(res);
  if (!res.body) throw new ApiRequestError(res.status, 'the server sent no progress');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  const handle = (line: string) => {
    if (!line.trim()) return;
    const parsed = PullEvent.safeParse(JSON.parse(line));
    if (parsed.success) onEvent(parsed.data);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += value;
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(rest);
}

/**
 * Uploads an image tarball. The File itself is the body: the browser streams it from disk, so
 * a file of many GiB is never read into memory.
 */
export async function uploadImage(file: File, signal?: AbortSignal): Promise<LoadedImages> {
  const res = await apiFetch('/images/load', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': /\.(tgz|gz)$/i.test(file.name) ? 'application/gzip' : 'application/x-tar' },
    body: file,
    signal,
  });
  if (!res.ok) throw await toError(res);
  return (await res.json()) as LoadedImages;
}

export function useUploadImage() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (file: File) => uploadImage(file),
    onSuccess: () => qc.invalidateQueries({ queryKey: imageKeys.all }),
  });
}
