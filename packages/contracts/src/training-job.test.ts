import { describe, expect, it } from 'vitest';
import { fieldErrorsFromZod } from './errors.js';
import {
  CreateTrainingJobRequest,
  ImagePath,
  isTerminal,
  JOB_STATUSES,
  JobDescription,
  JobName,
  JobParams,
  JobStatus,
  JobVersion,
  ListTrainingJobsQuery,
  TERMINAL_STATUSES,
  TRAIN_OUTPUT_INSIDE_DATA_MESSAGE,
  TrainingJob,
  TrainingJobList,
  type CreateTrainingJobInput,
} from './training-job.js';

/** PRODUCT.md's "Create" example, verbatim apart from the placeholders. */
const example = (): CreateTrainingJobInput => ({
  name: 'linreg-demo',
  description: 'optional',
  algorithm: {
    source: 'custom',
    imagePath: 'demo/linreg-train:1.0',
    codeDir: 'obs://demo/code/linreg/',
    bootCommand: 'sh /home/work/user-job-dir/linreg/train.sh',
  },
  data: { source: 'path', path: 'obs://demo/data/' },
  trainOutput: 'obs://demo/output/linreg/',
  env: [{ name: 'EPOCHS', value: '20' }],
  logPath: 'obs://demo/logs/',
  resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
  notification: { topic: 'topic-1', events: ['OnJobRunning', 'OnJobSucceeded', 'OnJobFailed'] },
  saveConfig: { name: 'linreg-params', description: 'optional' },
});

const minimal = () => ({
  name: 'linreg-demo',
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/', bootCommand: 'true' },
  data: { source: 'path', path: 'obs://demo/data/' },
  trainOutput: 'obs://demo/output/',
});

/** Field errors of a request built from `minimal()` with `patch` applied. */
function errorsOf(patch: Record<string, unknown>) {
  const r = CreateTrainingJobRequest.safeParse({ ...minimal(), ...patch });
  return r.success ? [] : fieldErrorsFromZod(r.error);
}
const pathsOf = (patch: Record<string, unknown>) => errorsOf(patch).map((e) => e.path);

