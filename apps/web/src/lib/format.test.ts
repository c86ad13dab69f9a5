import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatSeconds } from './format';

describe('formatSeconds', () => {
  it.each([
    [0, '0.0s'],
    [0.42, '0.4s'],
    [45, '45.0s'],
    [59.99, '59.9s'],
    [60, '1m 00s'],
    [187, '3m 07s'],
    [3599, '59m 59s'],
    [3600, '1h 00m'],
    [7500, '2h 05m'],
    [86400, '1d 0h'],
    [3 * 86400 + 4 * 3600 + 59, '3d 4h'],
    [-5, '0.0s'],
  ])('%s s → %s', (seconds, expected) => {
    expect(formatSeconds(seconds)).toBe(expected);
  });
});

describe('formatDuration', () => {
  const start = '2025-11-28T10:00:00.000Z';

  it('is a dash for a job that has not started', () => {
    expect(formatDuration(null, null)).toBe('—');
  });

  it('measures a finished job from start to end', () => {
    expect(formatDuration(start, '2025-11-28T10:03:07.900Z')).toBe('3m 07s');
  });

  it('measures a running job up to now', () => {
    expect(formatDuration(start, null, new Date('2025-11-28T12:05:00Z'))).toBe('2h 05m');
  });

  it('shows a job shorter than a minute in seconds with a decimal, not 0s', () => {
    expect(formatDuration(start, '2025-11-28T10:00:00.700Z')).toBe('0.7s');
    expect(formatDuration(start, '2025-11-28T10:00:12.345Z')).toBe('12.3s');
  });

  it('never goes negative when clocks disagree', () => {
    expect(formatDuration(start, '2025-11-28T09:59:58Z')).toBe('0.0s');
  });

  it('is a dash for unparseable timestamps', () => {
    expect(formatDuration('not a date', null)).toBe('—');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [56, '56 B'],
    [12 * 1024 * 1024, '12 MiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('%s → %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });
});
