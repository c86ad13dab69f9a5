import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, TrainingJob, TrainingJobParameters } from '@tc/contracts';
import { tempDatabase } from '../../test/support/temp-database.js';
import type { Actor } from '../accounts/actor.js';
import { ParameterSetRepository } from './parameter-set-repository.js';
import { JobRepository } from '../jobs/job-repository.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { ParameterSetService, SaveParametersOnCreate, parametersOf } from './parameter-set-service.js';

const alice: Actor = { userId: 1, username: 'alice', admin: false };
const bob: Actor = { userId: 2, username: 'bob', admin: false };
const admin: Actor = { userId: 3, username: 'root', admin: true };

const parameters: TrainingJobParameters = {
  description: 'saved description',
  algorithm: { source: 'custom', imagePath: 'trainer:1', codeDir: 's3://work/code/', bootCommand: 'python train.py' },
  data: { source: 'path', path: 's3://work/data/' },
  trainOutput: 's3://work/out/',
  env: [
    { name: 'TOKEN', value: 'hunter2', secret: true },
    { name: 'MODE', value: 'fast' },
  ],
};

/**
 * The job service is a port here: what a set turns into is JobService's business, so this fake
 * records the request and answers with what the test asks (a job, or the error a submit check
 * would raise).
 */
function setUp(createJob?: (req: CreateTrainingJobRequest) => TrainingJob) {
  const db = tempDatabase();
  const configs = new ParameterSetRepository(db);
  const submitted: { actor: Actor; req: CreateTrainingJobRequest }[] = [];
  const service = new ParameterSetService({
    configs,
    createJob: async (actor, req) => {
      submitted.push({ actor, req });
      return createJob ? createJob(req) : ({ name: req.name, version: 'V001' } as TrainingJob);
    },
  });
  return { db, configs, service, submitted };
}