describe('CreateTrainingJobRequest', () => {
  it('accepts the PRODUCT.md example and returns it unchanged', () => {
    const r = CreateTrainingJobRequest.safeParse(example());
    expect(r.error).toBeUndefined();
    expect(r.data).toEqual(example());
  });

  it('accepts the minimal body and adds no defaults (the server defaults env and resources)', () => {
    const r = CreateTrainingJobRequest.parse(minimal());
    expect(r).toEqual(minimal());
    expect(r.env).toBeUndefined();
    expect(r.resources).toBeUndefined();
  });

  it('drops unknown keys', () => {
    expect(CreateTrainingJobRequest.parse({ ...minimal(), extra: 1 })).not.toHaveProperty('extra');
  });

  it('names each missing required field', () => {
    const r = CreateTrainingJobRequest.safeParse({});
    const errors = fieldErrorsFromZod(r.error!);
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'name', message: 'Name is required' },
        { path: 'algorithm', message: 'Algorithm is required' },
        { path: 'data', message: 'Data Source is required' },
        { path: 'trainOutput', message: 'is required' },
      ]),
    );
  });

  it('refuses a body that is not an object', () => {
    expect(fieldErrorsFromZod(CreateTrainingJobRequest.safeParse('x').error!)).toEqual([
      { path: '', message: 'The request body must be an object' },
    ]);
  });

  describe('name', () => {
    it.each(['a', 'A', 'linreg-demo', 'job_2', 'a'.repeat(64)])('accepts %s', (name) => {
      expect(pathsOf({ name })).toEqual([]);
    });
    it.each([
      ['', 'Name is required'],
      ['9job', 'must start with a letter'],
      ['-job', 'must start with a letter'],
      ['_job', 'must start with a letter'],
      ['my job', 'only letters, digits'],
      ['my.job', 'only letters, digits'],
      ['jöb', 'only letters, digits'],
      ['a'.repeat(65), 'at most 64'],
    ])('refuses %j', (name, msg) => {
      const errors = errorsOf({ name });
      expect(errors).toHaveLength(1);
      expect(errors[0]?.path).toBe('name');
      expect(errors[0]?.message).toContain(msg);
    });
  });

  describe('description', () => {
    it('is optional, may be empty, and holds up to 256 characters', () => {
      expect(pathsOf({ description: undefined })).toEqual([]);
      expect(pathsOf({ description: '' })).toEqual([]);
      expect(pathsOf({ description: 'x'.repeat(256) })).toEqual([]);
      expect(errorsOf({ description: 'x'.repeat(257) })).toEqual([
        { path: 'description', message: 'Description must be at most 256 characters' },
      ]);
      expect(JobDescription.safeParse('x'.repeat(257)).success).toBe(false);
    });
  });

  describe('algorithm', () => {
    const algo = (patch: Record<string, unknown>) => ({ algorithm: { ...minimal().algorithm, ...patch } });

    it('only accepts source "custom"', () => {
      expect(errorsOf(algo({ source: 'builtin' }))).toEqual([{ path: 'algorithm.source', message: 'Algorithm Source must be "custom"' }]);
    });

    it('checks the code directory as an object path, either scheme', () => {
      expect(pathsOf(algo({ codeDir: 's3://demo/code' }))).toEqual([]);
      expect(pathsOf(algo({ codeDir: '/home/code' }))).toEqual(['algorithm.codeDir']);
    });

    it.each([' ', '\n\t', ''])('refuses a blank boot command %j', (bootCommand) => {
      expect(pathsOf(algo({ bootCommand }))).toEqual(['algorithm.bootCommand']);
    });

    it('limits the boot command to 4096 characters', () => {
      expect(pathsOf(algo({ bootCommand: 'x'.repeat(4096) }))).toEqual([]);
      expect(errorsOf(algo({ bootCommand: 'x'.repeat(4097) }))[0]?.message).toMatch(/4096/);
    });
  });

  describe('image path', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    it.each([
      'demo/linreg-train:1.0',
      'busybox',
      'busybox:latest',
      'library/ubuntu:22.04',
      'registry.example.com/org/name:tag',
      'registry.example.com:5000/org/sub/name:v1.2_rc-3',
      'localhost:5000/name',
      'swr.cn-north-4.myhuaweicloud.com/ns/img:V1',
      'a__b/c.d/e--f:1',
      `name@${digest}`,
      `name:tag@${digest}`,
      `host:443/a/b@${digest}`,
    ])('accepts %s', (imagePath) => {
      expect(ImagePath.safeParse(imagePath).success).toBe(true);
    });
    it.each([
      '',
      'Demo/Linreg:1',
      'demo/linreg:',
      'demo//linreg',
      '/demo',
      'demo/',
      'demo linreg',
      'demo/-linreg',
      'demo:tag:tag',
      'name:.tag',
      `name:${'t'.repeat(129)}`,
      'name@sha256:abc',
      'https://registry/x',
    ])('refuses %j', (imagePath) => {
      const r = ImagePath.safeParse(imagePath);
      expect(r.success).toBe(false);
      expect(r.error?.issues).toHaveLength(1);
    });
    it('explains the expected form', () => {
      expect(ImagePath.safeParse('Bad Image').error?.issues[0]?.message).toMatch(/image reference like .*name:tag/);
    });
    it('limits the length to 512', () => {
      expect(ImagePath.safeParse(`a/${'b'.repeat(511)}`).error?.issues[0]?.message).toMatch(/512/);
    });
  });

  describe('data source', () => {
    it('accepts a data path', () => {
      expect(pathsOf({ data: { source: 'path', path: 's3://demo/data' } })).toEqual([]);
    });
    it('accepts a dataset with a version', () => {
      expect(pathsOf({ data: { source: 'dataset', datasetId: 'ds-1', version: 'V002' } })).toEqual([]);
    });
    it('checks the fields of the chosen source only', () => {
      expect(pathsOf({ data: { source: 'dataset', datasetId: '', version: 'v1' } })).toEqual(['data.datasetId', 'data.version']);
      expect(pathsOf({ data: { source: 'path', datasetId: 'x' } })).toEqual(['data.path']);
      expect(pathsOf({ data: { source: 'path', path: 'obs://demo/../x/' } })).toEqual(['data.path']);
    });
    it('refuses an unknown source on the source field', () => {
      expect(errorsOf({ data: { source: 'url', path: 'obs://demo/' } })).toEqual([
        { path: 'data.source', message: 'Data Source must be "path" or "dataset"' },
      ]);
    });
  });

  describe('training output path', () => {
    it.each([
      ['the data path', 'obs://demo/data/'],
      ['the data path without trailing slash', 'obs://demo/data'],
      ['the data path in the other scheme', 's3://demo/data/'],
      ['inside the data path', 'obs://demo/data/out/'],
      ['deep inside the data path', 's3://demo/data/a/b/c'],
    ])('refuses %s, on trainOutput', (_, trainOutput) => {
      expect(errorsOf({ trainOutput })).toEqual([{ path: 'trainOutput', message: TRAIN_OUTPUT_INSIDE_DATA_MESSAGE }]);
    });

    it('refuses the whole bucket as data with output in it', () => {
      expect(pathsOf({ data: { source: 'path', path: 'obs://demo/' }, trainOutput: 'obs://demo/out/' })).toEqual(['trainOutput']);
    });

    it.each([
      ['beside the data path', 'obs://demo/output/'],
      ['a sibling with the same prefix', 'obs://demo/data2/'],
      ['the parent of the data path', 'obs://demo/'],
      ['another bucket', 'obs://other/data/'],
    ])('accepts %s', (_, trainOutput) => {
      expect(pathsOf({ trainOutput })).toEqual([]);
    });

    it('does not compare with a dataset source', () => {
      expect(pathsOf({ data: { source: 'dataset', datasetId: 'ds', version: 'V001' }, trainOutput: 'obs://demo/data/' })).toEqual([]);
    });

    it('is reported together with errors in other fields', () => {
      expect(pathsOf({ name: '', algorithm: undefined, trainOutput: 'obs://demo/data/x/' })).toEqual(['name', 'algorithm', 'trainOutput']);
    });

    it('refuses a non-object-storage output path with the path message only', () => {
      expect(errorsOf({ trainOutput: 'http://x/' })).toEqual([
        { path: 'trainOutput', message: 'must be an object-storage directory like obs://bucket/dir/' },
      ]);
    });
  });

  describe('environment variables', () => {
    it('accepts an empty list', () => {
      expect(pathsOf({ env: [] })).toEqual([]);
    });
    it('puts a reserved name on its row', () => {
      expect(
        errorsOf({
          env: [
            { name: 'EPOCHS', value: '1' },
            { name: 'BATCH_CUSTOM3_HOSTS', value: 'h:1' },
          ],
        }),
      ).toEqual([{ path: 'env.1.name', message: 'BATCH_CUSTOM3_HOSTS is set by the platform and cannot be overridden' }]);
    });
    it('puts a duplicate on the later row', () => {
      expect(
        errorsOf({
          env: [
            { name: 'EPOCHS', value: '1' },
            { name: 'EPOCHS', value: '2' },
          ],
        }),
      ).toEqual([{ path: 'env.1.name', message: 'EPOCHS is already defined in row 1' }]);
    });
    it('checks name syntax', () => {
      expect(pathsOf({ env: [{ name: '2X', value: '' }] })).toEqual(['env.0.name']);
    });
  });

  it('checks the optional log path as an object path', () => {
    expect(pathsOf({ logPath: 's3://demo/logs' })).toEqual([]);
    expect(pathsOf({ logPath: '' })).toEqual(['logPath']);
  });

  describe('resources', () => {
    const res = (patch: Record<string, unknown>) => ({ resources: { type: 'CPU', flavor: 'cpu.1u2g', nodes: 1, ...patch } });
    it('may omit the pool or leave it empty (the public pool)', () => {
      expect(pathsOf(res({}))).toEqual([]);
      expect(pathsOf(res({ pool: '' }))).toEqual([]);
      expect(pathsOf(res({ pool: 'public' }))).toEqual([]);
    });
    it.each([1, 2, 16])('accepts %i nodes', (nodes) => {
      expect(pathsOf(res({ nodes }))).toEqual([]);
    });
    it.each([
      [0, 'at least 1'],
      [17, 'at most 16'],
      [1.5, 'whole number'],
      ['2', 'whole number'],
    ])('refuses %j nodes', (nodes, msg) => {
      const errors = errorsOf(res({ nodes }));
      expect(errors.map((e) => e.path)).toEqual(['resources.nodes']);
      expect(errors[0]?.message).toContain(msg);
    });
    it('only knows CPU and GPU', () => {
      expect(errorsOf(res({ type: 'TPU' }))).toEqual([{ path: 'resources.type', message: 'Type must be CPU or GPU' }]);
    });
    it('requires a flavor', () => {
      expect(errorsOf(res({ flavor: '' }))).toEqual([{ path: 'resources.flavor', message: 'Specifications is required' }]);
    });
  });

  describe('max runtime', () => {
    it.each([1, 60, 4320])('accepts %i minutes', (maxRuntimeMinutes) => {
      expect(pathsOf({ maxRuntimeMinutes })).toEqual([]);
    });
    it.each([0, -1, 4321, 1.5, Number.NaN])('refuses %d minutes', (maxRuntimeMinutes) => {
      expect(pathsOf({ maxRuntimeMinutes })).toEqual(['maxRuntimeMinutes']);
    });
  });

  describe('notification', () => {
    it('accepts a topic with events', () => {
      expect(pathsOf({ notification: { topic: 't', events: ['OnJobFailed'] } })).toEqual([]);
    });
    it('requires at least one event when a topic is set', () => {
      expect(errorsOf({ notification: { topic: 't', events: [] } })).toEqual([
        { path: 'notification.events', message: 'choose at least one event to notify' },
      ]);
    });
    it('treats an empty topic as no notification', () => {
      expect(pathsOf({ notification: { topic: '', events: [] } })).toEqual([]);
    });
    it('refuses unknown and repeated events', () => {
      expect(pathsOf({ notification: { topic: 't', events: ['OnJobStarted'] } })).toEqual(['notification.events.0']);
      expect(pathsOf({ notification: { topic: 't', events: ['OnJobFailed', 'OnJobFailed'] } })).toEqual(['notification.events']);
    });
  });

  describe('saving training parameters', () => {
    it('follows the job-name rules for its name', () => {
      expect(pathsOf({ saveConfig: { name: 'params_1' } })).toEqual([]);
      expect(errorsOf({ saveConfig: { name: '1params' } })[0]).toMatchObject({
        path: 'saveConfig.name',
        message: expect.stringMatching(/^Configuration name /),
      });
      expect(pathsOf({ saveConfig: { name: '' } })).toEqual(['saveConfig.name']);
      expect(pathsOf({ saveConfig: { name: 'p', description: 'x'.repeat(257) } })).toEqual(['saveConfig.description']);
    });
  });
});

