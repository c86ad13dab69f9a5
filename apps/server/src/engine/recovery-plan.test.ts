import { describe, expect, it } from 'vitest';
import type { ManagedContainer, ManagedNetwork } from './container-engine.js';
import { recoveryPlan, type OpenJob } from './recovery-plan.js';

const c = (id: string, job: number, node: number): ManagedContainer => ({
  id,
  state: 'running',
  labels: { 'tc.job-id': String(job), 'tc.node': String(node) },
});
const n = (id: string, job: number): ManagedNetwork => ({ id, name: id, labels: { 'tc.job-id': String(job), 'tc.node': '-1' } });
const job = (id: number, status: OpenJob['status'], nodeCount = 1, workDirs: (string | null)[] = []): OpenJob => ({
  id,
  status,
  nodeCount,
  workDirs,
});

describe('recovery plan', () => {
  it('follows Running and Stopping jobs again with their containers by node, a vanished one as null', () => {
    const plan = recoveryPlan(
      [job(1, 'Running', 2), job(2, 'Stopping', 3)],
      [c('a1', 1, 1), c('a0', 1, 0), c('b0', 2, 0), c('b2', 2, 2)],
      [n('net2', 2)],
    );
    expect(plan.resume).toEqual([
      { jobId: 1, containers: ['a0', 'a1'], network: null },
      { jobId: 2, containers: ['b0', null, 'b2'], network: 'net2' },
    ]);
    expect(plan.restart).toEqual([]);
    expect(plan.removeContainers).toEqual([]);
    expect(plan.removeNetworks).toEqual([]);
  });

  it('starts Initializing jobs over, naming every leftover: containers, network, work folders made so far', () => {
    const plan = recoveryPlan([job(3, 'Initializing', 2, ['3-0-aa', null])], [c('c0', 3, 0)], [n('net3', 3)]);
    expect(plan.restart).toEqual([{ jobId: 3, containers: ['c0'], network: 'net3', workDirs: ['3-0-aa'] }]);
    expect(plan.resume).toEqual([]);
  });

  it('removes what belongs to jobs that ended or that no row knows, and ignores unlabelled containers', () => {
    const stray: ManagedContainer = { id: 'x', state: 'exited', labels: { 'tc.job-id': 'not-a-number' } };
    const plan = recoveryPlan([job(1, 'Running')], [c('a0', 1, 0), c('old', 7, 0), stray], [n('net7', 7), n('net9', 9)]);
    expect(plan.removeContainers).toEqual(['old']);
    expect(plan.removeNetworks).toEqual(['net7', 'net9']);
  });

  it('leaves alone the jobs this process already carries', () => {
    const plan = recoveryPlan(
      [job(1, 'Running'), job(2, 'Initializing')],
      [c('a0', 1, 0), c('b0', 2, 0), c('z0', 5, 0)],
      [n('net5', 5)],
      new Set([1, 5]),
    );
    expect(plan.resume).toEqual([]);
    expect(plan.restart.map((r) => r.jobId)).toEqual([2]);
    expect(plan.removeContainers).toEqual([]);
    expect(plan.removeNetworks).toEqual([]);
  });

  it('ignores jobs that are not open (a stale list)', () => {
    const plan = recoveryPlan([job(4, 'Successful')], [c('d0', 4, 0)], []);
    expect(plan.resume).toEqual([]);
    expect(plan.removeContainers).toEqual(['d0']);
  });
});
