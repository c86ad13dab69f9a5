import { z } from 'zod';
import { IMAGE_REFERENCE_PATTERN } from './training-job.js';
import { Timestamp } from './timestamp.js';

/**
 * An image as the engine names it: a reference (`registry:5000/org/name:tag`, `name:tag`) or an
 * image ID (`sha256:…`, which the reference grammar also accepts as name:tag).
 */
export const ImageRef = z
  .string({ error: 'ref is required and must be a string' })
  .min(1, { error: 'ref is required' })
  .max(512, { error: 'ref must be at most 512 characters' })
  .regex(IMAGE_REFERENCE_PATTERN, {
    error: 'ref must be an image reference like registry.example.com:5000/org/name:tag or name:tag (lowercase repository), or an image ID',
  });

export const ImageRefRequest = z.object({ ref: ImageRef });
export type ImageRefRequest = z.infer<typeof ImageRefRequest>;

export const IMAGE_CHECK_STATUSES = ['passed', 'failed', 'unchecked'] as const;
export const ImageCheckStatus = z.enum(IMAGE_CHECK_STATUSES);
export type ImageCheckStatus = z.infer<typeof ImageCheckStatus>;

/** The UID 1101 verdict stored for an image ID; `unchecked` until a job or a user checks it. */
export const ImageVerdict = z.object({
  status: ImageCheckStatus,
  /** Why it failed; null when it passed or was not checked. */
  reason: z.string().nullable(),
  checkedAt: Timestamp.nullable(),
});
export type ImageVerdict = z.infer<typeof ImageVerdict>;

export const EngineImage = z.object({
  /** sha256:…, the key of the verdict. */
  id: z.string(),
  /** Empty for an untagged image. */
  repoTags: z.array(z.string()),
  repoDigests: z.array(z.string()),
  sizeBytes: z.int().min(0),
  createdAt: Timestamp,
  check: ImageVerdict,
  /** How many training jobs (anyone's) name this image or ran it; the Images page can hide those with none. */
  jobs: z.int().min(0).optional(),
});
export type EngineImage = z.infer<typeof EngineImage>;

/** Newest first. */
export const ImageList = z.object({ items: z.array(EngineImage) });
export type ImageList = z.infer<typeof ImageList>;

export const ImageCheckResult = z.object({
  ref: z.string(),
  image: EngineImage,
  /** true when the verdict was already stored for this image ID (the check is per content, so it stands). */
  cached: z.boolean(),
});
export type ImageCheckResult = z.infer<typeof ImageCheckResult>;

/**
 * One line of the NDJSON answer of `POST /images/pull`: progress lines, then exactly one `done`
 * or `error` line. The HTTP status is 200 once the pull has begun, so a failure arrives as a line.
 */
export const PullEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    status: z.string(),
    /** The layer the line is about, when it is about one. */
    layer: z.string().nullable(),
    current: z.number().nullable(),
    total: z.number().nullable(),
  }),
  z.object({
    type: z.literal('done'),
    ref: z.string(),
    /** false when the image was already on the engine and nothing was downloaded. */
    pulled: z.boolean(),
    image: EngineImage,
  }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type PullEvent = z.infer<typeof PullEvent>;

/** The answer of `POST /images/load`: what the tarball held, each image checked. */
export const LoadedImages = z.object({
  /** As the engine reported them: tags, or IDs for untagged images. */
  refs: z.array(z.string()),
  items: z.array(EngineImage),
});
export type LoadedImages = z.infer<typeof LoadedImages>;
