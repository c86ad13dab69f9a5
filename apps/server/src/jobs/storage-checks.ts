import { parseObjectPath, type CreateTrainingJobRequest, type FieldError } from '@tc/contracts';
import { ObjectStoreError, type ObjectStore } from '../storage/object-store.js';

/**
 * Why a bucket cannot be used by this console (missing, unreadable, or in another region than
 * the console's), or null when it can. Other store failures (StoreUnavailableError) propagate.
 */
export async function bucketProblem(store: ObjectStore, bucket: string, region: string): Promise<string | null> {
  let actual: string;
  try {
    actual = await store.bucketRegion(bucket);
  } catch (err) {
    if (err instanceof ObjectStoreError && err.kind === 'not_found') return `bucket ${bucket} does not exist`;
    if (err instanceof ObjectStoreError && err.kind === 'denied') return `bucket ${bucket} cannot be read with the console’s credentials`;
    // Unavailable (a 503 for the caller) or anything else: not a fault of the path.
    throw err;
  }
  return actual === region ? null : `bucket ${bucket} is in region ${actual}, but the console works in region ${region}`;
}

export interface StorageCheckResult {
  errors: FieldError[];
  /** Accepted, but worth a warning event (a Training Output Path that already holds files). */
  warnings: string[];
}

/**
 * Submit-time checks against the object store, so a job that cannot work is refused with the
 * field named instead of failing minutes later: every bucket in the console's region, the Code
 * Directory and the data path present (an object or a folder marker under them). Each bucket is
 * asked once.
 */
export async function checkStoragePaths(req: CreateTrainingJobRequest, store: ObjectStore, region: string): Promise<StorageCheckResult> {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  const paths: { field: string; url: string }[] = [
    { field: 'algorithm.codeDir', url: req.algorithm.codeDir },
    ...(req.data.source === 'path' ? [{ field: 'data.path', url: req.data.path }] : []),
    { field: 'trainOutput', url: req.trainOutput },
    ...(req.logPath ? [{ field: 'logPath', url: req.logPath }] : []),
    ...(req.checkpointPath ? [{ field: 'checkpointPath', url: req.checkpointPath }] : []),
  ];

  // Each bucket is asked once, however many fields name it.
  const problems = new Map<string, Promise<string | null>>();
  const usable = new Set<string>();
  for (const p of paths) {
    const { bucket } = parseObjectPath(p.url);
    if (!problems.has(bucket)) problems.set(bucket, bucketProblem(store, bucket, region));
    const problem = await problems.get(bucket)!;
    if (problem) errors.push({ path: p.field, message: problem });
    else usable.add(p.field);
  }

  const hasObjects = async (url: string): Promise<boolean> => {
    const { bucket, prefix } = parseObjectPath(url);
    for await (const _ of store.list(bucket, prefix)) return true;
    return false;
  };
  if (usable.has('algorithm.codeDir') && !(await hasObjects(req.algorithm.codeDir))) {
    errors.push({
      path: 'algorithm.codeDir',
      message: `the Code Directory ${req.algorithm.codeDir} does not exist (nothing is stored under it)`,
    });
  }
  if (req.data.source === 'path' && usable.has('data.path') && !(await hasObjects(req.data.path))) {
    errors.push({ path: 'data.path', message: `the data path ${req.data.path} does not exist (nothing is stored under it)` });
  }
  if (usable.has('trainOutput') && (await hasObjects(req.trainOutput))) {
    warnings.push(`the Training Output Path ${req.trainOutput} already holds files; files of the same name will be overwritten`);
  }
  return { errors, warnings };
}
