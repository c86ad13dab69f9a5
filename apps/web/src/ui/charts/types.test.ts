import { describe, expect, it } from 'vitest';
import { alignSeries } from './types';

describe('alignSeries', () => {
  it('puts every series on one sorted time axis, with gaps where a series has no point', () => {
    expect(
      alignSeries([
        {
          label: 'a',
          points: [
            { x: 30, y: 3 },
            { x: 10, y: 1 },
          ],
        },
        {
          label: 'b',
          points: [
            { x: 20, y: 2 },
            { x: 30, y: 4 },
          ],
        },
      ]),
    ).toEqual([
      [10, 20, 30],
      [1, null, 3],
      [null, 2, 4],
    ]);
    expect(alignSeries([])).toEqual([[]]);
  });
});