describe('JobVersion', () => {
  it.each(['V001', 'V010', 'V999', 'V1000'])('accepts %s', (v) => {
    expect(JobVersion.safeParse(v).success).toBe(true);
  });
  it.each(['v001', 'V01', 'V1', '001', 'V001 ', 'VABC', ''])('refuses %j', (v) => {
    expect(JobVersion.safeParse(v).error?.issues[0]?.message).toBe('Version must look like V001');
  });
});

describe('job statuses', () => {
  it('lists the primary states in order', () => {
    expect(JOB_STATUSES).toEqual(['Initializing', 'Queuing', 'Running', 'Successful', 'Running failed', 'Stopping', 'Stopped']);
    expect(JobStatus.safeParse('Nope').success).toBe(false);
  });
  it('knows which are terminal', () => {
    expect(JOB_STATUSES.filter(isTerminal)).toEqual([...TERMINAL_STATUSES]);
    expect(TERMINAL_STATUSES).toEqual(['Successful', 'Running failed', 'Stopped']);
  });
});

describe('JobName', () => {
  it('is the same rule the request uses', () => {
    expect(JobName.safeParse('ok-name').success).toBe(true);
    expect(JobName.safeParse('no way').success).toBe(false);
  });
});

describe('ListTrainingJobsQuery', () => {
  it('defaults page and pageSize', () => {
    expect(ListTrainingJobsQuery.parse({})).toEqual({ page: 1, pageSize: 20 });
  });
  it('coerces query-string numbers', () => {
    expect(ListTrainingJobsQuery.parse({ page: '3', pageSize: '100', name: 'lin', status: 'Running failed' })).toEqual({
      page: 3,
      pageSize: 100,
      name: 'lin',
      status: 'Running failed',
    });
  });
  it.each([
    [{ page: '0' }, 'page'],
    [{ page: '1.5' }, 'page'],
    [{ page: 'x' }, 'page'],
    [{ pageSize: '0' }, 'pageSize'],
    [{ pageSize: '101' }, 'pageSize'],
    [{ status: 'Nope' }, 'status'],
    [{ latest: '1' }, 'latest'],
  ])('refuses %j on %s', (q, path) => {
    expect(fieldErrorsFromZod(ListTrainingJobsQuery.safeParse(q).error!).map((e) => e.path)).toEqual([path]);
  });
  it('takes the name as a free substring', () => {
    expect(ListTrainingJobsQuery.safeParse({ name: 'lin reg%' }).success).toBe(true);
  });
  it('reads latest as the words true and false (a coerced "false" would be true)', () => {
    expect(ListTrainingJobsQuery.parse({ latest: 'true' }).latest).toBe('true');
    expect(ListTrainingJobsQuery.parse({ latest: 'false' }).latest).toBe('false');
    expect(ListTrainingJobsQuery.parse({}).latest).toBeUndefined();
  });
});

