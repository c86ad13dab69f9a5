import { describe, expect, it } from 'vitest';
import { formatVersion, parseVersion } from './version.js';

describe('job versions', () => {
  it('formats with three digits at least', () => {
    expect(formatVersion(1)).toBe('V001');
    expect(formatVersion(42)).toBe('V042');
    expect(formatVersion(999)).toBe('V999');
    expect(formatVersion(1000)).toBe('V1000');
  });
  it('refuses non-positive and fractional numbers', () => {
    expect(() => formatVersion(0)).toThrow(RangeError);
    expect(() => formatVersion(1.5)).toThrow(RangeError);
  });
  it('parses what it formats and nothing else', () => {
    for (const n of [1, 7, 99, 100, 1234]) expect(parseVersion(formatVersion(n))).toBe(n);
    for (const bad of ['V1', 'V01', 'v001', 'V000', '001', 'V001a', '']) expect(parseVersion(bad)).toBeNull();
  });
});
