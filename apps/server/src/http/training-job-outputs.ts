import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import tar from 'tar-stream';
import { z } from 'zod';
import { ApiError, JobOutputList, JobOutputParams, JobParams, parseObjectPath } from '@tc/contracts';
import type { JobService } from '../jobs/job-service.js';
import { NotFoundError } from '../errors.js';
import { ObjectStoreError, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import { actorOf } from './authenticate.js';

const tags = ['training jobs'];
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError };

type Outputs = Pick<ObjectStore, 'list' | 'getStream'>;

/** The most files one archive holds: its listing is kept in memory before the first byte goes out. */
export const MAX_ARCHIVE_ENTRIES = 100_000;
/** How much of a file a preview shows. */
export const PREVIEW_BYTES = 64 * 1024;
/** Files shown as text in place; anything else only downloads. */
const PREVIEW_EXTENSIONS = ['.txt', '.log', '.json', '.jsonl', '.csv', '.md', '.yaml', '.yml'];

export function isPreviewable(key: string): boolean {
  const lower = key.toLowerCase();
  return PREVIEW_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

const OutputFileQuery = z.object({
  preview: z
    .enum(['1', 'true'])
    .optional()
    .describe(`With 1: at most the first ${PREVIEW_BYTES} bytes of a text file (${PREVIEW_EXTENSIONS.join(' ')}) as text/plain`),
});

/**
 * Outputs are written by the job's image, which the console does not trust: a file must never be
 * rendered by the browser in the console's origin (an .html output would run its scripts with the
 * user's session). So every body is an attachment or text/plain, never sniffed, and sandboxed.
 */
const UNTRUSTED_BODY = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
} as const;

/** The first `limit` bytes of the stream, and whether there were more; the rest is never read. */
async function head(body: Readable, limit: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buf);
      got += buf.length;
      if (got > limit) break;
    }
  } finally {
    body.destroy();
  }
  const all = Buffer.concat(chunks);
  return { bytes: all.subarray(0, limit), truncated: all.length > limit };
}

/** Every file below the prefix (folder markers skipped), refusing more than `max`; a missing bucket holds none. */
async function listOutputs(store: Outputs, bucket: string, prefix: string, max: number): Promise<ObjectInfo[] | null> {
  const files: ObjectInfo[] = [];
  try {
    for await (const o of store.list(bucket, prefix)) {
      if (o.key.endsWith('/')) continue;
      if (files.length === max) return null;
      files.push(o);
    }
  } catch (err) {
    if (!(err instanceof ObjectStoreError && err.notFound)) throw err;
  }
  return files.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Writes each file into the tar in turn, its body piped from the store with the listed size (an
 * ETag check makes a file rewritten since the listing fail rather than mismatch its header).
 * `signal` is the download going away: the file being read is then let go at once, so a client
 * that gives up does not hold a store connection open.
 */
async function writeArchive(
  pack: tar.Pack,
  store: Outputs,
  bucket: string,
  prefix: string,
  files: ObjectInfo[],
  signal: AbortSignal,
): Promise<void> {
  for (const f of files) {
    signal.throwIfAborted();
    const body = await store.getStream(bucket, f.key, f.etag ? { etag: f.etag } : undefined);
    await new Promise<void>((resolve, reject) => {
      const stop = () => {
        body.destroy();
        reject(new Error('the download was closed'));
      };
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      const entry = pack.entry(
        { name: f.key.slice(prefix.length), size: f.size, mode: 0o644, ...(f.lastModified ? { mtime: f.lastModified } : {}) },
        (err) => {
          signal.removeEventListener('abort', stop);
          if (err) reject(err);
          else resolve();
        },
      );
      entry.on('error', reject);
      body.on('error', (err) => {
        signal.removeEventListener('abort', stop);
        entry.destroy(err);
        reject(err);
      });
      body.pipe(entry);
    });
  }
  pack.finalize();
}

/** Store "not found" is the API's 404; a missing bucket simply holds no outputs yet. */
function notFoundAs<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof ObjectStoreError && err.notFound) throw new NotFoundError(`${what} does not exist`);
    throw err;
  });
}

/**
 * A job's outputs for its owner (or an admin): the files below its Training Output Path, and
 * each one streamed from the store, never buffered, so `trainctl outputs --download` works on
 * models of any size without store credentials. Only keys below that path can be reached.
 */
