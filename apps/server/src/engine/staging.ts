import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ObjectStore } from '../storage/object-store.js';
import { CONTAINER_UID, classifyKey } from './paths.js';

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
  return ['home/work', 'home/work/user-job-dir', `home/work/user-job-dir/${codeDir}`, 'home/work/data', 'home/work/outputs'];
}

/**
 * A tar stream of the objects under a prefix, for the Docker archive API. Objects are fetched and
 * written one after another as the engine reads, so memory holds a chunk, not a file; each
 * entry's size comes from the listing, and a body of another length fails the stream (the object
 * changed while staging). The report resolves once every object is written.
 */
export function stagingTar(
  store: ObjectStore,
  source: StagingSource,
  dirs: readonly string[] = [],
): { tar: Readable; report: Promise<StagingReport> } {
  const pack = tar.pack();
  const owner = { uid: CONTAINER_UID, gid: CONTAINER_UID, mtime: new Date() };
  const report = (async (): Promise<StagingReport> => {
    const r: StagingReport = { files: 0, bytes: 0, skippedLong: [], skippedUnsafe: [] };
    try {
      for (const d of dirs) pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755, ...owner });
      const made = new Set(dirs);
      for await (const obj of store.list(source.bucket, source.prefix)) {
        const v = classifyKey(obj.key, source.prefix);
        if (!v.ok) {
          if (v.why === 'too-long') r.skippedLong.push(v.relative);
          else if (v.why === 'unsafe') r.skippedUnsafe.push(v.relative);
          continue;
        }
        // Parent folders explicitly, so they belong to the job's user too.
        const parts = v.relative.split('/');
        for (let i = 1; i < parts.length; i++) {
          const d = `${source.dest}/${parts.slice(0, i).join('/')}`;
          if (!made.has(d)) {
            made.add(d);
            pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755, ...owner });
          }
        }
        const body = await store.getStream(source.bucket, obj.key);
        const entry = pack.entry({ name: `${source.dest}/${v.relative}`, size: obj.size, mode: 0o644, ...owner });
        await pipeline(body, entry);
        r.files += 1;
        r.bytes += obj.size;
      }
      pack.finalize();
      return r;
    } catch (err) {
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
