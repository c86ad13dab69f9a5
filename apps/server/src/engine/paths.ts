/** The container contract's fixed paths (PRODUCT.md, "The container contract"). */
export const WORK_DIR = '/home/work';
export const CODE_ROOT = '/home/work/user-job-dir';
export const DATA_DIR = '/home/work/data';
export const OUTPUT_DIR = '/home/work/outputs';
/** A job with a Checkpoint Path: uploaded there while it runs, restored from it before it starts. */
export const CHECKPOINT_DIR = '/home/work/checkpoints';
/** The UID the boot command runs as: the image check requires it, staged files are owned by it. */
export const CONTAINER_UID = 1101;

/** A contract path as a tar entry names it (entries carry no leading slash). */
export function inArchive(containerPath: string): string {
  return containerPath.replace(/^\//, '');
}

/** The longest file name the reference stages; longer ones are skipped and logged. */
export const MAX_NAME_LENGTH = 255;

/** "obs://b/new/" → "new": the Code Directory's last segment names its folder in the container. */
export function lastSegment(prefix: string): string {
  const parts = prefix.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? 'code';
}

export type KeyVerdict = { ok: true; relative: string } | { ok: false; why: 'folder-marker' | 'unsafe' | 'too-long'; relative: string };

/**
 * Where an object key lands relative to its staging folder, or why it does not. Keys are user
 * data: a `..`, an empty or `.` segment, a leading slash or a NUL would let a key escape the
 * job's folder or be misread by tar, so such keys are refused rather than normalised.
 */
export function classifyKey(key: string, prefix: string): KeyVerdict {
  const relative = key.slice(prefix.length);
  if (relative === '' || relative.endsWith('/')) return { ok: false, why: 'folder-marker', relative };
  const segments = relative.split('/');
  if (relative.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    return { ok: false, why: 'unsafe', relative };
  }
  if (segments.some((s) => Buffer.byteLength(s) > MAX_NAME_LENGTH)) return { ok: false, why: 'too-long', relative };
  return { ok: true, relative };
}
