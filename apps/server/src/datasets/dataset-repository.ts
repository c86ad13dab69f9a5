import type { Db } from '../db/database.js';
import { listPage } from '../db/list-query.js';
import { formatVersion } from '../jobs/version.js';

export interface DatasetRecord {
  id: number;
  name: string;
  description: string | null;
  path: string;
  createdAt: string;
  ownerId: number | null;
}

export interface DatasetVersionRecord {
  version: string;
  versionNum: number;
  createdAt: string;
  files: number;
  totalBytes: number;
}

export interface PinnedFile {
  key: string;
  size: number;
  etag: string;
}

interface DatasetRow {
  id: number;
  name: string;
  description: string | null;
  path: string;
  created_at: string;
  owner_id: number | null;
}

const toDataset = (r: DatasetRow): DatasetRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  path: r.path,
  createdAt: r.created_at,
  ownerId: r.owner_id,
});

/** Datasets, their versions and the object list each version pins. */
export class DatasetRepository {
  constructor(private readonly db: Db) {}

  /** Inserts the dataset; null when the name is taken. */
  create(d: { name: string; description: string | null; path: string; createdAt: string; ownerId: number }): DatasetRecord | null {
    const info = this.db
      .prepare('INSERT INTO datasets (name, description, path, created_at, owner_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(d.name, d.description, d.path, d.createdAt, d.ownerId);
    return info.changes === 1 ? this.get(d.name) : null;
  }

  get(name: string): DatasetRecord | null {
    const row = this.db.prepare<[string], DatasetRow>('SELECT * FROM datasets WHERE name = ?').get(name);
    return row ? toDataset(row) : null;
  }

  /** ownerId undefined: everyone's. */
  list(ownerId: number | undefined, limit: number, offset: number): { items: DatasetRecord[]; total: number } {
    const { rows, total } = listPage<DatasetRow>(this.db, { table: 'datasets', filter: { ownerId }, orderBy: 'id DESC', limit, offset });
    return { items: rows.map(toDataset), total };
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
  }

  versions(datasetId: number): DatasetVersionRecord[] {
    return this.db
      .prepare<[number], { version_num: number; created_at: string; files: number; total_bytes: number }>(
        "SELECT version_num, created_at, files, total_bytes FROM dataset_versions WHERE dataset_id = ? AND state = 'ready' ORDER BY version_num DESC",
      )
      .all(datasetId)
      .map((r) => ({
        version: formatVersion(r.version_num),
        versionNum: r.version_num,
        createdAt: r.created_at,
        files: r.files,
        totalBytes: r.total_bytes,
      }));
  }

  version(datasetId: number, versionNum: number): DatasetVersionRecord | null {
    return this.versions(datasetId).find((v) => v.versionNum === versionNum) ?? null;
  }

  /**
   * Reserves the next version number, in state 'publishing'. The read of the highest number and
   * the insert share an IMMEDIATE transaction, so concurrent publishes get distinct numbers.
   */
  beginVersion(datasetId: number, createdAt: string): number {
    return this.db
      .transaction((): number => {
        const { maxv } = this.db
          .prepare<[number], { maxv: number | null }>('SELECT MAX(version_num) AS maxv FROM dataset_versions WHERE dataset_id = ?')
          .get(datasetId)!;
        const v = (maxv ?? 0) + 1;
        this.db
          .prepare(
            "INSERT INTO dataset_versions (dataset_id, version_num, created_at, files, total_bytes, state) VALUES (?, ?, ?, 0, 0, 'publishing')",
          )
          .run(datasetId, v, createdAt);
        return v;
      })
      .immediate();
  }

  /** Records a batch of the version's files in one transaction. */
  addFiles(datasetId: number, versionNum: number, files: readonly PinnedFile[]): void {
    const insert = this.db.prepare('INSERT INTO dataset_files (dataset_id, version_num, key, size, etag) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const f of files) insert.run(datasetId, versionNum, f.key, f.size, f.etag);
    })();
  }

  finishVersion(datasetId: number, versionNum: number, files: number, totalBytes: number): void {
    this.db
      .prepare("UPDATE dataset_versions SET state = 'ready', files = ?, total_bytes = ? WHERE dataset_id = ? AND version_num = ?")
      .run(files, totalBytes, datasetId, versionNum);
  }

  /** Drops a version that could not be published (its files go with it). */
  abandonVersion(datasetId: number, versionNum: number): void {
    this.db.prepare('DELETE FROM dataset_versions WHERE dataset_id = ? AND version_num = ?').run(datasetId, versionNum);
  }

  /** Versions a crash left half-published. */
  abandonUnfinished(): number {
    return this.db.prepare("DELETE FROM dataset_versions WHERE state = 'publishing'").run().changes;
  }

  /** A page of pinned files in key order, after `afterKey`. */
  files(datasetId: number, versionNum: number, afterKey: string, limit: number): PinnedFile[] {
    return this.db
      .prepare<[number, number, string, number], PinnedFile>(
        'SELECT key, size, etag FROM dataset_files WHERE dataset_id = ? AND version_num = ? AND key > ? ORDER BY key LIMIT ?',
      )
      .all(datasetId, versionNum, afterKey, limit);
  }

  /** Every pinned file, a page at a time (no cursor stays open on the shared connection). */
  async *allFiles(datasetId: number, versionNum: number, pageSize = 1000): AsyncGenerator<PinnedFile> {
    let after = '';
    for (;;) {
      const page = this.files(datasetId, versionNum, after, pageSize);
      if (!page.length) return;
      yield* page;
      after = page[page.length - 1]!.key;
    }
  }
}
