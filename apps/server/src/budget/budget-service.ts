import {
  budgetShortfall,
  estimateCoreHours,
  isTerminal,
  type Budget,
  type BudgetJobsQuery,
  type CreateTrainingJobRequest,
  type Flavor,
  type JobConsumptionList,
} from '@tc/contracts';
import type { BudgetRepository, MeteredRun } from './budget-repository.js';
import type { JobTransition } from '../jobs/job-repository.js';
import type { JobRecord } from '../jobs/job.js';
import { parseVersion } from '../jobs/version.js';
import { InvalidInputError, PaymentRequiredError } from '../errors.js';

export interface BudgetServiceDeps {
  usage: BudgetRepository;
  /** The flavor a job was placed with (ResourcePools.flavor). */
  flavor: (poolId: string, flavorId: string) => Flavor | undefined;
  /** Where a new job would go (ResourcePools.place): its flavor and nodes, for the estimate at create. */
  place?: (resources: CreateTrainingJobRequest['resources']) => { flavor: Flavor; nodes: number };
  /** null: unlimited. */
  limitCoreHours: number | null;
  gpuHourWeight: number;
  now?: () => Date;
  log: { warn(obj: object, msg: string): void };
}

const TOP = 10;

/** To 1e-9 core-hours (a few core-microseconds): float noise gone, a tiny test budget still visible. */
const round = (n: number): number => Math.round(n * 1e9) / 1e9;

/**
 * The reference's "account in arrears" rule: jobs consume core-hours while they run (GPU-hours
 * weighted), and once the budget is used up no new job is created. Running jobs are not stopped:
 * they were admitted while the account was in credit.
 */
export class BudgetService {
  private readonly now: () => Date;

  constructor(private readonly d: BudgetServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  /** Records a run when its job starts and its end when it ends (JobRepository.onTransition). */
  onTransition({ job, to, retried }: JobTransition): void {
    // A failed attempt going back to the queue ends its run; the next attempt is metered anew.
    if (retried?.startedAt) this.record({ ...job, attempt: retried.attempt, startedAt: retried.startedAt }, retried.endedAt);
    if (!job.startedAt) return;
    if (to === 'Running' || isTerminal(to)) this.record(job);
  }

  /** Catches up on runs a listener did not see (jobs from before metering, a crash between writes). */
  reconcile(): void {
    for (const r of this.d.usage.unrecorded()) {
      const f = this.d.flavor(r.poolId, r.flavorId);
      if (!f)
        this.d.log.warn(
          { job: r.jobId, flavor: r.flavorId },
          'budget: the flavor of a past job is no longer configured; metered as 0 vCPUs',
        );
      this.d.usage.record({ ...r, vcpus: f?.vcpus ?? 0, gpus: f?.gpus ?? 0 });
    }
    this.d.usage.closeEnded(this.now().toISOString());
  }

  summary(): Budget {
    const asOf = this.now().toISOString();
    const used = round(this.d.usage.usedCoreHours(asOf, this.d.gpuHourWeight));
    const limit = this.d.limitCoreHours;
    const balance = limit === null ? null : round(limit - used);
    return {
      limitCoreHours: limit,
      usedCoreHours: used,
      balanceCoreHours: balance,
      inArrears: balance !== null && balance <= 0,
      gpuHourWeight: this.d.gpuHourWeight,
      asOf,
      jobs: this.d.usage.top(asOf, this.d.gpuHourWeight, TOP).map(view),
    };
  }

  jobs(q: BudgetJobsQuery): JobConsumptionList {
    const asOf = this.now().toISOString();
    const { items, total } = this.d.usage.page(asOf, this.d.gpuHourWeight, q.pageSize, (q.page - 1) * q.pageSize);
    return { items: items.map(view), total, asOf };
  }

  /**
   * A create hook: refuses a new job while the account is in arrears (402), and one whose
   * estimate (max running time × its resources) the balance cannot cover (400 on maxRuntimeMinutes).
   */
  check(req?: CreateTrainingJobRequest): void {
    const b = this.summary();
    if (!b.inArrears) {
      // Without a limit or a max running time there is nothing to compare.
      if (req?.maxRuntimeMinutes !== undefined && b.balanceCoreHours !== null && this.d.place) this.checkEstimate(req, b);
      return;
    }
    throw new PaymentRequiredError(
      `the account is in arrears: ${fmt(b.usedCoreHours)} of its ${fmt(b.limitCoreHours!)} core-hour budget are used ` +
        `(balance ${fmt(b.balanceCoreHours!)}), so no new training job can be created until the budget (BUDGET_CORE_HOURS) is raised`,
    );
  }

  private checkEstimate(req: CreateTrainingJobRequest, b: Budget): void {
    const { flavor, nodes } = this.d.place!(req.resources);
    const estimate = estimateCoreHours({
      vcpus: flavor.vcpus,
      gpus: flavor.gpus,
      nodes,
      maxRuntimeMinutes: req.maxRuntimeMinutes,
      gpuHourWeight: this.d.gpuHourWeight,
    });
    const refused = budgetShortfall(estimate, b.balanceCoreHours);
    if (refused) throw new InvalidInputError([{ path: 'maxRuntimeMinutes', message: refused }]);
  }

  private record(job: JobRecord, endedAt: string | null = isTerminal(job.status) ? job.endedAt : null): void {
    const f = this.d.flavor(job.poolId, job.flavorId);
    this.d.usage.record({
      jobId: job.id,
      jobCreatedAt: job.createdAt,
      attempt: job.attempt,
      name: job.name,
      versionNum: parseVersion(job.version) ?? 0,
      poolId: job.poolId,
      flavorId: job.flavorId,
      vcpus: f?.vcpus ?? 0,
      gpus: f?.gpus ?? 0,
      nodes: job.nodeCount,
      startedAt: job.startedAt!,
      endedAt,
    });
  }
}

function view(r: MeteredRun): MeteredRun {
  return { ...r, hours: round(r.hours), coreHours: round(r.coreHours) };
}

function fmt(n: number): string {
  return String(+n.toPrecision(4));
}
