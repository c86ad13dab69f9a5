import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBucketFolder, OBJECT_SUFFIX } from '../../src/storage/embedded/s3rver-listing.js';

describe('listing s3rver bucket folders in S3 order', () => {
  let bucket: string;
  const keys = ['a', 'a.txt', 'a/b', 'a/c/d', 'a0', 'b/x-y/z', 'b/x/1', 'empty-dir-sibling'];

  beforeAll(() => {
    bucket = mkdtempSync(path.join(os.tmpdir(), 'tc-listing-'));
    for (const k of keys) {
      const file = path.join(bucket, `${k}${OBJECT_SUFFIX}`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, k);
      // The side files s3rver keeps next to each object are not objects.
      writeFileSync(path.join(bucket, `${k}._S3rver_metadata.json`), '{}');
    }
    mkdirSync(path.join(bucket, 'gone', 'deeper'), { recursive: true });
  });
  afterAll(() => rmSync(bucket, { recursive: true, force: true }));

  it('lists every key in order, page after page', async () => {
    expect((await listBucketFolder(bucket, {})).keys).toEqual(keys);
    const seen: string[] = [];
    let startAfter = '';
    for (;;) {
      const page = await listBucketFolder(bucket, { maxKeys: 2, startAfter });
      seen.push(...page.keys);
      if (!page.isTruncated) break;
      startAfter = page.keys.at(-1)!;
    }
    expect(seen).toEqual(keys);
  });

  it('groups by delimiter, including folders that hold only folders, and never empty ones', async () => {
    expect(await listBucketFolder(bucket, { delimiter: '/', maxKeys: 1 })).toEqual({
      keys: ['a', 'a.txt', 'a0', 'empty-dir-sibling'],
      commonPrefixes: ['a/', 'b/'],
      isTruncated: false,
    });
    expect(await listBucketFolder(bucket, { prefix: 'b/', delimiter: '/' })).toEqual({
      keys: [],
      commonPrefixes: ['b/x-y/', 'b/x/'],
      isTruncated: false,
    });
    expect(await listBucketFolder(bucket, { prefix: 'a/c', delimiter: '/' })).toEqual({
      keys: [],
      commonPrefixes: ['a/c/'],
      isTruncated: false,
    });
    expect(await listBucketFolder(bucket, { prefix: 'b/x', delimiter: '-' })).toEqual({
      keys: ['b/x/1'],
      commonPrefixes: ['b/x-'],
      isTruncated: false,
    });
  });

  it('filters by prefix and start-after', async () => {
    expect((await listBucketFolder(bucket, { prefix: 'a/' })).keys).toEqual(['a/b', 'a/c/d']);
    expect((await listBucketFolder(bucket, { prefix: 'a', startAfter: 'a/b' })).keys).toEqual(['a/c/d', 'a0']);
    expect((await listBucketFolder(path.join(bucket, 'missing'), {})).keys).toEqual([]);
  });
});
