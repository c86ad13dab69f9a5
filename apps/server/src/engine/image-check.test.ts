import { describe, expect, it } from 'vitest';
import { numericUid, uidFromPasswd } from './image-check.js';

describe('numericUid', () => {
  it('reads the uid part of a USER value', () => {
    expect(numericUid('1101')).toBe(1101);
    expect(numericUid('1101:1101')).toBe(1101);
    expect(numericUid('0')).toBe(0);
    expect(numericUid('')).toBe(0);
  });
  it('returns null for a user name', () => {
    expect(numericUid('work')).toBeNull();
    expect(numericUid('work:grp')).toBeNull();
  });
});

describe('uidFromPasswd', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nwork:x:1101:1101::/home/work:/bin/sh\nother:x:1000:1000::/h:/bin/sh\n';
  it('finds the uid of a name', () => {
    expect(uidFromPasswd(passwd, 'work')).toBe(1101);
    expect(uidFromPasswd(passwd, 'other')).toBe(1000);
    expect(uidFromPasswd(passwd, 'nobody')).toBeNull();
  });
});
