import { describe, expect, it } from 'vitest';
import { formatObjectPath, isSameOrInside, ObjectPath, OBJECT_PATH_MESSAGE, parseObjectPath } from './object-path.js';

const message = (s: unknown) => ObjectPath.safeParse(s).error?.issues[0]?.message;

describe('ObjectPath', () => {
  it.each([
    'obs://demo/',
    'obs://demo',
    's3://demo/data/',
    's3://demo/data',
    'obs://my.bucket-01/a/b/c/',
    'obs://abc/Mixed Case/with spaces/',
    'obs://abc/ünïcode/',
    `obs://${'a'.repeat(63)}/x/`,
  ])('accepts %s', (s) => {
    expect(ObjectPath.safeParse(s).success).toBe(true);
  });

  it.each([
    ['http://demo/data/', ''],
    ['demo/data/', ''],
    ['OBS://demo/', ''],
    ['obs:/demo/', ''],
    ['obs://', 'bucket name'],
    ['obs://ab/', 'bucket name'],
    [`obs://${'a'.repeat(64)}/`, 'bucket name'],
    ['obs://Demo/', 'bucket name'],
    ['obs://-demo/', 'bucket name'],
    ['obs://demo-/', 'bucket name'],
    ['obs://de_mo/', 'bucket name'],
    ['obs://de..mo/', 'bucket name'],
    ['obs://demo//', 'empty segments'],
    ['obs://demo/a//b/', 'empty segments'],
    ['obs://demo/a/../b/', '".."'],
    ['obs://demo/..', '".."'],
    ['obs://demo/../', '".."'],
    ['obs://demo/./a/', '".."'],
    ['obs://demo/a\u0000b/', 'control characters'],
    ['obs://demo/a\nb/', 'control characters'],
    ['obs://demo/a\u007fb/', 'control characters'],
  ])('refuses %j with a reason', (s, reason) => {
    const m = message(s);
    expect(m).toContain(OBJECT_PATH_MESSAGE);
    expect(m).toContain(reason);
  });

  it('accepts dots inside segment names', () => {
    expect(ObjectPath.safeParse('obs://demo/.hidden/a..b/').success).toBe(true);
  });

  it('refuses a path over 1024 characters', () => {
    expect(message(`obs://demo/${'a/'.repeat(510)}`)).toMatch(/1024/);
  });

  it('names a missing value as required', () => {
    expect(message(undefined)).toBe('is required');
    expect(message(42)).toBe(OBJECT_PATH_MESSAGE);
  });
});

describe('parseObjectPath', () => {
  it('normalises the prefix to end with a slash', () => {
    expect(parseObjectPath('obs://demo/data')).toEqual({ scheme: 'obs', bucket: 'demo', prefix: 'data/' });
    expect(parseObjectPath('obs://demo/data/')).toEqual({ scheme: 'obs', bucket: 'demo', prefix: 'data/' });
    expect(parseObjectPath('s3://demo/a/b')).toEqual({ scheme: 's3', bucket: 'demo', prefix: 'a/b/' });
  });
  it('gives an empty prefix for the bucket root', () => {
    expect(parseObjectPath('obs://demo')).toEqual({ scheme: 'obs', bucket: 'demo', prefix: '' });
    expect(parseObjectPath('s3://demo/')).toEqual({ scheme: 's3', bucket: 'demo', prefix: '' });
  });
  it('throws with the reason on an invalid path', () => {
    expect(() => parseObjectPath('obs://demo/../x/')).toThrow(/"\." and "\.\." segments/);
    expect(() => parseObjectPath('ftp://demo/')).toThrow(OBJECT_PATH_MESSAGE);
    expect(() => parseObjectPath(`obs://demo/${'a'.repeat(1100)}`)).toThrow(/1024/);
  });
});

describe('formatObjectPath', () => {
  it('writes the canonical form with a trailing slash', () => {
    expect(formatObjectPath('demo', '')).toBe('obs://demo/');
    expect(formatObjectPath('demo', 'a/b')).toBe('obs://demo/a/b/');
    expect(formatObjectPath('demo', 'a/b/', 's3')).toBe('s3://demo/a/b/');
  });
  it('round-trips with parseObjectPath', () => {
    const p = parseObjectPath('s3://demo/x/y');
    expect(formatObjectPath(p.bucket, p.prefix, p.scheme)).toBe('s3://demo/x/y/');
  });
  it('throws on parts that make no valid path', () => {
    expect(() => formatObjectPath('DEMO', 'a/')).toThrow();
    expect(() => formatObjectPath('demo', '/a/')).toThrow(/empty segments/);
    expect(() => formatObjectPath('demo', '../')).toThrow();
  });
});

describe('isSameOrInside', () => {
  it('is true for the same directory, ignoring the trailing slash and the scheme', () => {
    expect(isSameOrInside('obs://demo/data/', 'obs://demo/data/')).toBe(true);
    expect(isSameOrInside('obs://demo/data', 's3://demo/data/')).toBe(true);
  });
  it('is true for a directory below', () => {
    expect(isSameOrInside('s3://demo/data/out/', 'obs://demo/data')).toBe(true);
    expect(isSameOrInside('obs://demo/anything/', 'obs://demo/')).toBe(true);
  });
  it('is false beside, above, or in another bucket', () => {
    expect(isSameOrInside('obs://demo/data2/', 'obs://demo/data/')).toBe(false);
    expect(isSameOrInside('obs://demo/output/', 'obs://demo/data/')).toBe(false);
    expect(isSameOrInside('obs://demo/', 'obs://demo/data/')).toBe(false);
    expect(isSameOrInside('obs://other/data/', 'obs://demo/data/')).toBe(false);
  });
  it('throws on an invalid path rather than guessing', () => {
    expect(() => isSameOrInside('nope', 'obs://demo/')).toThrow();
  });
});
