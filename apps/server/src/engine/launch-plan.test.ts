import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, Flavor } from '@tc/contracts';
import { engineName, LABEL, launchPlan, type LaunchInput } from './launch-plan.js';

const spec = {
  name: 'My_Job',
  algorithm: { source: 'custom', imagePath: 'img:1', codeDir: 'obs://b/code/', bootCommand: 'python train.py' },
  data: { source: 'path', path: 'obs://b/data/' },
  trainOutput: 'obs://b/out/',
  env: [{ name: 'EPOCHS', value: '5' }],
} as CreateTrainingJobRequest;

const flavor = { id: 'cpu.2u4g', vcpus: 2, memoryGiB: 4, gpus: 0 } as Flavor;

const input = (patch: Partial<LaunchInput> = {}): LaunchInput => ({
  job: { id: 42, name: 'My_Job', version: 'V002', nodeCount: 1, spec },
  flavor,
  pool: { network: false },
  imageId: 'sha256:abc',
  dataUrl: 'obs://b/data/',
  consoleId: 'c0ffee00-1234-5678',
  workDirHostPaths: ['/var/node/42-0-x', '/var/node/42-1-x', '/var/node/42-2-x'],
  logMaxBytes: 1 << 20,
  ...patch,
});

describe('launch plan', () => {
  it('a standalone job: one container from the checked image ID, no network, limits from the flavor', () => {
    const plan = launchPlan(input());
    expect(plan.network).toBeNull();
    expect(plan.containers).toHaveLength(1);
    const c = plan.containers[0]!;
    expect(c).toMatchObject({
      name: 'tc-c0ffee001234-my-job-v002-0-42',
      image: 'sha256:abc',
      cmd: ['/bin/sh', '-c', 'python train.py'],
      hostname: 'my-job-v002-0',
      nanoCpus: 2e9,
      memoryBytes: 4 * 1024 ** 3,
      pidsLimit: 1024,
      networkMode: 'none',
      logMaxBytes: 1 << 20,
      mounts: [{ hostPath: '/var/node/42-0-x', containerPath: '/home/work' }],
    });
    expect(c.networkAliases).toBeUndefined();
    expect(c.env).toMatchObject({ EPOCHS: '5', DLS_TASK_INDEX: '0', DLS_DATA_URL: 'obs://b/data/' });
    expect(c.labels).toEqual({
      [LABEL.managed]: '1',
      [LABEL.console]: 'c0ffee00-1234-5678',
      [LABEL.jobId]: '42',
      [LABEL.jobName]: 'My_Job',
      [LABEL.jobVersion]: 'V002',
      [LABEL.node]: '0',
    });
  });

  it('a pool with network: the bridge for a standalone job', () => {
    expect(launchPlan(input({ pool: { network: true } })).containers[0]!.networkMode).toBe('bridge');
  });

  it('a distributed job: its own internal network, each node reachable by hostname, its own work folder', () => {
    const plan = launchPlan(
      input({ job: { id: 42, name: 'My_Job', version: 'V002', nodeCount: 3, spec }, extraLabels: { 'tc.test': '1' } }),
    );
    expect(plan.network).toEqual({
      name: 'tc-c0ffee001234-my-job-v002-42',
      internal: true,
      labels: expect.objectContaining({ [LABEL.node]: '-1', [LABEL.jobId]: '42', 'tc.test': '1' }),
    });
    expect(plan.containers.map((c) => c.networkMode)).toEqual(Array(3).fill('tc-c0ffee001234-my-job-v002-42'));
    expect(plan.containers.map((c) => c.networkAliases)).toEqual([['my-job-v002-0'], ['my-job-v002-1'], ['my-job-v002-2']]);
    expect(plan.containers.map((c) => c.mounts![0]!.hostPath)).toEqual(['/var/node/42-0-x', '/var/node/42-1-x', '/var/node/42-2-x']);
    expect(plan.containers.map((c) => c.env.RANK)).toEqual(['0', '1', '2']);
    expect(plan.containers[2]!.env).toMatchObject({ WORLD_SIZE: '3', MASTER_ADDR: 'my-job-v002-0' });
    // The network reaches out only when the pool allows it.
    expect(
      launchPlan(input({ job: { id: 42, name: 'My_Job', version: 'V002', nodeCount: 2, spec }, pool: { network: true } })).network
        ?.internal,
    ).toBe(false);
  });

  it('with a gate, the boot command waits for the staging marker, removes it, then runs as given', () => {
    const c = launchPlan(input({ waitFor: '/home/work/.tc-staged' })).containers[0]!;
    expect(c.cmd).toEqual([
      '/bin/sh',
      '-c',
      "while [ ! -e '/home/work/.tc-staged' ]; do sleep 0.05; done; rm -f '/home/work/.tc-staged'; python train.py",
    ]);
  });

  it('asks for GPUs only when the flavor has them', () => {
    expect(launchPlan(input()).containers[0]!.gpus).toBe(0);
    expect(launchPlan(input({ flavor: { ...flavor, gpus: 2 } })).containers[0]!.gpus).toBe(2);
  });

  it('engine names keep consoles apart and carry only safe characters', () => {
    expect(engineName('a-b_c.d/e', 'x-0', 7)).toBe('tc-abcde-x-0-7');
    expect(engineName('one', 'x-0', 7)).not.toBe(engineName('two', 'x-0', 7));
  });
});
