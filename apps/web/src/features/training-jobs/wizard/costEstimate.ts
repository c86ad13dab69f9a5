import { useWatch, type Control } from 'react-hook-form';
import {
  budgetShortfall,
  estimateCoreHours,
  type Budget,
  type CreateTrainingJobInput,
  type Flavor,
  type ResourcePool,
} from '@tc/contracts';
import { useBudget } from '../../budget/api';
import { useResourcePools } from '../../resource-pools/api';
import type { WizardValues } from './values';

export interface CostEstimate {
  flavor: Flavor | undefined;
  nodes: number;
  maxRuntimeMinutes: number | null;
  /** Core-hours at most; null without a max running time (or before the flavor is known). */
  coreHours: number | null;
  gpuHourWeight: number | null;
  /** undefined: not read (yet, or it failed); null: no budget limit. */
  balance: number | null | undefined;
  /** Why Submit is blocked (the server's rule, packages/contracts), or null. */
  refusal: string | null;
}

/** The estimate of a job with these resources and max running time against the budget (see budgetShortfall). */
export function costOf(
  v: { resources: WizardValues['resources']; maxRuntimeMinutes: WizardValues['maxRuntimeMinutes'] },
  pools: readonly ResourcePool[],
  budget: Budget | undefined,
): CostEstimate {
  const pool = pools.find((p) => p.id === (v.resources.pool || 'public'));
  const flavor = pool?.flavors.find((f) => f.id === v.resources.flavor);
  const nodes = Number(v.resources.nodes) || 1;
  const maxRuntimeMinutes = v.maxRuntimeMinutes === '' ? null : v.maxRuntimeMinutes;
  const gpuHourWeight = budget?.gpuHourWeight ?? null;
  const coreHours =
    flavor && (flavor.gpus === 0 || gpuHourWeight !== null)
      ? estimateCoreHours({ vcpus: flavor.vcpus, gpus: flavor.gpus, nodes, maxRuntimeMinutes, gpuHourWeight: gpuHourWeight ?? 0 })
      : null;
  const balance = budget ? budget.balanceCoreHours : undefined;
  return {
    flavor,
    nodes,
    maxRuntimeMinutes,
    coreHours,
    gpuHourWeight,
    balance,
    refusal: budgetShortfall(coreHours, balance ?? null),
  };
}

/** The wizard's current estimate; `control` outside the form's provider, none inside it. */
export function useCostEstimate(control?: Control<WizardValues, unknown, CreateTrainingJobInput>): CostEstimate {
  const [resources, maxRuntimeMinutes] = useWatch({ control, name: ['resources', 'maxRuntimeMinutes'] });
  const pools = useResourcePools();
  const budget = useBudget();
  return costOf({ resources, maxRuntimeMinutes }, pools.data?.items ?? [], budget.data);
}
