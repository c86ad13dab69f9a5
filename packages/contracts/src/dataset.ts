import { z } from 'zod';
import { ObjectPath } from './object-path.js';
import { Timestamp } from './timestamp.js';
import { JobDescription, JobName, JobVersion } from './training-job.js';

/** A dataset's name is its id in paths and in a job's `data.datasetId`; the rules of a job name. */
export const DatasetName = JobName;

export const CreateDatasetRequest = z.object({
  name: DatasetName,
  description: JobDescription.optional(),
  /** The object-storage folder whose files a version pins. */
  path: ObjectPath,
});
export type CreateDatasetRequest = z.infer<typeof CreateDatasetRequest>;

export const DatasetVersion = z.object({
  version: JobVersion,
  createdAt: Timestamp,
  files: z.int().min(0),
  totalBytes: z.int().min(0),
});
export type DatasetVersion = z.infer<typeof DatasetVersion>;

export const Dataset = z.object({
  name: DatasetName,
  description: z.string().nullable(),
  path: ObjectPath,
  createdAt: Timestamp,
  /** Newest first. */
  versions: z.array(DatasetVersion),
});
export type Dataset = z.infer<typeof Dataset>;

export const DatasetList = z.object({ items: z.array(Dataset), total: z.int().min(0) });
export type DatasetList = z.infer<typeof DatasetList>;

export const DatasetParams = z.object({ name: DatasetName });
export const DatasetVersionParams = z.object({ name: DatasetName, version: JobVersion });

/** One pinned object: what a job on this version stages, checked against the store. */
export const DatasetFile = z.object({ key: z.string(), size: z.int().min(0), etag: z.string() });
export type DatasetFile = z.infer<typeof DatasetFile>;

export const DatasetFilesQuery = z.object({
  /** The last key of the previous page. */
  after: z.string().max(1024).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const DatasetFilePage = z.object({ items: z.array(DatasetFile), nextAfter: z.string().nullable() });
export type DatasetFilePage = z.infer<typeof DatasetFilePage>;