describe('ParameterSetService: saved sets', () => {
  it('refuses a name that is taken, by anyone, leaving the stored set untouched', () => {
    const { service, configs } = setUp();
    service.create(alice, { name: 'base', parameters });
    expect(() => service.create(bob, { name: 'base', parameters: { ...parameters, trainOutput: 's3://x/y/' } })).toThrow(ConflictError);
    expect(configs.get('base')).toMatchObject({ ownerId: alice.userId, parameters: { trainOutput: 's3://work/out/' } });
  });

  it("answers another user's set as not found for get, update, delete and createJob; an admin reaches it", async () => {
    const { service, submitted } = setUp();
    service.create(alice, { name: 'base', parameters });
    expect(() => service.get(bob, 'base')).toThrow(NotFoundError);
    expect(() => service.update(bob, 'base', { parameters })).toThrow(NotFoundError);
    expect(() => service.delete(bob, 'base')).toThrow(NotFoundError);
    await expect(service.createJob(bob, 'base', { jobName: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    expect(submitted).toEqual([]);
    expect(service.get(admin, 'base').name).toBe('base');
  });

  it('lists only the actor’s own sets; an admin sees all', () => {
    const { service } = setUp();
    service.create(alice, { name: 'a', parameters });
    service.create(bob, { name: 'b', parameters });
    const names = (actor: Actor) => service.list(actor, { page: 1, pageSize: 20 }).items.map((c) => c.name);
    expect(names(alice)).toEqual(['a']);
    expect(names(admin).sort()).toEqual(['a', 'b']);
  });

  it('never shows a secret value, and an edit that sends it back blank keeps it', () => {
    const { service, configs } = setUp();
    const view = service.create(alice, { name: 'base', parameters });
    expect(view.parameters.env).toEqual([
      { name: 'TOKEN', value: '', secret: true },
      { name: 'MODE', value: 'fast' },
    ]);
    service.update(alice, 'base', { parameters: { ...parameters, env: view.parameters.env, trainOutput: 's3://work/out2/' } });
    expect(configs.get('base')!.parameters.env).toEqual(parameters.env);
    expect(configs.get('base')!.parameters.trainOutput).toBe('s3://work/out2/');
  });

  it('replaces a secret when the edit sends a new value', () => {
    const { service, configs } = setUp();
    service.create(alice, { name: 'base', parameters });
    service.update(alice, 'base', { parameters: { ...parameters, env: [{ name: 'TOKEN', value: 'new', secret: true }] } });
    expect(configs.get('base')!.parameters.env).toEqual([{ name: 'TOKEN', value: 'new', secret: true }]);
  });
});

describe('ParameterSetService.createJob', () => {
  it('submits the saved parameters, secrets included, under the new job name; the description defaults to the saved one', async () => {
    const { service, submitted } = setUp();
    service.create(alice, { name: 'base', parameters });
    await service.createJob(alice, 'base', { jobName: 'run1' });
    await service.createJob(alice, 'base', { jobName: 'run2', description: 'mine' });
    expect(submitted[0]).toEqual({ actor: alice, req: { ...parameters, name: 'run1' } });
    expect(submitted[1]!.req.description).toBe('mine');
  });

  it("checks the saved set against today's rules, naming the saved field and the set", async () => {
    const { service, configs, submitted } = setUp();
    // Stored before the output-outside-data rule existed: it no longer submits.
    configs.insert({
      name: 'old',
      description: null,
      parameters: { ...parameters, trainOutput: 's3://work/data/out/' },
      sourceJob: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      ownerId: alice.userId,
    });
    const err = await service.createJob(alice, 'old', { jobName: 'run' }).catch((e: unknown) => e);
    expect((err as InvalidInputError).fields).toEqual([
      {
        path: 'parameters.trainOutput',
        message: 'Training Output Path must not be the data path or inside it (in the saved configuration old; edit it first)',
      },
    ]);
    expect(submitted).toEqual([]);
  });

  it("points the submit checks' field errors at the saved set, and the name at jobName", async () => {
    const { service } = setUp(() => {
      throw new InvalidInputError([
        { path: 'name', message: 'taken' },
        { path: 'algorithm.codeDir', message: 'missing' },
      ]);
    });
    service.create(alice, { name: 'base', parameters });
    const err = await service.createJob(alice, 'base', { jobName: 'run' }).catch((e: unknown) => e);
    expect((err as InvalidInputError).fields).toEqual([
      { path: 'jobName', message: 'taken' },
      { path: 'parameters.algorithm.codeDir', message: 'missing (in the saved configuration base; edit it first)' },
    ]);
  });

  it('passes other errors of the submit through unchanged', async () => {
    const conflict = new ConflictError('no');
    const { service } = setUp(() => {
      throw conflict;
    });
    service.create(alice, { name: 'base', parameters });
    await expect(service.createJob(alice, 'base', { jobName: 'run' })).rejects.toBe(conflict);
  });
});

describe('SaveParametersOnCreate', () => {
  function hookSetUp() {
    const db = tempDatabase();
    const configs = new ParameterSetRepository(db);
    const jobs = new JobRepository(db);
    const hook = new SaveParametersOnCreate({ configs, jobs });
    const spec: CreateTrainingJobRequest = { ...parameters, name: 'linreg', saveConfig: { name: 'base', description: 'from a job' } };
    const job = jobs.createWithNextVersion({
      name: 'linreg',
      description: null,
      spec,
      poolId: 'public',
      flavorId: 'cpu.1u2g',
      nodeCount: 1,
      hostnames: () => ['linreg-v001-0'],
      createdAt: '2026-01-01T00:00:00.000Z',
      ownerId: alice.userId,
    });
    return { configs, jobs, hook, spec, job };
  }

  it('refuses a create whose saveConfig name is taken, naming the field', () => {
    const { hook, configs, spec } = hookSetUp();
    expect(() => hook.check(spec)).not.toThrow();
    configs.insert({ name: 'base', description: null, parameters, sourceJob: null, createdAt: '', updatedAt: '', ownerId: bob.userId });
    expect(() => hook.check(spec)).toThrow(/^saveConfig\.name: .* no job was created$/);
  });

  it('saves the parameters without the job name or the save request, owned by the actor, linked to the job', () => {
    const { hook, configs, jobs, job, spec } = hookSetUp();
    hook.created(job, alice);
    expect(configs.get('base')).toMatchObject({
      description: 'from a job',
      parameters: parametersOf(spec),
      sourceJob: { name: 'linreg', version: 'V001' },
      ownerId: alice.userId,
    });
    expect(Object.keys(configs.get('base')!.parameters)).not.toContain('saveConfig');
    expect(jobs.events(job.id).map((e) => e.type)).toEqual(['parameters-saved']);
  });

  it('keeps a set saved meanwhile and says so on the job’s timeline', () => {
    const { hook, configs, jobs, job } = hookSetUp();
    configs.insert({ name: 'base', description: 'theirs', parameters, sourceJob: null, createdAt: '', updatedAt: '', ownerId: bob.userId });
    hook.created(job, alice);
    expect(configs.get('base')).toMatchObject({ description: 'theirs', ownerId: bob.userId });
    expect(jobs.events(job.id)).toMatchObject([
      { type: 'warning', message: 'parameters not saved: configuration base was created meanwhile' },
    ]);
  });
});
