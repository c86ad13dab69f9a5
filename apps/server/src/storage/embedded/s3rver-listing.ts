import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** How s3rver's FilesystemStore names the file holding an object's bytes. */
export const OBJECT_SUFFIX = '._S3rver_object';

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  maxKeys?: number;
}

export interface ListResult {
  keys: string[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

/**
 * A replacement for s3rver's listing over its bucket folder, which gets two things wrong:
 * - it walks folders in file-name order, so `train/x` comes before `train.csv` although S3 orders
 *   keys the other way round; a page boundary between them loses `train.csv` for good (the next
 *   page starts after `train/x`);
 * - with a delimiter it never descends into a sub-folder's sub-folders, so a folder holding only
 *   folders (`data/2024/01/a.csv` listed at `data/`) is missing from the common prefixes.
 * Keys come out here in S3's order (UTF-8 bytes). Without a delimiter, pages hold maxKeys objects
 * and the next page starts after the last key (how s3rver makes its continuation token). With
 * a delimiter everything comes in one page: s3rver's token can only point after an object,
 * not after a common prefix.
 */
export async function listBucketFolder(bucketPath: string, options: ListOptions): Promise<ListResult> {
  const prefix = options.prefix ?? '';
  const delimiter = options.delimiter ?? '';
  const startAfter = options.startAfter ?? '';
  const maxKeys = delimiter ? Infinity : (options.maxKeys ?? Infinity);

  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;

  for await (const entry of walkSorted(bucketPath, '', prefix, startAfter, delimiter)) {
    if (entry.kind === 'prefix') {
      if (commonPrefixes.at(-1) !== entry.value) commonPrefixes.push(entry.value);
      continue;
    }
    const key = entry.value;
    if (delimiter) {
      const idx = key.indexOf(delimiter, prefix.length);
      if (idx !== -1) {
        const cp = key.slice(0, idx + delimiter.length);
        if (commonPrefixes.at(-1) !== cp) commonPrefixes.push(cp);
        continue;
      }
    }
    if (keys.length >= maxKeys) {
      isTruncated = true;
      break;
    }
    keys.push(key);
  }
  return { keys, commonPrefixes, isTruncated };
}

type Entry = { kind: 'key' | 'prefix'; value: string };

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Yields the keys under `dir` (whose keys start with `keyPrefix`) in S3 order. Sorting a folder's
 * entries as `name` for objects and `name/` for sub-folders gives that order, since no key part
 * holds a '/'. With the '/' delimiter a sub-folder below the listed prefix is one common prefix,
 * yielded without reading more of it than its first object.
 */
async function* walkSorted(dir: string, keyPrefix: string, prefix: string, startAfter: string, delimiter: string): AsyncGenerator<Entry> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const children = entries.flatMap((e) => {
    if (e.isDirectory()) return [{ sortKey: `${keyPrefix}${e.name}/`, dir: true, name: e.name }];
    if (e.isFile() && e.name.endsWith(OBJECT_SUFFIX)) {
      return [{ sortKey: `${keyPrefix}${e.name.slice(0, -OBJECT_SUFFIX.length)}`, dir: false, name: e.name }];
    }
    return [];
  });
  children.sort((a, b) => utf8Compare(a.sortKey, b.sortKey));

  for (const child of children) {
    const key = child.sortKey;
    // Neither inside the prefix nor on the way to it.
    if (!key.startsWith(prefix) && !(child.dir && prefix.startsWith(key))) continue;
    if (!child.dir) {
      if (utf8Compare(key, startAfter) > 0) yield { kind: 'key', value: key };
      continue;
    }
    // Every key below sorts before startAfter: skip the whole folder.
    if (utf8Compare(key, startAfter) < 0 && !startAfter.startsWith(key)) continue;
    const sub = path.join(dir, child.name);
    if (delimiter === '/' && key.startsWith(prefix) && key.length > prefix.length) {
      const cp = key.slice(0, key.indexOf('/', prefix.length) + 1);
      if (utf8Compare(cp, startAfter) > 0 && (await hasObject(sub))) yield { kind: 'prefix', value: cp };
      continue;
    }
    yield* walkSorted(sub, key, prefix, startAfter, delimiter);
  }
}

/** A folder left empty by deletes is no common prefix: S3 has no folders, only keys. */
async function hasObject(dir: string): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  if (entries.some((e) => e.isFile() && e.name.endsWith(OBJECT_SUFFIX))) return true;
  for (const e of entries) if (e.isDirectory() && (await hasObject(path.join(dir, e.name)))) return true;
  return false;
}
