import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { IdleDeadline } from './idle-deadline.js';

describe('IdleDeadline', () => {
  it('fires once nothing moved for its time, and not while things move', () => {
    vi.useFakeTimers();
    try {
      const fired = vi.fn();
      const d = new IdleDeadline(1000, fired);
      for (let i = 0; i < 10; i++) {
        vi.advanceTimersByTime(900);
        d.touch();
      }
      expect(fired).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1000);
      expect(fired).toHaveBeenCalledTimes(1);
      expect(d.expired).toBe(true);
      d.touch();
      vi.advanceTimersByTime(5000);
      expect(fired).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('passes a stream through and carries its failure to the reader', async () => {
    const d = new IdleDeadline(60_000, () => undefined);
    const ok = d.watch(Readable.from([Buffer.from('a'), Buffer.from('b')]));
    const got: Buffer[] = [];
    for await (const c of ok) got.push(c as Buffer);
    expect(Buffer.concat(got).toString()).toBe('ab');

    const failing = new Readable({ read() {} });
    const watched = d.watch(failing);
    const reading = (async () => {
      for await (const _ of watched) void _;
    })();
    failing.destroy(new Error('source broke'));
    await expect(reading).rejects.toThrow('source broke');
    d.clear();
  });
});
