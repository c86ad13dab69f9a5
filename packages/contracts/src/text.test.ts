import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fieldErrorsFromZod } from './errors.js';
import { CreateApiTokenRequest, CreateUserRequest } from './account.js';
import { CreateDatasetRequest } from './dataset.js';
import { MAX_ENV_VARS } from './env.js';
import { AddSubscriptionRequest, CreateNotificationTopicRequest, UpdateNotificationTopicRequest } from './notification-topic.js';
import { CreateFolderRequest } from './storage.js';
import { textProblem } from './text.js';
import { CreateJobFromConfigRequest, CreateTrainingJobConfigRequest, UpdateTrainingJobConfigRequest } from './training-job-config.js';
import { CreateTrainingJobRequest, type CreateTrainingJobInput } from './training-job.js';

const job = (): CreateTrainingJobInput => ({
  name: 'linreg-demo',
  description: 'twenty epochs',
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'sh train.sh' },
  data: { source: 'path', path: 'obs://demo/data/' },
  trainOutput: 'obs://demo/output/linreg/',
  env: [{ name: 'EPOCHS', value: '20' }],
  logPath: 'obs://demo/logs/',
  resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
  notification: { topic: 'topic-1', events: ['OnJobRunning'] },
  saveConfig: { name: 'linreg-params', description: 'saved' },
});
const { name: _name, saveConfig: _save, ...parameters } = job();

/** Sets `path` (dot-separated) in a copy of `body`. */
function withField(body: unknown, path: string, value: string): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys.at(-1)!] = value;
  return copy;
}

/** Every text field of every request that stores text: [schema, valid body, field, a valid value to spoil]. */
const FIELDS: [string, z.ZodType, unknown, string, string][] = [
  ['job', CreateTrainingJobRequest, job(), 'name', 'linreg'],
  ['job', CreateTrainingJobRequest, job(), 'description', 'twenty epochs'],
  ['job', CreateTrainingJobRequest, job(), 'algorithm.imagePath', 'demo/linreg-train:1.0'],
  ['job', CreateTrainingJobRequest, job(), 'algorithm.codeDir', 'obs://demo/code/linreg/'],
  ['job', CreateTrainingJobRequest, job(), 'algorithm.bootCommand', 'sh train.sh'],
  ['job', CreateTrainingJobRequest, job(), 'data.path', 'obs://demo/data/'],
  ['job', CreateTrainingJobRequest, job(), 'trainOutput', 'obs://demo/output/linreg/'],
  ['job', CreateTrainingJobRequest, job(), 'logPath', 'obs://demo/logs/'],
  ['job', CreateTrainingJobRequest, job(), 'resources.pool', 'public'],
  ['job', CreateTrainingJobRequest, job(), 'resources.flavor', 'cpu.1u2g'],
  ['job', CreateTrainingJobRequest, job(), 'notification.topic', 'topic-1'],
  ['job', CreateTrainingJobRequest, job(), 'saveConfig.name', 'linreg-params'],
  ['job', CreateTrainingJobRequest, job(), 'saveConfig.description', 'saved'],
  [
    'job on a dataset',
    CreateTrainingJobRequest,
    { ...job(), data: { source: 'dataset', datasetId: 'mnist', version: 'V001' } },
    'data.datasetId',
    'mnist',
  ],
  ['parameter set', CreateTrainingJobConfigRequest, { name: 'p', description: 'd', parameters }, 'name', 'params'],
  ['parameter set', CreateTrainingJobConfigRequest, { name: 'p', description: 'd', parameters }, 'description', 'd'],
  ['parameter set', CreateTrainingJobConfigRequest, { name: 'p', description: 'd', parameters }, 'parameters.trainOutput', 'obs://demo/o/'],
  ['parameter set edit', UpdateTrainingJobConfigRequest, { description: 'd', parameters }, 'description', 'd'],
  ['job from a set', CreateJobFromConfigRequest, { jobName: 'j', description: 'd' }, 'jobName', 'job'],
  ['job from a set', CreateJobFromConfigRequest, { jobName: 'j', description: 'd' }, 'description', 'd'],
  ['topic', CreateNotificationTopicRequest, { name: 't', description: 'd', subscriptions: [] }, 'name', 'ops'],
  ['topic', CreateNotificationTopicRequest, { name: 't', description: 'd', subscriptions: [] }, 'description', 'd'],
  ['topic edit', UpdateNotificationTopicRequest, { description: 'd' }, 'description', 'd'],
  ['subscription', AddSubscriptionRequest, { url: 'https://hooks.example.com/x' }, 'url', 'https://hooks.example.com/x'],
  ['dataset', CreateDatasetRequest, { name: 'd', description: 'd', path: 'obs://demo/data/' }, 'name', 'mnist'],
  ['dataset', CreateDatasetRequest, { name: 'd', description: 'd', path: 'obs://demo/data/' }, 'description', 'd'],
  ['dataset', CreateDatasetRequest, { name: 'd', description: 'd', path: 'obs://demo/data/' }, 'path', 'obs://demo/data/'],
  ['user', CreateUserRequest, { username: 'alice', password: 'at-least-10-chars' }, 'username', 'alice'],
  ['token', CreateApiTokenRequest, { name: 'ci' }, 'name', 'ci'],
  ['folder', CreateFolderRequest, { prefix: 'a/b/' }, 'prefix', 'a/b/'],
];

