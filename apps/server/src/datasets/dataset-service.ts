import {
  isSameOrInside,
  parseObjectPath,
  type CreateDatasetRequest,
  type CreateTrainingJobRequest,
  type Dataset,
  type DatasetFilePage,
  type DatasetList,
} from '@tc/contracts';
import type { DatasetRecord, DatasetRepository, PinnedFile } from './dataset-repository.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { parseVersion } from '../jobs/version.js';
import { SnapshotStore } from './snapshot-store.js';
import { bucketProblem } from '../jobs/storage-checks.js';
import { canAccess, ownerScope, type Actor } from '../accounts/actor.js';

const BATCH = 500;

export interface DataSnapshot {
  /** The dataset's folder, injected as DLS_DATA_URL. */
  url: string;
  bucket: string;
  prefix: string;
  /** Lists the pinned files and refuses changed ones. */
  store: ObjectStore;
}

/**
 * Data Management: datasets name an object-storage folder; publishing a version pins the folder's
 * object list (key, size, ETag) at that moment, and jobs on that version stage exactly it.
 * Names are console-wide; users reach their own datasets, admins all.
 */
export class DatasetService {
  constructor(
    private readonly repo: DatasetRepository,
    private readonly store: ObjectStore,
    private readonly region: string,
  ) {}

  async create(actor: Actor, req: CreateDatasetRequest): Promise<Dataset> {
    const problem = await bucketProblem(this.store, parseObjectPath(req.path).bucket, this.region);
    if (problem) throw new InvalidInputError([{ path: 'path', message: problem }]);
    const made = this.repo.create({
      name: req.name,
      description: req.description ?? null,
      path: req.path,
      createdAt: new Date().toISOString(),
      ownerId: actor.userId,
    });
    if (!made) throw new ConflictError(`dataset ${req.name} already exists`);
    return this.view(made);
  }

  list(actor: Actor, page: number, pageSize: number): DatasetList {
    const { items, total } = this.repo.list(ownerScope(actor), pageSize, (page - 1) * pageSize);
    return { items: items.map((d) => this.view(d)), total };
  }

  get(actor: Actor, name: string): Dataset {
    return this.view(this.find(actor, name));
  }

  delete(actor: Actor, name: string): void {
    this.repo.delete(this.find(actor, name).id);
  }

  /** Pins the folder's current objects as the next version, streaming the listing in batches. */
  async publish(actor: Actor, name: string): Promise<Dataset> {
    const ds = this.find(actor, name);
    const { bucket, prefix } = parseObjectPath(ds.path);
    const v = this.repo.beginVersion(ds.id, new Date().toISOString());
    let files = 0;
    let bytes = 0;
    try {
      let batch: PinnedFile[] = [];
      for await (const o of this.store.list(bucket, prefix)) {
        // Folder markers are not data.
        if (o.key.endsWith('/')) continue;
        batch.push({ key: o.key, size: o.size, etag: o.etag ?? '' });
        files += 1;
        bytes += o.size;
        if (batch.length >= BATCH) {
          this.repo.addFiles(ds.id, v, batch);
          batch = [];
        }
      }
      this.repo.addFiles(ds.id, v, batch);
      if (files === 0) throw new InvalidInputError([{ path: 'path', message: `nothing to publish: ${ds.path} holds no files` }]);
      this.repo.finishVersion(ds.id, v, files, bytes);
    } catch (err) {
      this.repo.abandonVersion(ds.id, v);
      throw err;
    }
    return this.view(ds);
  }

  files(actor: Actor, name: string, version: string, after: string | undefined, limit: number): DatasetFilePage {
    const ds = this.find(actor, name);
    const v = this.version(ds, version);
    const items = this.repo.files(ds.id, v, after ?? '', limit);
    return { items, nextAfter: items.length === limit ? items[items.length - 1]!.key : null };
  }

  /**
   * Submit-time rule for a job on a dataset: the dataset and version exist, and the Training
   * Output Path is not inside the dataset's folder. Synchronous, so it runs in JobService's
   * create hooks right before the insert.
   */
  checkJob(req: CreateTrainingJobRequest, actor: Actor): void {
    if (req.data.source !== 'dataset') return;
    const ds = this.repo.get(req.data.datasetId);
    if (!ds || !canAccess(actor, ds.ownerId))
      throw new InvalidInputError([{ path: 'data.datasetId', message: `dataset ${req.data.datasetId} does not exist` }]);
    const n = parseVersion(req.data.version);
    if (n === null || !this.repo.version(ds.id, n)) {
      throw new InvalidInputError([{ path: 'data.version', message: `dataset ${ds.name} has no published version ${req.data.version}` }]);
    }
    if (isSameOrInside(req.trainOutput, ds.path)) {
      throw new InvalidInputError([
        { path: 'trainOutput', message: `Training Output Path must not be the dataset's folder ${ds.path} or inside it` },
      ]);
    }
  }

  /** What the runner stages for a job on a dataset version; null when it is gone. */
  snapshot(datasetId: string, version: string): DataSnapshot | null {
    const ds = this.repo.get(datasetId);
    const n = parseVersion(version);
    if (!ds || n === null || !this.repo.version(ds.id, n)) return null;
    const { bucket, prefix } = parseObjectPath(ds.path);
    return { url: ds.path, bucket, prefix, store: new SnapshotStore(this.store, bucket, prefix, () => this.repo.allFiles(ds.id, n)) };
  }

  /** Versions a crash left half-published are dropped at start. */
  recover(): void {
    this.repo.abandonUnfinished();
  }

  private find(actor: Actor, name: string): DatasetRecord {
    const ds = this.repo.get(name);
    if (!ds || !canAccess(actor, ds.ownerId)) throw new NotFoundError(`dataset ${name} does not exist`);
    return ds;
  }

  private version(ds: DatasetRecord, version: string): number {
    const n = parseVersion(version);
    if (n === null || !this.repo.version(ds.id, n)) throw new NotFoundError(`dataset ${ds.name} has no version ${version}`);
    return n;
  }

  private view(ds: DatasetRecord): Dataset {
    return {
      name: ds.name,
      description: ds.description,
      path: ds.path,
      createdAt: ds.createdAt,
      versions: this.repo
        .versions(ds.id)
        .map((v) => ({ version: v.version, createdAt: v.createdAt, files: v.files, totalBytes: v.totalBytes })),
    };
  }
}
