import { describe, expect, it } from 'vitest';
import { quoteStderr } from './failure-reason.js';

describe('quoteStderr', () => {
  it('quotes the last three lines, in order', () => {
    expect(quoteStderr(['a', 'b', 'Traceback (most recent call last):', '  File "train.py"', 'ValueError: bad shape'], [])).toBe(
      '"Traceback (most recent call last):" / "File \\"train.py\\"" / "ValueError: bad shape"',
    );
  });

  it('masks every secret value, the longer first', () => {
    expect(quoteStderr(['token=s3cr3t-long and s3cr3t'], ['s3cr3t', 's3cr3t-long', ''])).toBe('"token=•••• and ••••"');
  });

  it('stays bounded whatever the lines, keeping the last one', () => {
    const quote = quoteStderr(['x'.repeat(10_000), 'y'.repeat(10_000), 'the error'], []);
    expect(quote.length).toBeLessThan(420);
    expect(quote.endsWith('"the error"')).toBe(true);
    expect(quote).toContain('…');
  });

  it('is empty when nothing was written to stderr', () => {
    expect(quoteStderr([], ['x'])).toBe('');
    expect(quoteStderr(['   '], [])).toBe('');
  });
});
