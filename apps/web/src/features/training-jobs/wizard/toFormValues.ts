import type { TrainingJobParameters, TrainingJobSpec } from '@tc/contracts';
import { EMPTY_VALUES, type WizardValues } from './values';

/**
 * A stored job's spec (for "create new version") or a saved parameter set (One-Click
 * Configuration) → form values. The name is the job's own for a new version and '' for a set;
 * saving parameters is never carried over, it is a choice made per submit.
 */
export function toFormValues(source: TrainingJobSpec | TrainingJobParameters, name = ''): WizardValues {
  const data = source.data;
  return {
    ...EMPTY_VALUES,
    name,
    description: source.description ?? '',
    algorithm: { ...source.algorithm },
    data:
      data.source === 'dataset'
        ? { source: 'dataset', path: '', datasetId: data.datasetId, version: data.version }
        : { source: 'path', path: data.path, datasetId: '', version: '' },
    trainOutput: source.trainOutput,
    // A secret's value comes back blank (the API never shows it again): the user types it anew.
    env: (source.env ?? []).map((e) => ({ ...e })),
    logPath: source.logPath ?? '',
    checkpointPath: source.checkpointPath ?? '',
    maxRuntimeMinutes: source.maxRuntimeMinutes ?? '',
    stallWatchdog: source.stallWatchdog ?? { minutes: '', action: 'alert' },
    resources: source.resources
      ? { pool: source.resources.pool ?? '', type: source.resources.type, flavor: source.resources.flavor, nodes: source.resources.nodes }
      : { ...EMPTY_VALUES.resources },
    retry: source.retry ? { maxAttempts: source.retry.maxAttempts, on: [...(source.retry.on ?? ['platform'])] } : { ...EMPTY_VALUES.retry },
    notification: source.notification
      ? { topic: source.notification.topic, events: [...source.notification.events] }
      : { topic: '', events: [] },
    metrics: (source.metrics ?? []).map((m) => ({ ...m })),
    saveConfig: { enabled: false, name: '', description: '' },
  };
}
