import { pipeline } from 'node:stream/promises';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ObjectStore } from '../storage/object-store.js';
import { CODE_ROOT, CONTAINER_UID, DATA_DIR, OUTPUT_DIR, WORK_DIR, classifyKey, inArchive } from './paths.js';

export interface StagingSource {
  bucket: string;
  prefix: string;
  /** Folder in the container, without leading slash, e.g. "home/work/data". */
  dest: string;
}

export interface StagingReport {
  files: number;
  bytes: number;
  /** Names over the length limit, skipped as the reference says. */
  skippedLong: string[];
  /** Keys that would escape their folder (`..`, empty segments, NUL), refused. */
  skippedUnsafe: string[];
}

/** Folders every job gets, owned by the image's user so it can write where the contract says. */
export function skeletonDirs(codeDir: string): string[] {
  return [WORK_DIR, CODE_ROOT, `${CODE_ROOT}/${codeDir}`, DATA_DIR, OUTPUT_DIR].map(inArchive);
}

/**
 * Objects whose GET is started before their turn in the tar. Fetching ahead hides each object's
 * round trip (what bounds many small files) and keeps the store busy while the engine reads.
 */
const PREFETCH_OBJECTS = 16;
/** What one object fetched ahead may buffer before the store is made to wait (backpressure). */
const PREFETCH_BYTES = 1024 * 1024;

/** An object fetched ahead: its body flows into `ahead` until that holds PREFETCH_BYTES. */
interface Fetch {
  relative: string;
  size: number;
  ahead: PassThrough;
  /** Set when the GET or the body failed before the object's turn. */
  failed: Error | null;
}

/**
 * A tar stream of the objects under a prefix, for the Docker archive API. Objects go into the
 * tar one after another in listing order, as the engine reads; the next few are fetched ahead,
 * each buffering at most PREFETCH_BYTES, so memory holds about PREFETCH_OBJECTS MiB, never a
 * whole file. Each entry's size comes from the listing, and a body of another length fails the
 * stream (the object changed while staging). The report resolves once every object is written.
 */
export function stagingTar(
  store: ObjectStore,
  source: StagingSource,
  dirs: readonly string[] = [],
): { tar: Readable; report: Promise<StagingReport> } {
  const pack = tar.pack();
  const owner = { uid: CONTAINER_UID, gid: CONTAINER_UID, mtime: new Date() };
  const queue: Fetch[] = [];

  const fetchAhead = (key: string, relative: string, size: number): Fetch => {
    const ahead = new PassThrough({ readableHighWaterMark: PREFETCH_BYTES, writableHighWaterMark: 64 * 1024 });
    const f: Fetch = { relative, size, ahead, failed: null };
    // Until its turn nobody else listens: a failure is kept here and raised when it is written.
    ahead.on('error', (err) => (f.failed ??= err));
    store.getStream(source.bucket, key).then(
      // pipeline destroys `ahead` with the body's error, and a destroyed `ahead` the body.
      (body) => pipeline(body, ahead).catch(() => undefined),
      (err: unknown) => {
        f.failed ??= err as Error;
        ahead.destroy(err as Error);
      },
    );
    return f;
  };

  const report = (async (): Promise<StagingReport> => {
    const r: StagingReport = { files: 0, bytes: 0, skippedLong: [], skippedUnsafe: [] };
    const listing = store.list(source.bucket, source.prefix)[Symbol.asyncIterator]();
    let listed = false;
    /** Tops the queue up to PREFETCH_OBJECTS from the listing; skipped keys are recorded here. */
    const fill = async () => {
      while (!listed && queue.length < PREFETCH_OBJECTS) {
        const next = await listing.next();
        if (next.done) {
          listed = true;
          return;
        }
        const obj = next.value;
        const v = classifyKey(obj.key, source.prefix);
        if (!v.ok) {
          if (v.why === 'too-long') r.skippedLong.push(v.relative);
          else if (v.why === 'unsafe') r.skippedUnsafe.push(v.relative);
          continue;
        }
        queue.push(fetchAhead(obj.key, v.relative, obj.size));
      }
    };
    try {
      for (const d of dirs) pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755, ...owner });
      const made = new Set(dirs);
      for (;;) {
        await fill();
        const f = queue.shift();
        if (!f) break;
        if (f.failed) throw f.failed;
        // Parent folders explicitly, so they belong to the job's user too.
        const parts = f.relative.split('/');
        for (let i = 1; i < parts.length; i++) {
          const d = `${source.dest}/${parts.slice(0, i).join('/')}`;
          if (!made.has(d)) {
            made.add(d);
            pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755, ...owner });
          }
        }
        const entry = pack.entry({ name: `${source.dest}/${f.relative}`, size: f.size, mode: 0o644, ...owner });
        // The next objects' GETs start while this one is written.
        const written = pipeline(f.ahead, entry).catch((err: unknown) => {
          throw f.failed ?? err;
        });
        await Promise.all([written, fill()]);
        r.files += 1;
        r.bytes += f.size;
      }
      pack.finalize();
      return r;
    } catch (err) {
      // Release the sockets of everything fetched ahead.
      for (const f of queue.splice(0)) f.ahead.destroy();
      await listing.return?.(undefined).catch(() => undefined);
      pack.destroy(err as Error);
      throw err;
    }
  })();
  // The consumer learns of a failure from the report; keep the rejection from going unhandled
  // when the tar side fails first.
  report.catch(() => undefined);
  // tar-stream speaks streamx; the engine adapter takes a Node stream, pulled as it reads.
  return { tar: Readable.from(pack), report };
}
