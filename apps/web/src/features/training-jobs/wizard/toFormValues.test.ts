import { describe, expect, it } from 'vitest';
import type { TrainingJobParameters, TrainingJobSpec } from '@tc/contracts';
import { EMPTY_VALUES } from './values';
import { toFormValues } from './toFormValues';
import { toRequest } from './toRequest';

const spec: TrainingJobSpec = {
  name: 'linreg-demo',
  description: 'demo',
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'sh train.sh' },
  data: { source: 'path', path: 'obs://demo/data/' },
  trainOutput: 'obs://demo/output/',
  env: [{ name: 'EPOCHS', value: '20' }],
  logPath: 'obs://demo/logs/',
  checkpointPath: 'obs://demo/ckpt/',
  resources: { pool: 'public', type: 'CPU', flavor: 'cpu.2u8g', nodes: 1 },
  maxRuntimeMinutes: 30,
  retry: { maxAttempts: 1, on: ['platform', 'resources'] },
  notification: { topic: 'ops', events: ['OnJobSucceeded', 'OnJobFailed'] },
  saveConfig: { name: 'linreg-params' },
};

describe('toFormValues', () => {
  it('prefills a new version from a job: same name, every parameter, and back to the same request', () => {
    const values = toFormValues(spec, spec.name);
    expect(values.name).toBe('linreg-demo');
    expect(values.data).toEqual({ source: 'path', path: 'obs://demo/data/', datasetId: '', version: '' });
    expect(values.maxRuntimeMinutes).toBe(30);
    // Saving parameters is a choice per submit, never carried over.
    expect(values.saveConfig.enabled).toBe(false);
    const { saveConfig: _saved, ...rest } = spec;
    expect(toRequest(values)).toEqual(rest);
  });

  it('takes a saved parameter set, which has no name', () => {
    const { name: _name, saveConfig: _save, ...parameters } = spec;
    const values = toFormValues(parameters as TrainingJobParameters);
    expect(values.name).toBe('');
    expect(values.algorithm.imagePath).toBe('demo/linreg-train:1.0');
  });

  it('keeps a dataset source, and fills what a spec leaves out with the form defaults', () => {
    const values = toFormValues({
      name: 'x',
      algorithm: spec.algorithm,
      data: { source: 'dataset', datasetId: 'mnist', version: 'V003' },
      trainOutput: 'obs://demo/out/',
    });
    expect(values.data).toEqual({ source: 'dataset', path: '', datasetId: 'mnist', version: 'V003' });
    expect(values.env).toEqual([]);
    expect(values.logPath).toBe('');
    expect(values.resources).toEqual(EMPTY_VALUES.resources);
    expect(values.notification).toEqual({ topic: '', events: [] });
    expect(values.maxRuntimeMinutes).toBe('');
  });

  it('copies arrays, so editing the form never changes the cached job', () => {
    const values = toFormValues(spec, spec.name);
    values.env[0]!.value = '99';
    values.notification.events.pop();
    expect(spec.env?.[0]?.value).toBe('20');
    expect(spec.notification?.events).toHaveLength(2);
  });
});