/** Spoils a value in the middle, so URLs and paths keep their shape around it. */
const spoil = (value: string, bad: string) => `${value.slice(0, -1)}${bad}${value.slice(-1)}`;

const BAD = {
  NUL: '\u0000',
  'a control character (ESC)': '\u001b',
  'a newline': '\n',
  'a right-to-left override': '\u202e',
  'a left-to-right isolate': '\u2066',
  'a pop directional isolate': '\u2069',
  'U+FFFD': '\ufffd',
  'a lone surrogate': '\ud800',
};

describe('names, descriptions and paths refuse what is not plain text', () => {
  for (const [what, schema, body, field, value] of FIELDS) {
    it(`${what} ${field}: the valid value passes`, () => {
      expect(schema.safeParse(withField(body, field, value)).error?.issues).toBeUndefined();
    });
    for (const [name, bad] of Object.entries(BAD)) {
      const multiline = /description|bootCommand/.test(field);
      if (multiline && name === 'a newline') continue;
      it(`${what} ${field}: ${name} is refused, naming the field once`, () => {
        const res = schema.safeParse(withField(body, field, spoil(value, bad)));
        expect(res.success).toBe(false);
        const fields = fieldErrorsFromZod(res.error!);
        expect(fields.map((f) => f.path)).toEqual([field]);
      });
    }
  }

  it('descriptions and boot commands keep tab and newline, and say why the rest is refused', () => {
    const body = withField(job(), 'description', 'line one\n\tline two');
    expect(CreateTrainingJobRequest.safeParse(withField(body, 'algorithm.bootCommand', 'set -e\n\tsh train.sh')).success).toBe(true);
    const rlo = CreateTrainingJobRequest.safeParse(withField(job(), 'description', 'safe\u202eexe.txt'));
    expect(fieldErrorsFromZod(rlo.error!)).toEqual([
      { path: 'description', message: 'Description must not contain bidirectional override characters (U+202A–U+202E, U+2066–U+2069)' },
    ]);
    const nul = CreateTrainingJobRequest.safeParse(withField(job(), 'algorithm.bootCommand', 'sh a\u0000b'));
    expect(fieldErrorsFromZod(nul.error!)[0]!.message).toBe('Boot Command must not contain NUL characters');
  });

  it('names what each problem is', () => {
    expect(textProblem('ok text, ünïcode and 日本語 and 🙂')).toBeNull();
    expect(textProblem('a\rb')).toMatch(/control characters/);
    expect(textProblem('a\rb', { multiline: true })).toMatch(/other than tab and newline/);
    expect(textProblem('a\u007fb')).toMatch(/control characters/);
    expect(textProblem('\ufffd')).toMatch(/not valid UTF-8/);
    expect(textProblem('\udc00x')).toMatch(/surrogates/);
  });
});

describe('environment variables', () => {
  const env = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `V${i}`, value: String(i) }));

  it(`allows ${MAX_ENV_VARS} per job and refuses one more, naming env`, () => {
    expect(CreateTrainingJobRequest.safeParse({ ...job(), env: env(MAX_ENV_VARS) }).success).toBe(true);
    const over = CreateTrainingJobRequest.safeParse({ ...job(), env: env(MAX_ENV_VARS + 1) });
    expect(fieldErrorsFromZod(over.error!)).toEqual([{ path: 'env', message: 'at most 100 environment variables per job' }]);
    const set = CreateTrainingJobConfigRequest.safeParse({ name: 'p', parameters: { ...parameters, env: env(MAX_ENV_VARS + 1) } });
    expect(fieldErrorsFromZod(set.error!)).toEqual([{ path: 'parameters.env', message: 'at most 100 environment variables per job' }]);
  });
});