describe('JobParams', () => {
  it('checks name and version', () => {
    expect(JobParams.safeParse({ name: 'linreg-demo', version: 'V001' }).success).toBe(true);
    expect(fieldErrorsFromZod(JobParams.safeParse({ name: '9x', version: 'latest' }).error!).map((e) => e.path)).toEqual([
      'name',
      'version',
    ]);
  });
});

describe('TrainingJob', () => {
  const job = {
    id: '1',
    name: 'linreg-demo',
    version: 'V001',
    status: 'Running failed',
    reason: 'image check: default user is UID 0, not 1101',
    queuePosition: null,
    spec: { ...example(), resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 }, env: [] },
    createdAt: '2025-01-01T10:00:00.000Z',
    startedAt: null,
    endedAt: '2025-01-01T10:00:05.123Z',
    nodes: [{ index: 0, hostname: 'linreg-demo-v001-0', state: 'exited', exitCode: null }],
    events: [{ at: '2025-01-01T10:00:00.000Z', type: 'created', message: 'job created' }],
  };
  it('accepts a job as the server writes it', () => {
    expect(TrainingJob.safeParse(job).error).toBeUndefined();
  });
  it('keeps a stored spec readable even if it would now fail the cross-field rule', () => {
    const spec = { ...job.spec, trainOutput: 'obs://demo/data/out/' };
    expect(TrainingJob.safeParse({ ...job, spec }).success).toBe(true);
  });
  it('wants ISO timestamps', () => {
    expect(TrainingJob.safeParse({ ...job, createdAt: '2025-01-01 10:00:00' }).success).toBe(false);
    expect(TrainingJob.safeParse({ ...job, createdAt: '2025-01-01T10:00:00+08:00' }).success).toBe(true);
  });
  it('lists summaries with a total', () => {
    const item = {
      name: 'a',
      version: 'V002',
      status: 'Running',
      reason: null,
      queuePosition: null,
      flavor: 'cpu.1u2g',
      nodes: 1,
      createdAt: job.createdAt,
      startedAt: job.createdAt,
      endedAt: null,
    };
    expect(TrainingJobList.safeParse({ items: [item], total: 1 }).success).toBe(true);
    expect(TrainingJobList.safeParse({ items: [{ ...item, status: 'Queuing', queuePosition: 2 }], total: 1 }).success).toBe(true);
    expect(TrainingJobList.safeParse({ items: [{ ...item, queuePosition: 0 }], total: 1 }).success).toBe(false);
  });
});

