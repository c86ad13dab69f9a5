import { describe, expect, it } from 'vitest';
import { CreateTrainingJobRequest } from '@tc/contracts';
import { stepOfPath } from './form';
import { EMPTY_VALUES, type WizardValues } from './values';
import { toRequest } from './toRequest';

const filled: WizardValues = {
  ...EMPTY_VALUES,
  name: 'linreg-demo',
  description: 'demo',
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'sh train.sh' },
  data: { source: 'path', path: 'obs://demo/data/', datasetId: 'left-over', version: 'V009' },
  trainOutput: 'obs://demo/output/',
  env: [{ name: 'EPOCHS', value: '20' }],
  logPath: 'obs://demo/logs/',
  resources: { pool: 'public', type: 'CPU', flavor: 'cpu.2u8g', nodes: 2 },
};

describe('toRequest', () => {
  it('maps a filled form to the request the API documents, which the contract accepts', () => {
    const req = toRequest(filled);
    expect(req).toEqual({
      name: 'linreg-demo',
      description: 'demo',
      algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'sh train.sh' },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: 'obs://demo/output/',
      env: [{ name: 'EPOCHS', value: '20' }],
      logPath: 'obs://demo/logs/',
      resources: { pool: 'public', type: 'CPU', flavor: 'cpu.2u8g', nodes: 2 },
    });
    expect(CreateTrainingJobRequest.safeParse(req).success).toBe(true);
  });

  it('marks secret variables, and only them', () => {
    const req = toRequest({
      ...filled,
      env: [
        { name: 'API_TOKEN', value: 't0k', secret: true },
        { name: 'EPOCHS', value: '20', secret: false },
      ],
    });
    expect(req.env).toEqual([
      { name: 'API_TOKEN', value: 't0k', secret: true },
      { name: 'EPOCHS', value: '20' },
    ]);
    expect(CreateTrainingJobRequest.safeParse(req).success).toBe(true);
  });

  it('sends a retry policy only when retries are asked for, and finds its errors on step 3', () => {
    expect(toRequest(filled).retry).toBeUndefined();
    const req = toRequest({ ...filled, retry: { maxAttempts: 2, on: ['platform', 'user'] } });
    expect(req.retry).toEqual({ maxAttempts: 2, on: ['platform', 'user'] });
    expect(CreateTrainingJobRequest.safeParse(req).success).toBe(true);
    expect(stepOfPath('retry.maxAttempts')).toBe(2);
  });

  it('sends only the chosen data source', () => {
    const req = toRequest({ ...filled, data: { source: 'dataset', path: 'obs://demo/data/', datasetId: 'mnist', version: 'V002' } });
    expect(req.data).toEqual({ source: 'dataset', datasetId: 'mnist', version: 'V002' });
  });

  it('leaves empty optional texts out instead of sending ""', () => {
    const req = toRequest({ ...filled, description: '  ', logPath: '' });
    expect(req.logPath).toBeUndefined();
    expect(req.description).toBeUndefined();
  });

  it('keeps empty required fields empty, so the schema names them', () => {
    const result = CreateTrainingJobRequest.safeParse(toRequest(EMPTY_VALUES));
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'name',
        'algorithm.imagePath',
        'algorithm.codeDir',
        'algorithm.bootCommand',
        'data.path',
        'trainOutput',
        'resources.flavor',
      ]),
    );
  });

  it('reports an empty Compute Nodes as a number problem on resources.nodes', () => {
    const result = CreateTrainingJobRequest.safeParse(toRequest({ ...filled, resources: { ...filled.resources, nodes: '' } }));
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['resources.nodes']);
  });

  it('adds notification only with a topic, and saving only when switched on', () => {
    expect(toRequest(filled).notification).toBeUndefined();
    expect(toRequest(filled).saveConfig).toBeUndefined();
    const req = toRequest({
      ...filled,
      notification: { topic: 'ops', events: ['OnJobFailed'] },
      saveConfig: { enabled: true, name: 'linreg-params', description: '' },
    });
    expect(req.notification).toEqual({ topic: 'ops', events: ['OnJobFailed'] });
    expect(req.saveConfig).toEqual({ name: 'linreg-params', description: undefined });
  });

  it('sends a max runtime only when one is set', () => {
    expect(toRequest(filled).maxRuntimeMinutes).toBeUndefined();
    expect(toRequest({ ...filled, maxRuntimeMinutes: 90 }).maxRuntimeMinutes).toBe(90);
  });
});

describe('stepOfPath', () => {
  it.each([
    ['name', 0],
    ['description', 0],
    ['algorithm.codeDir', 1],
    ['data.path', 1],
    ['env.0.name', 1],
    ['trainOutput', 1],
    ['resources.flavor', 2],
    ['notification.events', 3],
    ['saveConfig.name', 3],
    ['', 0],
  ])('%s is on step %i', (path, step) => {
    expect(stepOfPath(path)).toBe(step);
  });
});
