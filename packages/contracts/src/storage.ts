import { z } from 'zod';
import { OBJECT_PATH_MAX_LENGTH, OBJECT_PATH_PATTERN } from './object-path.js';
import { textProblem } from './text.js';

/**
 * The object-storage browser behind the wizard's Select buttons. Bucket names and prefixes are
 * held to the same grammar as object paths (`OBJECT_PATH_PATTERN`), so whatever the browser
 * hands back is a path the create request accepts.
 */

const PLACEHOLDER_BUCKET = 'bucket';

export const BucketName = z
  .string({ error: (iss) => (iss.input === undefined ? 'bucket is required' : 'bucket must be text') })
  .max(63, { error: 'bucket must be at most 63 characters' })
  .refine((b) => !b.includes('/') && OBJECT_PATH_PATTERN.test(`obs://${b}/`), {
    error: 'bucket must be 3–63 lowercase letters, digits, "." or "-", starting and ending with a letter or digit',
  });

/** A folder's key prefix: '' for the bucket root, otherwise segments each followed by '/'. */
export const FolderPrefix = z
  .string({ error: 'prefix must be text' })
  .max(OBJECT_PATH_MAX_LENGTH - 70, { error: 'prefix is too long' })
  .refine((p) => p === '' || (p.endsWith('/') && OBJECT_PATH_PATTERN.test(`obs://${PLACEHOLDER_BUCKET}/${p}`)), {
    error: 'prefix must be "" or folder names each ending with "/" (no "//", "." or ".." segments, no control characters)',
  });

export const StorageBucket = z.object({ name: z.string() });
export type StorageBucket = z.infer<typeof StorageBucket>;

export const StorageBucketList = z.object({ items: z.array(StorageBucket) });
export type StorageBucketList = z.infer<typeof StorageBucketList>;

export const StorageBucketParams = z.object({ bucket: BucketName });
export type StorageBucketParams = z.infer<typeof StorageBucketParams>;

export const StorageListQuery = z.object({ prefix: FolderPrefix.default('') });
export type StorageListQuery = z.infer<typeof StorageListQuery>;

export const StorageFolder = z.object({
  /** The last segment, without the '/'. */
  name: z.string(),
  /** The full key prefix, ending with '/'. */
  prefix: z.string(),
  /** `obs://bucket/prefix/`, ready for a path field. */
  path: z.string(),
});
export type StorageFolder = z.infer<typeof StorageFolder>;

export const StorageObject = z.object({
  name: z.string(),
  key: z.string(),
  size: z.int().min(0),
});
export type StorageObject = z.infer<typeof StorageObject>;

/** One level of a bucket, folders first, each list sorted by name. */
export const StorageListing = z.object({
  bucket: z.string(),
  prefix: z.string(),
  path: z.string(),
  folders: z.array(StorageFolder),
  objects: z.array(StorageObject),
});
export type StorageListing = z.infer<typeof StorageListing>;

export const CreateFolderRequest = z.object({
  prefix: FolderPrefix.refine((p) => p !== '', { error: 'prefix is required' }).superRefine((p, ctx) => {
    // What the path grammar lets through and a new folder must not carry (bidi overrides, U+FFFD);
    // browsing (FolderPrefix alone) still reaches folders already in the store.
    const problem = p !== '' && OBJECT_PATH_PATTERN.test(`obs://${PLACEHOLDER_BUCKET}/${p}`) ? textProblem(p) : null;
    if (problem) ctx.addIssue({ code: 'custom', message: `prefix ${problem}`, input: p });
  }),
});
export type CreateFolderRequest = z.infer<typeof CreateFolderRequest>;
