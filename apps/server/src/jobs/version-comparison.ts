import {
  COMPARED_SECRET_VALUE,
  splitComparedVersions,
  type ComparedVersion,
  type JobMetrics,
  type TrainingJob,
  type VersionComparison,
} from '@tc/contracts';
import type { Actor } from '../accounts/actor.js';

export interface VersionComparisonDeps {
  /** Each version as its own route shows it: same visibility (404 for another user's), secrets hidden. */
  jobs: { get(actor: Actor, name: string, version: string): TrainingJob };
  metrics: { get(actor: Actor, name: string, version: string): JobMetrics };
  now?: () => number;
}

/** "View Comparison Result": versions of one job side by side, and the parameters they differ in. */
export class VersionComparisonService {
  constructor(private readonly d: VersionComparisonDeps) {}

  compare(actor: Actor, name: string, versionList: string): VersionComparison {
    const now = this.d.now?.() ?? Date.now();
    const versions = splitComparedVersions(versionList).map((v) =>
      comparedVersion(this.d.jobs.get(actor, name, v), this.d.metrics.get(actor, name, v), now),
    );
    return { name, versions, differingParameters: differingParameters(versions) };
  }
}

export function comparedVersion(job: TrainingJob, metrics: JobMetrics, now: number): ComparedVersion {
  const { spec } = job;
  const data = spec.data;
  return {
    version: job.version,
    status: job.status,
    imagePath: spec.algorithm.imagePath,
    imageId: job.imageId ?? null,
    imageDigest: job.imageDigest ?? null,
    data:
      data.source === 'path'
        ? { source: 'path', path: data.path }
        : { source: 'dataset', datasetId: data.datasetId, datasetVersion: data.version },
    flavor: spec.resources?.flavor ?? '',
    nodes: spec.resources?.nodes ?? Math.max(1, job.nodes.length),
    durationSeconds: job.startedAt ? Math.max(0, ((job.endedAt ? Date.parse(job.endedAt) : now) - Date.parse(job.startedAt)) / 1000) : null,
    parameters: runningParameters(job),
    finalMetrics: finalMetrics(metrics),
  };
}

/** The spec flattened to `path: text`, the way the comparison lines them up. */
export function runningParameters(job: TrainingJob): Record<string, string> {
  const s = job.spec;
  const out: Record<string, string> = {
    'algorithm.imagePath': s.algorithm.imagePath,
    'algorithm.codeDir': s.algorithm.codeDir,
    'algorithm.bootCommand': s.algorithm.bootCommand,
    data: s.data.source === 'path' ? s.data.path : `dataset ${s.data.datasetId} ${s.data.version}`,
    trainOutput: s.trainOutput,
  };
  if (s.logPath) out.logPath = s.logPath;
  if (s.resources) {
    out['resources.pool'] = s.resources.pool || 'public';
    out['resources.type'] = s.resources.type;
    out['resources.flavor'] = s.resources.flavor;
    out['resources.nodes'] = String(s.resources.nodes);
  }
  if (s.maxRuntimeMinutes !== undefined) out.maxRuntimeMinutes = String(s.maxRuntimeMinutes);
  if (s.stallWatchdog) out.stallWatchdog = `${s.stallWatchdog.action} after ${s.stallWatchdog.minutes} min`;
  if (s.metrics && s.metrics.length > 0) out.metrics = s.metrics.map((m) => `${m.name}=/${m.regex}/`).join(' ');
  // The job view has already blanked secret values; "(secret)" says so, and equal placeholders mean no difference is claimed.
  for (const v of s.env ?? []) out[`env.${v.name}`] = v.secret ? COMPARED_SECRET_VALUE : v.value;
  return out;
}

/** Each metric's last value on node 0, or on the lowest node that has it. */
export function finalMetrics(metrics: JobMetrics): Record<string, number> {
  const chosen = new Map<string, { node: number; value: number }>();
  for (const s of metrics.series) {
    const last = s.points[s.points.length - 1];
    if (!last) continue;
    const seen = chosen.get(s.name);
    if (!seen || s.node < seen.node) chosen.set(s.name, { node: s.node, value: last.value });
  }
  return Object.fromEntries([...chosen].sort(([a], [b]) => a.localeCompare(b)).map(([name, { value }]) => [name, value]));
}

/** Names whose value is not the same in every version; a parameter one version lacks differs. */
export function differingParameters(versions: readonly Pick<ComparedVersion, 'parameters'>[]): string[] {
  const names = new Set(versions.flatMap((v) => Object.keys(v.parameters)));
  return [...names].filter((n) => new Set(versions.map((v) => v.parameters[n] ?? null)).size > 1).sort();
}
