import { z } from 'zod';
import { JobParams } from './training-job.js';

/** One file a job wrote to its Training Output Path; `key` is relative to that path. */
export const JobOutputFile = z.object({
  key: z.string(),
  size: z.int().min(0),
  /** When the store last wrote it (ISO 8601), where the store says. */
  modified: z.string().optional(),
});
export type JobOutputFile = z.infer<typeof JobOutputFile>;

export const JobOutputList = z.object({
  /** The job's Training Output Path, e.g. obs://jobs/out/linreg/. */
  path: z.string(),
  items: z.array(JobOutputFile),
});
export type JobOutputList = z.infer<typeof JobOutputList>;

/**
 * A key below the output path, as listed. `.` and `..` segments and empty segments are refused:
 * the key is appended to the job's prefix, and must never name something outside it.
 */
export const JobOutputKey = z
  .string()
  .min(1, { error: 'Output key is required' })
  .max(1024, { error: 'Output key must be at most 1024 characters' })
  .refine((k) => k.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), {
    error: 'Output key must be a file below the output path (no empty, "." or ".." segments)',
  });

/** The route's params: the job, and the key as the `*` wildcard after `/outputs/`. */
export const JobOutputParams = JobParams.extend({ '*': JobOutputKey });
export type JobOutputParams = z.infer<typeof JobOutputParams>;
