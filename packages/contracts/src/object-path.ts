import { z } from 'zod';
import { textProblem } from './text.js';

/**
 * Object-storage directories as users write them: `obs://bucket/dir/` or `s3://bucket/dir/`.
 * The two schemes name the same S3-compatible store (OBS is Huawei's name for it), so every
 * comparison ignores the scheme.
 */

export const OBJECT_PATH_MESSAGE = 'must be an object-storage directory like obs://bucket/dir/';
export const OBJECT_PATH_MAX_LENGTH = 1024;

export type ObjectPathScheme = 'obs' | 's3';

export interface ParsedObjectPath {
  scheme: ObjectPathScheme;
  bucket: string;
  /** '' for the bucket root, otherwise the key prefix ending with '/'. */
  prefix: string;
}

// S3 bucket naming: 3–63 chars, no adjacent dots (S3 refuses them, and they read like `..`).
const BUCKET = '(?![a-z0-9.-]*\\.\\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';
// `.` and `..` segments would be resolved differently by stores, SDKs and the container's
// filesystem, so a path could escape the directory the user was shown; refuse them outright.
const SEGMENT = '(?!\\.\\.?(?:/|$))[^/\\u0000-\\u001f\\u007f]+';

/** Kept as a regex (not only a refinement) so the OpenAPI document carries it as `pattern`. */
export const OBJECT_PATH_PATTERN = new RegExp(`^(obs|s3)://(${BUCKET})((?:/${SEGMENT})*)/?$`);

/** Why `s` is not an object path, for a message that helps more than "invalid". */
function explain(s: string): string {
  const scheme = /^(obs|s3):\/\/([^/]*)(.*)$/s.exec(s);
  if (!scheme) return OBJECT_PATH_MESSAGE;
  const bucket = scheme[2] ?? '';
  const rest = scheme[3] ?? '';
  if (!new RegExp(`^${BUCKET}$`).test(bucket)) {
    return `${OBJECT_PATH_MESSAGE}; the bucket name must be 3–63 lowercase letters, digits, "." or "-", starting and ending with a letter or digit`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rest)) return `${OBJECT_PATH_MESSAGE}; control characters are not allowed`;
  const segments = rest.replace(/^\//, '').replace(/\/$/, '').split('/');
  if (rest.length > 1 && segments.some((seg) => seg === '')) return `${OBJECT_PATH_MESSAGE}; empty segments (//) are not allowed`;
  if (segments.some((seg) => seg === '.' || seg === '..')) return `${OBJECT_PATH_MESSAGE}; "." and ".." segments are not allowed`;
  return OBJECT_PATH_MESSAGE;
}

export const ObjectPath = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : OBJECT_PATH_MESSAGE) })
  .max(OBJECT_PATH_MAX_LENGTH, { error: `must be at most ${OBJECT_PATH_MAX_LENGTH} characters` })
  .regex(OBJECT_PATH_PATTERN, { error: (iss) => explain(String(iss.input)) })
  // The pattern already refuses control characters; what it lets through and no path should hold
  // (bidi overrides, U+FFFD) is checked here, on requests only: parseObjectPath stays as lenient as
  // the pattern, so a folder already in the store can still be listed and staged.
  .superRefine((s, ctx) => {
    const problem = OBJECT_PATH_PATTERN.test(s) ? textProblem(s) : null;
    if (problem) ctx.addIssue({ code: 'custom', message: `${OBJECT_PATH_MESSAGE}; it ${problem}`, input: s });
  });
export type ObjectPath = z.infer<typeof ObjectPath>;

/** Splits a path into bucket and normalised prefix; throws with the reason when it is not one. */
export function parseObjectPath(s: string): ParsedObjectPath {
  const m = s.length <= OBJECT_PATH_MAX_LENGTH ? OBJECT_PATH_PATTERN.exec(s) : null;
  if (!m)
    throw new Error(
      `${JSON.stringify(s)} ${s.length > OBJECT_PATH_MAX_LENGTH ? `is longer than ${OBJECT_PATH_MAX_LENGTH} characters` : explain(s)}`,
    );
  const dir = m[3] ?? '';
  return { scheme: m[1] as ObjectPathScheme, bucket: m[2] ?? '', prefix: dir ? `${dir.slice(1)}/` : '' };
}

/** The canonical spelling (trailing slash); throws if the parts do not make a valid path. */
export function formatObjectPath(bucket: string, prefix: string, scheme: ObjectPathScheme = 'obs'): string {
  const dir = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const s = `${scheme}://${bucket}/${dir}`;
  parseObjectPath(s);
  return s;
}

/**
 * Whether `inner` is `outer` or a directory below it. Prefixes are compared whole segments at a
 * time (both end with '/'), so `data2/` is not inside `data/`. Throws on an invalid path.
 */
export function isSameOrInside(inner: string, outer: string): boolean {
  const a = parseObjectPath(inner);
  const b = parseObjectPath(outer);
  return a.bucket === b.bucket && a.prefix.startsWith(b.prefix);
}