export function trainingJobOutputRoutes(
  jobs: Pick<JobService, 'get'>,
  store: Outputs,
  { maxArchiveEntries = MAX_ARCHIVE_ENTRIES }: { maxArchiveEntries?: number } = {},
): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/training-jobs/:name/versions/:version/outputs',
      {
        schema: {
          tags,
          summary: 'The files the job wrote to its Training Output Path (keys relative to it)',
          params: JobParams,
          response: { 200: JobOutputList, ...errors },
        },
      },
      async (req) => {
        const job = jobs.get(actorOf(req), req.params.name, req.params.version);
        const out = parseObjectPath(job.spec.trainOutput);
        const items: JobOutputList['items'] = [];
        try {
          for await (const o of store.list(out.bucket, out.prefix)) {
            // Folder markers ("dir/", zero bytes) are not files to download.
            if (o.key.endsWith('/')) continue;
            items.push({
              key: o.key.slice(out.prefix.length),
              size: o.size,
              ...(o.lastModified ? { modified: o.lastModified.toISOString() } : {}),
            });
          }
        } catch (err) {
          if (!(err instanceof ObjectStoreError && err.notFound)) throw err;
        }
        items.sort((a, b) => a.key.localeCompare(b.key));
        return { path: job.spec.trainOutput, items };
      },
    );

    app.get(
      '/training-jobs/:name/versions/:version/outputs.tar',
      {
        schema: {
          tags,
          summary: 'Every output file as one tar, streamed file after file (names relative to the Training Output Path)',
          description: `At most ${MAX_ARCHIVE_ENTRIES} files; more is a 413. A store failure part way cuts the download short (the tar is then incomplete).`,
          params: JobParams,
          response: { 200: z.unknown().describe('the tar (application/x-tar)'), ...errors, 413: ApiError },
        },
      },
      async (req, reply) => {
        const job = jobs.get(actorOf(req), req.params.name, req.params.version);
        const out = parseObjectPath(job.spec.trainOutput);
        const files = await listOutputs(store, out.bucket, out.prefix, maxArchiveEntries);
        if (!files) {
          return reply.code(413).send({
            error: 'too_many_files',
            message: `${job.name} ${job.version} has more than ${maxArchiveEntries} output files, the most one archive holds; download them one by one (trainctl outputs --download)`,
          });
        }
        const pack = tar.pack();
        const tarball = new PassThrough();
        pack.pipe(tarball);
        // A broken entry destroys the pack with the error; without a listener that would be an
        // uncaught exception taking the server down.
        pack.on('error', (err: Error) => tarball.destroy(err));
        // Headers are sent before the first file is read, so a later failure can only end the
        // response early: destroying the stream makes the server drop the connection, and the
        // client sees a truncated download instead of a tar that looks whole or a hang.
        const gone = new AbortController();
        // The response closing (finished, or the client went away) ends the reading.
        reply.raw.on('close', () => {
          gone.abort();
          tarball.destroy();
        });
        writeArchive(pack, store, out.bucket, out.prefix, files, gone.signal).catch((err: unknown) => {
          if (!gone.signal.aborted) req.log.warn({ err, job: `${job.name}/${job.version}` }, 'output archive cut short');
          const cause = err instanceof Error ? err : new Error(String(err));
          tarball.destroy(cause);
          pack.destroy(cause);
        });
        const file = `${job.name}-${job.version}-outputs.tar`;
        return reply
          .type('application/x-tar')
          .headers(UNTRUSTED_BODY)
          .header('content-disposition', `attachment; filename="${file}"`)
          .send(tarball);
      },
    );

    app.get(
      '/training-jobs/:name/versions/:version/outputs/*',
      {
        schema: {
          tags,
          summary: 'One output file, streamed (the key as listed, after /outputs/); with ?preview=1 its first 64 KiB as text',
          description: `Downloads are attachments, never rendered in the console's origin. A preview is text/plain; charset=utf-8 with X-Preview-Truncated: true|false; a file that is not text (by extension: ${PREVIEW_EXTENSIONS.join(' ')}) is a 415.`,
          params: JobOutputParams,
          querystring: OutputFileQuery,
          // The body is the file's bytes (application/octet-stream), streamed as is.
          response: { 200: z.unknown().describe("the file's bytes"), ...errors, 415: ApiError },
        },
      },
      async (req, reply) => {
        const job = jobs.get(actorOf(req), req.params.name, req.params.version);
        const out = parseObjectPath(job.spec.trainOutput);
        const key = req.params['*'];
        const file = key.slice(key.lastIndexOf('/') + 1);
        if (req.query.preview && !isPreviewable(key)) {
          return reply.code(415).send({
            error: 'not_previewable',
            message: `${file} is not a text file the console previews (${PREVIEW_EXTENSIONS.join(' ')}); download it instead`,
          });
        }
        const body = await notFoundAs(`output ${key} of ${job.name} ${job.version}`, () => store.getStream(out.bucket, out.prefix + key));
        if (req.query.preview) {
          const { bytes, truncated } = await head(body, PREVIEW_BYTES);
          return reply
            .type('text/plain; charset=utf-8')
            .headers(UNTRUSTED_BODY)
            .header('x-preview-truncated', String(truncated))
            .send(bytes);
        }
        return reply
          .type('application/octet-stream')
          .headers(UNTRUSTED_BODY)
          .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file)}`)
          .send(body);
      },
    );
  };
}
