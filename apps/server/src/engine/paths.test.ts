import { describe, expect, it } from 'vitest';
import { classifyKey, lastSegment } from './paths.js';

describe('classifyKey', () => {
  const p = 'data/';
  it('keeps ordinary keys, nested ones too', () => {
    expect(classifyKey('data/a.csv', p)).toEqual({ ok: true, relative: 'a.csv' });
    expect(classifyKey('data/x/y/z.bin', p)).toEqual({ ok: true, relative: 'x/y/z.bin' });
  });
  it('skips folder markers', () => {
    expect(classifyKey('data/', p)).toMatchObject({ ok: false, why: 'folder-marker' });
    expect(classifyKey('data/sub/', p)).toMatchObject({ ok: false, why: 'folder-marker' });
  });
  it('refuses keys that would escape or confuse the folder', () => {
    for (const k of ['data/../etc/passwd', 'data/a/../../x', 'data//abs', 'data/./a', 'data/a\0b', 'data/..']) {
      expect(classifyKey(k, p)).toMatchObject({ ok: false, why: 'unsafe' });
    }
  });
  it('skips names over 255 bytes and keeps 255', () => {
    expect(classifyKey(`data/${'a'.repeat(255)}`, p)).toMatchObject({ ok: true });
    expect(classifyKey(`data/${'a'.repeat(256)}`, p)).toMatchObject({ ok: false, why: 'too-long' });
    expect(classifyKey(`data/${'d'.repeat(300)}/f.csv`, p)).toMatchObject({ ok: false, why: 'too-long' });
  });
});

describe('lastSegment', () => {
  it('names the code folder after the last directory', () => {
    expect(lastSegment('new/')).toBe('new');
    expect(lastSegment('a/b/linreg/')).toBe('linreg');
    expect(lastSegment('')).toBe('code');
  });
});
