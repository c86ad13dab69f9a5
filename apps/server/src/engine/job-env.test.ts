import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest } from '@tc/contracts';
import { nodeEnvironment, nodeHostnames } from './job-env.js';

const spec = {
  name: 'My_Job',
  algorithm: { source: 'custom', imagePath: 'img:1', codeDir: 'obs://b/code/', bootCommand: 'true' },
  data: { source: 'path', path: 'obs://b/data/' },
  trainOutput: 'obs://b/out/',
  env: [
    { name: 'EPOCHS', value: '5' },
    { name: 'RANK', value: 'user-tried' },
  ],
} as CreateTrainingJobRequest;

describe('node hostnames', () => {
  it('are lowercase DNS labels with version and index', () => {
    expect(nodeHostnames('My_Job', 'V002', 2)).toEqual(['my-job-v002-0', 'my-job-v002-1']);
  });
  it('fit in 63 characters and keep the suffix', () => {
    const [h] = nodeHostnames(`a${'b'.repeat(63)}`, 'V001', 1);
    expect(h!.length).toBeLessThanOrEqual(63);
    expect(h!.endsWith('-v001-0')).toBe(true);
  });
});

describe('node environment', () => {
  it('injects the platform variables and keeps the user ones', () => {
    const env = nodeEnvironment({ spec, version: 'V003', index: 1, hostnames: ['h-0', 'h-1'], dataUrl: 'obs://b/data/' });
    expect(env).toMatchObject({
      EPOCHS: '5',
      DLS_TASK_INDEX: '1',
      DLS_TASK_NUMBER: '2',
      DLS_APP_URL: 'obs://b/code/',
      DLS_DATA_URL: 'obs://b/data/',
      DLS_TRAIN_URL: 'obs://b/out/',
      BATCH_CUSTOM0_HOSTS: 'h-0:6666',
      BATCH_CUSTOM1_HOSTS: 'h-1:6666',
      MASTER_ADDR: 'h-0',
      WORLD_SIZE: '2',
      MA_JOB_NAME: 'My_Job',
      MA_JOB_VERSION: 'V003',
    });
  });
  it('names the checkpoint folder and path only for a job with a Checkpoint Path', () => {
    expect(nodeEnvironment({ spec, version: 'V001', index: 0, hostnames: ['h-0'], dataUrl: '' }).MA_CHECKPOINT_DIR).toBeUndefined();
    const env = nodeEnvironment({
      spec: { ...spec, checkpointPath: 'obs://b/ckpt/' },
      version: 'V001',
      index: 0,
      hostnames: ['h-0'],
      dataUrl: '',
    });
    expect(env).toMatchObject({ MA_CHECKPOINT_DIR: '/home/work/checkpoints', CHECKPOINT_URL: 'obs://b/ckpt/' });
  });
  it('never lets a user variable override a platform one', () => {
    const env = nodeEnvironment({ spec, version: 'V001', index: 0, hostnames: ['h-0'], dataUrl: '' });
    expect(env.RANK).toBe('0');
  });
});
