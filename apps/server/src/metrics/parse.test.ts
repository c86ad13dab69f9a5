import { describe, expect, it } from 'vitest';
import { checkMetricRegex, CreateTrainingJobRequest, MetricDefinitions } from '@tc/contracts';
import { compileDefinitions, parseJsonl, parseLine } from './parse.js';

const none = compileDefinitions([]);

describe('parseLine: default pairs', () => {
  it('reads name=value and name: value pairs, ints, floats and exponents', () => {
    expect(parseLine('loss=0.31 acc=0.88', none)).toEqual([
      { name: 'loss', value: 0.31, step: null },
      { name: 'acc', value: 0.88, step: null },
    ]);
    expect(parseLine('train loss: 1.5e-3, lr: 2E+2; n=7 top1=88%', none)).toEqual([
      { name: 'loss', value: 0.0015, step: null },
      { name: 'lr', value: 200, step: null },
      { name: 'n', value: 7, step: null },
      { name: 'top1', value: 88, step: null },
    ]);
    expect(parseLine('val/loss=-.5 {"acc": 0.9}', none)).toEqual([
      { name: 'val/loss', value: -0.5, step: null },
      { name: 'acc', value: 0.9, step: null },
    ]);
  });

  it('ignores nan, inf, non-numbers, times and words that only look like pairs', () => {
    expect(parseLine('loss=nan acc=inf x=1.2.3 at 12:30:45 mode=train url=http://a:80', none)).toEqual([]);
    expect(parseLine('Epoch 3/20 done', none)).toEqual([]);
    expect(parseLine('nothing here', none)).toEqual([]);
  });

  it('takes the step from epoch N/M, step N or iter N; a finer counter wins over the epoch', () => {
    expect(parseLine('epoch 3/20 loss=0.3', none)).toEqual([{ name: 'loss', value: 0.3, step: 3 }]);
    expect(parseLine('Epoch [4/20] step 120 loss: 0.2', none)).toEqual([{ name: 'loss', value: 0.2, step: 120 }]);
    expect(parseLine('iter 9 acc=1', none)).toEqual([{ name: 'acc', value: 1, step: 9 }]);
    expect(parseLine('step=12 loss=0.1', none)).toEqual([{ name: 'loss', value: 0.1, step: 12 }]);
  });
});

describe('parseLine: definitions', () => {
  it('reads defined metrics first; a defined name disables the default pair of that name', () => {
    const defs = compileDefinitions([
      { name: 'loss', regex: 'total_loss \\(([0-9.]+)\\)' },
      { name: 'err', regex: 'Train_error=(.*?);' },
    ]);
    expect(parseLine('epoch 2/5 total_loss (0.25) loss=9 Train_error=0.5; acc=0.7', defs)).toEqual([
      { name: 'loss', value: 0.25, step: 2 },
      { name: 'err', value: 0.5, step: 2 },
      // Another name than the definition's: the default pair stays.
      { name: 'Train_error', value: 0.5, step: 2 },
      { name: 'acc', value: 0.7, step: 2 },
    ]);
    // Defined but not on this line: the default pair of that name stays off.
    expect(parseLine('loss=9', defs)).toEqual([]);
    // A capture that is not a number is no value.
    expect(parseLine('Train_error=abc;', defs)).toEqual([]);
  });

  it('reads only the first 1,000 characters of a line', () => {
    const defs = compileDefinitions([{ name: 'late', regex: 'late=(\\d+)' }]);
    expect(parseLine(`${'x'.repeat(995)} late=1`, defs)).toEqual([]);
    expect(parseLine(`${'x'.repeat(900)} late=1`, defs)).toEqual([{ name: 'late', value: 1, step: null }]);
  });
});

describe('parseJsonl', () => {
  it('reads step, node, time and every other numeric field', () => {
    expect(parseJsonl('{"step": 3, "loss": 0.1, "acc": 0.9, "tag": "x", "node": 1, "time": "2026-01-01T00:00:00Z"}')).toEqual({
      values: [
        { name: 'loss', value: 0.1 },
        { name: 'acc', value: 0.9 },
      ],
      step: 3,
      node: 1,
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(parseJsonl('not json')).toBeNull();
    expect(parseJsonl('[1,2]')).toBeNull();
  });
});

describe('the regex guard (ReDoS)', () => {
  it('accepts ordinary metric patterns', () => {
    for (const ok of [
      'loss=([0-9.]+)',
      'Train_error=(.*?);',
      'loss: (\\S+)',
      'acc ([\\d.]+)%',
      'epoch=\\d{1,4} loss=(\\S+)',
      '(?:val|test)_acc=([\\d.]+)',
    ]) {
      expect(checkMetricRegex(ok), ok).toBeNull();
    }
  });

  it('refuses nested quantifiers, quantified alternations, backreferences and lookarounds', () => {
    const refused: [string, RegExp][] = [
      ['(a+)+$', /catastrophic/],
      ['((?:a*)*)', /catastrophic/],
      ['(x+x+)+y', /catastrophic/],
      ['((?:a|aa)+)', /catastrophic/],
      ['(\\w+\\s?)*$', /catastrophic/],
      ['(a{1,5}){2,}', /catastrophic/],
      ['(a)\\1', /backreferences/],
      ['(?<v>a)\\k<v>', /backreferences/],
      ['(?=a)(a)', /lookarounds/],
      ['(?<!a)(b)', /lookarounds/],
      ['.*a.*(b)', /at most one unbounded/],
      ['a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?(a)', /at most one unbounded/],
      ['(a', /not a valid regular expression/],
      ['loss=[0-9.]+', /exactly one capture group/],
      ['(a)(b)', /exactly one capture group/],
    ];
    for (const [src, why] of refused) expect(checkMetricRegex(src), src).toMatch(why);
  });

  it('the request schema names the field of a refused pattern', () => {
    const r = MetricDefinitions.safeParse([
      { name: 'ok', regex: 'ok=(\\d+)' },
      { name: 'bad', regex: '(a+)+' },
    ]);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['1.regex']);
    const req = CreateTrainingJobRequest.safeParse({ metrics: [{ name: 'bad', regex: '(a+)+' }] });
    expect(req.error!.issues.some((i) => i.path.join('.') === 'metrics.0.regex')).toBe(true);
  });

  it('a pattern the guard lets through stays fast on a hostile 1,000-character line', () => {
    const defs = compileDefinitions([{ name: 'm', regex: '.*a(b)' }]);
    const hostile = 'a'.repeat(2000);
    // The work is bounded by the cut line, not by a timer: this would not return if it were not.
    expect(parseLine(hostile, defs)).toEqual([]);
  });
});
