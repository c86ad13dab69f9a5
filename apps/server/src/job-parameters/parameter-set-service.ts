import {
  CreateTrainingJobRequest,
  hideSecretValues,
  keepHiddenSecrets,
  type CreateJobFromConfigRequest,
  type CreateTrainingJobConfigRequest,
  type FieldError,
  type ListTrainingJobConfigsQuery,
  type TrainingJob,
  type TrainingJobConfig,
  type TrainingJobConfigList,
  type TrainingJobParameters,
  type UpdateTrainingJobConfigRequest,
} from '@tc/contracts';
import type { ParameterSetRepository } from './parameter-set-repository.js';
import type { JobRepository } from '../jobs/job-repository.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { JobRecord } from '../jobs/job.js';
import type { ParameterSetRecord } from './parameter-set.js';
import { canAccess, ownerScope, type Actor } from '../accounts/actor.js';

type ParameterSets = Pick<ParameterSetRepository, 'insert' | 'get' | 'exists' | 'list' | 'update' | 'delete'>;

function toView(c: ParameterSetRecord): TrainingJobConfig {
  return {
    name: c.name,
    description: c.description,
    parameters: hideSecretValues(c.parameters),
    sourceJob: c.sourceJob,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

function taken(name: string): ConflictError {
  return new ConflictError(`a job parameter configuration named ${name} already exists`);
}

/** Field errors of a create request made from a saved set, pointed at where they can be fixed. */
function inSavedConfig(config: string, fields: FieldError[]): InvalidInputError {
  return new InvalidInputError(
    fields.map((f) => {
      if (f.path === 'name') return { path: 'jobName', message: f.message };
      if (f.path === 'description') return f;
      return { path: `parameters.${f.path}`, message: `${f.message} (in the saved configuration ${config}; edit it first)` };
    }),
  );
}

/** The parameter set of a create request: all of it but the job's name and the save request. */
export function parametersOf(spec: CreateTrainingJobRequest): TrainingJobParameters {
  const { name: _name, saveConfig: _saveConfig, ...parameters } = spec;
  return parameters;
}

export interface ParameterSetServiceDeps {
  configs: ParameterSets;
  /** JobService.create: a job from a saved set goes through every check a wizard submit does. */
  createJob(actor: Actor, req: CreateTrainingJobRequest): Promise<TrainingJob>;
}

/**
 * Job Parameters ("Job Parameter Mgmt" in ModelArts): saved sets, and jobs made from them. Names
 * are console-wide; users reach their own sets, admins all.
 */
export class ParameterSetService {
  constructor(private readonly d: ParameterSetServiceDeps) {}

  list(actor: Actor, q: ListTrainingJobConfigsQuery): TrainingJobConfigList {
    const { items, total } = this.d.configs.list({
      ownerId: ownerScope(actor),
      name: q.name,
      limit: q.pageSize,
      offset: (q.page - 1) * q.pageSize,
    });
    return { items: items.map(toView), total };
  }

  get(actor: Actor, name: string): TrainingJobConfig {
    return toView(this.find(actor, name));
  }

  create(actor: Actor, req: CreateTrainingJobConfigRequest): TrainingJobConfig {
    const now = new Date().toISOString();
    const record: ParameterSetRecord = {
      name: req.name,
      description: req.description ?? null,
      parameters: req.parameters,
      sourceJob: null,
      createdAt: now,
      updatedAt: now,
      ownerId: actor.userId,
    };
    if (!this.d.configs.insert(record)) throw taken(req.name);
    return toView(record);
  }

  update(actor: Actor, name: string, req: UpdateTrainingJobConfigRequest): TrainingJobConfig {
    const stored = this.find(actor, name);
    const ok = this.d.configs.update(name, {
      description: req.description ?? null,
      parameters: { ...req.parameters, env: keepHiddenSecrets(req.parameters.env, stored.parameters.env) },
      updatedAt: new Date().toISOString(),
    });
    if (!ok) throw this.notFound(name);
    return this.get(actor, name);
  }

  delete(actor: Actor, name: string): void {
    this.find(actor, name);
    if (!this.d.configs.delete(name)) throw this.notFound(name);
  }

  /**
   * The saved set is checked against today's rules before the job is made: a rule added since
   * it was saved gets a 400 that names the saved field, not a job that fails later.
   */
  async createJob(actor: Actor, name: string, req: CreateJobFromConfigRequest): Promise<TrainingJob> {
    const saved = this.find(actor, name);
    const parsed = CreateTrainingJobRequest.safeParse({
      ...saved.parameters,
      name: req.jobName,
      description: req.description ?? saved.parameters.description,
    });
    if (!parsed.success) {
      throw inSavedConfig(
        name,
        parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      );
    }
    try {
      return await this.d.createJob(actor, parsed.data);
    } catch (err) {
      // The submit checks name the create request's fields; this request has only jobName.
      if (err instanceof InvalidInputError) throw inSavedConfig(name, err.fields);
      throw err;
    }
  }

  private find(actor: Actor, name: string): ParameterSetRecord {
    const c = this.d.configs.get(name);
    if (!c || !canAccess(actor, c.ownerId)) throw this.notFound(name);
    return c;
  }

  private notFound(name: string): NotFoundError {
    return new NotFoundError(`job parameter configuration ${name} does not exist`);
  }
}

/**
 * "Saving Training Parameters" in a create request, as a JobService create hook. A taken name
 * refuses the whole create before anything is stored: the user asked for both, and a job that
 * ran without its saved set (or a set silently overwritten) is the surprise ModelArts avoids by
 * checking the name when the form is submitted.
 */
export class SaveParametersOnCreate {
  constructor(
    private readonly d: {
      configs: Pick<ParameterSetRepository, 'insert' | 'exists'>;
      jobs: Pick<JobRepository, 'addEvent'>;
    },
  ) {}

  check(req: CreateTrainingJobRequest): void {
    const name = req.saveConfig?.name;
    if (name && this.d.configs.exists(name)) {
      throw new ConflictError(`saveConfig.name: a job parameter configuration named ${name} already exists; no job was created`);
    }
  }

  created(job: JobRecord, actor: Actor): void {
    const save = job.spec.saveConfig;
    if (!save) return;
    const now = new Date().toISOString();
    const saved = this.d.configs.insert({
      name: save.name,
      description: save.description ?? null,
      parameters: parametersOf(job.spec),
      sourceJob: { name: job.name, version: job.version },
      createdAt: now,
      updatedAt: now,
      ownerId: actor.userId,
    });
    // Only another process saving the same name between check and insert gets here; the job
    // exists by now, so it runs and its timeline says what happened.
    if (saved) this.d.jobs.addEvent(job.id, 'parameters-saved', `parameters saved as configuration ${save.name}`);
    else this.d.jobs.addEvent(job.id, 'warning', `parameters not saved: configuration ${save.name} was created meanwhile`);
  }
}
