import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { ObjectStoreError, type ObjectStore } from '../storage/object-store.js';

export interface UploadReport {
  files: number;
  bytes: number;
  /** Symlinks, hard links and devices in the outputs folder: not followed, not uploaded. */
  skipped: string[];
  /** Files whose key the store refused (a name too long for it, say): not uploaded, listed. */
  refused: string[];
}

/** S3's limit on a key, in bytes; a longer one is refused by every store, so it is not sent. */
const MAX_KEY_BYTES = 1024;

/**
 * The store refused this one object's request as malformed (400: a key too long for it, a name
 * it cannot hold) while the store itself works: that file is skipped and listed, the others go
 * on. Denials, outages and other failures still fail the upload.
 */
function refusedKey(err: unknown): boolean {
  return err instanceof ObjectStoreError && err.kind === 'failed' && err.httpStatus === 400;
}

/** Uploads in flight at once; small files are what this is for (each is one round trip). */
const MAX_IN_FLIGHT = 8;
/** A file up to this size is read whole and sent in one PutObject. */
const WHOLE_FILE_MAX = 16 * 1024 * 1024;
/** Bytes of whole files held at once, waiting for or in their upload. */
const BUFFER_BUDGET = 64 * 1024 * 1024;
/** Larger files stream into multipart uploads (each buffers up to 4 × 8 MiB parts): at most this many at once. */
const MAX_STREAMING = 2;

/** Counts uploads and buffered bytes in flight; acquire waits until both fit. */
class Slots {
  private inFlight = 0;
  private streaming = 0;
  private bytes = 0;
  private waiters: (() => void)[] = [];

  async acquire(bytes: number, streaming: boolean): Promise<void> {
    while (!this.fits(bytes, streaming)) await new Promise<void>((r) => this.waiters.push(r));
    this.inFlight += 1;
    this.bytes += bytes;
    if (streaming) this.streaming += 1;
  }

  release(bytes: number, streaming: boolean): void {
    this.inFlight -= 1;
    this.bytes -= bytes;
    if (streaming) this.streaming -= 1;
    for (const w of this.waiters.splice(0)) w();
  }

  private fits(bytes: number, streaming: boolean): boolean {
    if (this.inFlight >= MAX_IN_FLIGHT) return false;
    if (streaming) return this.streaming < MAX_STREAMING;
    return this.inFlight === 0 || this.bytes + bytes <= BUFFER_BUDGET;
  }
}

/** The whole of a tar entry (tar-stream's entries are streamx streams of Buffers). */
async function readWhole(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * Uploads the regular files of a Docker archive (a tar of /home/work/outputs) under the prefix.
 * The archive's first path segment is the folder itself ("outputs/"), so it is cut off. Only
 * regular files are read, so a link can never make the upload read something outside the
 * folder. The tar is read in order, but uploads overlap: files up to WHOLE_FILE_MAX are read
 * whole and put in one request, up to MAX_IN_FLIGHT at once within BUFFER_BUDGET bytes; larger
 * ones stream into multipart uploads. Memory stays bounded by those limits, whatever the
 * outputs' size. Resolves once every upload has finished; rejects on the first failure.
 */
export async function uploadOutputs(archive: Readable, store: ObjectStore, bucket: string, prefix: string): Promise<UploadReport> {
  const report: UploadReport = { files: 0, bytes: 0, skipped: [], refused: [] };
  const extract = tar.extract();
  const slots = new Slots();
  const uploads = new Set<Promise<void>>();
  let failed = false;
  const done = new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      extract.destroy(err as Error);
      // The engine holds the container while its archive response is open: a removal would
      // wait for ever behind an archive nobody reads any more.
      archive.unpipe(extract);
      archive.destroy();
      reject(err as Error);
    };
    const track = (p: Promise<void>) => {
      const t = p.catch(fail).finally(() => uploads.delete(t));
      uploads.add(t);
    };
    extract.on('entry', (header, stream, next) => {
      const relative = header.name.split('/').slice(1).join('/');
      if (header.type !== 'file' || relative === '' || relative.split('/').some((s) => s === '..')) {
        if (header.type !== 'directory') report.skipped.push(relative || header.name);
        stream.on('end', next);
        stream.resume();
        return;
      }
      const size = header.size ?? 0;
      const key = `${prefix}${relative}`;
      if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
        report.refused.push(relative);
        stream.on('end', next);
        stream.resume();
        return;
      }
      const counted = () => {
        report.files += 1;
        report.bytes += size;
      };
      const orRefused = (err: unknown) => {
        if (!refusedKey(err)) throw err;
        report.refused.push(relative);
      };
      const whole = size <= WHOLE_FILE_MAX;
      (async () => {
        await slots.acquire(whole ? size : 0, !whole);
        if (failed) {
          slots.release(whole ? size : 0, !whole);
          return;
        }
        if (whole) {
          let body: Buffer;
          try {
            body = await readWhole(stream);
          } catch (err) {
            slots.release(size, false);
            throw err;
          }
          track(
            store
              .upload(bucket, key, body)
              .then(counted, orRefused)
              .finally(() => slots.release(size, false)),
          );
          next();
          return;
        }
        // The tar can move on once this entry is read to its end; the last parts finish meanwhile.
        let done = false;
        let read = false;
        const ended = new Promise<void>((r) =>
          stream.once('end', () => {
            read = true;
            r();
          }),
        );
        const upload = store
          .upload(bucket, key, Readable.from(stream))
          .then(counted, orRefused)
          .finally(() => {
            done = true;
            slots.release(0, true);
          });
        track(upload);
        await Promise.race([ended, upload.catch(() => undefined)]);
        if (failed) return;
        // Refused before its body was read: the rest of the entry is read past, not sent.
        if (done && !read) {
          stream.resume();
          await ended;
        }
        next();
      })().catch(fail);
    });
    extract.on('finish', () => {
      // Every entry is read; wait for the uploads still running.
      const settle = async () => {
        while (uploads.size) await Promise.all([...uploads]);
      };
      settle().then(() => {
        if (!failed) resolve();
      }, fail);
    });
    extract.on('error', fail);
    archive.on('error', fail);
  });
  archive.pipe(extract);
  await done;
  return report;
}
