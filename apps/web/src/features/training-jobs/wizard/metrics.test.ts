import { describe, expect, it } from 'vitest';
import { CreateTrainingJobRequest } from '@tc/contracts';
import { toFormValues } from './toFormValues';
import { toRequest } from './toRequest';
import { EMPTY_VALUES, type WizardValues } from './values';

const base: WizardValues = {
  ...EMPTY_VALUES,
  name: 'm',
  algorithm: { source: 'custom', imagePath: 'demo/x:1', codeDir: 'obs://jobs/code/', bootCommand: 'true' },
  data: { source: 'path', path: 'obs://jobs/data/', datasetId: '', version: '' },
  trainOutput: 'obs://jobs/out/',
  resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
};

describe('the wizard’s Metrics field', () => {
  it('sends no metrics when none are defined, and the rows (names trimmed) otherwise', () => {
    expect(toRequest(base).metrics).toBeUndefined();
    const req = toRequest({ ...base, metrics: [{ name: ' loss ', regex: 'loss=([0-9.]+)' }] });
    expect(req.metrics).toEqual([{ name: 'loss', regex: 'loss=([0-9.]+)' }]);
    expect(CreateTrainingJobRequest.safeParse(req).success).toBe(true);
  });

  it('names the row of a refused pattern, as the form shows it', () => {
    const r = CreateTrainingJobRequest.safeParse(toRequest({ ...base, metrics: [{ name: 'bad', regex: '(a+)+' }] }));
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['metrics.0.regex']);
  });

  it('comes back from a job’s spec for a new version', () => {
    const spec = CreateTrainingJobRequest.parse(toRequest({ ...base, metrics: [{ name: 'acc', regex: 'acc (\\S+)' }] }));
    expect(toFormValues(spec, 'm').metrics).toEqual([{ name: 'acc', regex: 'acc (\\S+)' }]);
  });
});