describe('retry policy', () => {
  it('accepts 0 to 3 retries, with or without classes', () => {
    expect(errorsOf({ retry: { maxAttempts: 0 } })).toEqual([]);
    expect(errorsOf({ retry: { maxAttempts: 3, on: ['platform', 'user', 'resources', 'max-runtime'] } })).toEqual([]);
  });
  it('refuses a count outside 0–3 on maxAttempts', () => {
    expect(errorsOf({ retry: { maxAttempts: 4 } })).toEqual([{ path: 'retry.maxAttempts', message: 'Automatic Retry must be at most 3' }]);
    expect(errorsOf({ retry: { maxAttempts: -1 } })).toEqual([
      { path: 'retry.maxAttempts', message: 'Automatic Retry must be at least 0' },
    ]);
    expect(pathsOf({ retry: { maxAttempts: 1.5 } })).toEqual(['retry.maxAttempts']);
    expect(pathsOf({ retry: {} })).toEqual(['retry.maxAttempts']);
  });
  it('refuses classes outside the failure classes, a stop, and repeats', () => {
    expect(pathsOf({ retry: { maxAttempts: 1, on: ['network'] } })).toEqual(['retry.on.0']);
    expect(errorsOf({ retry: { maxAttempts: 1, on: ['stopped'] } })[0]!.message).toMatch(/stopped run is never retried/);
    expect(errorsOf({ retry: { maxAttempts: 1, on: ['user', 'user'] } })).toEqual([
      { path: 'retry.on', message: 'each retry class may be chosen once' },
    ]);
  });
  it('names the section when it is not an object', () => {
    expect(errorsOf({ retry: 2 })).toEqual([{ path: 'retry', message: 'Automatic Retry must be an object' }]);
  });
});

describe('checkpoint path', () => {
  it('accepts an object path outside the data path', () => {
    expect(errorsOf({ checkpointPath: 'obs://demo/ckpt/' })).toEqual([]);
  });
  it('refuses one that is not an object path, on the field', () => {
    expect(pathsOf({ checkpointPath: '/home/work/checkpoints' })).toEqual(['checkpointPath']);
  });
  it('refuses the data path itself or a folder inside it, on the field', () => {
    for (const checkpointPath of ['obs://demo/data/', 's3://demo/data/ckpt/']) {
      expect(errorsOf({ checkpointPath })).toEqual([
        { path: 'checkpointPath', message: 'Checkpoint Path must not be the data path or inside it' },
      ]);
    }
  });
  it('is not checked against a dataset source', () => {
    expect(errorsOf({ checkpointPath: 'obs://demo/data/ckpt/', data: { source: 'dataset', datasetId: 'd', version: 'V001' } })).toEqual([]);
  });
});
