import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ObjectStore } from '../storage/object-store.js';

export interface UploadReport {
  files: number;
  bytes: number;
  /** Symlinks, hard links and devices in the outputs folder: not followed, not uploaded. */
  skipped: string[];
}

/**
 * Uploads the regular files of a Docker archive (a tar of /home/work/outputs) under the prefix.
 * The archive's first path segment is the folder itself ("outputs/"), so it is cut off. Each
 * entry streams straight into a multipart upload; only regular files are read, so a link can
 * never make the upload read something outside the folder.
 */
export async function uploadOutputs(archive: Readable, store: ObjectStore, bucket: string, prefix: string): Promise<UploadReport> {
  const report: UploadReport = { files: 0, bytes: 0, skipped: [] };
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const relative = header.name.split('/').slice(1).join('/');
      if (header.type !== 'file' || relative === '' || relative.split('/').some((s) => s === '..')) {
        if (header.type !== 'directory') report.skipped.push(relative || header.name);
        stream.on('end', next);
        stream.resume();
        return;
      }
      store
        .upload(bucket, `${prefix}${relative}`, Readable.from(stream))
        .then(() => {
          report.files += 1;
          report.bytes += header.size ?? 0;
          next();
        })
        .catch((err: unknown) => {
          extract.destroy(err as Error);
          reject(err as Error);
        });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    archive.on('error', reject);
  });
  archive.pipe(extract);
  await done;
  return report;
}
