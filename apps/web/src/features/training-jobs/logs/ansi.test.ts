import { describe, expect, it } from 'vitest';
import { stripAnsi, toSegments } from './ansi';

describe('toSegments', () => {
  it('keeps plain text as one segment', () => {
    expect(toSegments('epoch 3 loss=0.12')).toEqual([{ text: 'epoch 3 loss=0.12' }]);
  });

  it('turns SGR colours and bold into inline styles', () => {
    const segs = toSegments('\u001b[31mERROR\u001b[0m plain \u001b[1;32mok\u001b[0m');
    expect(segs.map((s) => s.text)).toEqual(['ERROR', ' plain ', 'ok']);
    expect(segs[0]?.style?.color).toMatch(/^rgb\(/);
    expect(segs[1]?.style).toBeUndefined();
    expect(segs[2]?.style).toMatchObject({ fontWeight: 700 });
    expect(segs[2]?.style?.color).toMatch(/^rgb\(/);
  });

  it('drops control sequences that are not colours', () => {
    expect(
      toSegments('\u001b[2Kprogress 50%')
        .map((s) => s.text)
        .join(''),
    ).toBe('progress 50%');
  });
});

describe('stripAnsi', () => {
  it('leaves only the text', () => {
    expect(stripAnsi('\u001b[1;31mfailed\u001b[0m: x')).toBe('failed: x');
  });
});
