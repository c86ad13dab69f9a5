import { z } from 'zod';
import { JobName, JobStatus, JobVersion } from './training-job.js';

/** ModelArts' "View Comparison Result": two versions at least, and few enough to fit side by side. */
export const MIN_COMPARED_VERSIONS = 2;
export const MAX_COMPARED_VERSIONS = 10;

/** `V001,V003`: the versions as the query writes them, in the order given. */
export function splitComparedVersions(list: string): string[] {
  return list
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * `versions` stays a plain comma-separated string (no transform), so the query is exact in
 * OpenAPI; the checks name the field, so a 400 says `versions`.
 */
export const VersionComparisonQuery = z.object({
  versions: z
    .string({ error: (iss) => (iss.input === undefined ? 'versions is required (e.g. V001,V002)' : 'versions must be text') })
    .max(MAX_COMPARED_VERSIONS * 12, { error: 'versions is too long' })
    .superRefine((list, ctx) => {
      const versions = splitComparedVersions(list);
      const bad = versions.find((v) => !JobVersion.safeParse(v).success);
      if (bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: `${bad} is not a version like V001` });
      } else if (new Set(versions).size !== versions.length) {
        ctx.addIssue({ code: 'custom', message: 'each version may be named once' });
      } else if (versions.length < MIN_COMPARED_VERSIONS || versions.length > MAX_COMPARED_VERSIONS) {
        ctx.addIssue({
          code: 'custom',
          message: `name ${MIN_COMPARED_VERSIONS} to ${MAX_COMPARED_VERSIONS} versions separated by commas, e.g. V001,V002`,
        });
      }
    }),
});
export type VersionComparisonQuery = z.infer<typeof VersionComparisonQuery>;

export const VersionComparisonParams = z.object({ name: JobName });

/** The version's input data: a data path, or a dataset and its version. */
export const ComparedData = z.object({
  source: z.enum(['path', 'dataset']),
  path: z.string().optional(),
  datasetId: z.string().optional(),
  datasetVersion: z.string().optional(),
});
export type ComparedData = z.infer<typeof ComparedData>;

/** What a secret environment variable's value reads as in a comparison: it is never shown, nor compared. */
export const COMPARED_SECRET_VALUE = '(secret)';

export const ComparedVersion = z.object({
  version: JobVersion,
  status: JobStatus,
  imagePath: z.string(),
  /** The image ID (sha256:…) the job ran; null until the image was checked. */
  imageId: z.string().nullable(),
  /** `repo@sha256:…` when the image came from a registry; null for a built or loaded image. */
  imageDigest: z.string().nullable(),
  data: ComparedData,
  flavor: z.string(),
  nodes: z.int().min(1),
  /** From start to end (to now while it runs); null if it never started. */
  durationSeconds: z.number().min(0).nullable(),
  /**
   * The running parameters, by the spec's path: `algorithm.imagePath`, `algorithm.codeDir`,
   * `algorithm.bootCommand`, `data`, `trainOutput`, `logPath`, `resources.pool`, `resources.type`,
   * `resources.flavor`, `resources.nodes`, `maxRuntimeMinutes`, `stallWatchdog`, `metrics` and
   * `env.<NAME>` per environment variable (a secret one reads "(secret)"). A parameter the
   * version does not set is absent.
   */
  parameters: z.record(z.string(), z.string()),
  /**
   * Each metric's last value: from node 0, or for a metric node 0 never reported, from the
   * lowest-numbered node that did.
   */
  finalMetrics: z.record(z.string(), z.number()),
});
export type ComparedVersion = z.infer<typeof ComparedVersion>;

export const VersionComparison = z.object({
  name: JobName,
  /** In the order the query named them. */
  versions: z.array(ComparedVersion),
  /** Parameter names whose value is not the same in every version (absent counts as a value), sorted. */
  differingParameters: z.array(z.string()),
});
export type VersionComparison = z.infer<typeof VersionComparison>;
