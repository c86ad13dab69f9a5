import type { CreateTrainingJobInput } from '@tc/contracts';
import type { WizardValues } from './values';

const orUndefined = (s: string) => (s.trim() === '' ? undefined : s);

/**
 * Form values → create request. No rule lives here: an empty required field stays '' so the
 * request schema reports it; only what the form cannot express is translated (an empty optional
 * text means "absent", the data source not chosen is dropped, saving is a switch).
 */
export function toRequest(v: WizardValues): CreateTrainingJobInput {
  const req: CreateTrainingJobInput = {
    name: v.name.trim(),
    description: orUndefined(v.description),
    algorithm: {
      source: 'custom',
      imagePath: v.algorithm.imagePath.trim(),
      codeDir: v.algorithm.codeDir.trim(),
      bootCommand: v.algorithm.bootCommand,
    },
    data:
      v.data.source === 'dataset'
        ? { source: 'dataset', datasetId: v.data.datasetId, version: v.data.version }
        : { source: 'path', path: v.data.path.trim() },
    trainOutput: v.trainOutput.trim(),
    env: v.env.map((row) => ({ name: row.name.trim(), value: row.value, ...(row.secret ? { secret: true } : {}) })),
    logPath: orUndefined(v.logPath.trim()),
    checkpointPath: orUndefined(v.checkpointPath.trim()),
    resources: {
      pool: v.resources.pool,
      type: v.resources.type,
      flavor: v.resources.flavor,
      // '' reaches the schema as a non-number, which it reports as "must be a whole number".
      nodes: v.resources.nodes === '' ? Number.NaN : v.resources.nodes,
    },
  };
  if (v.maxRuntimeMinutes !== '') req.maxRuntimeMinutes = v.maxRuntimeMinutes;
  if (v.stallWatchdog.minutes !== '') req.stallWatchdog = { minutes: v.stallWatchdog.minutes, action: v.stallWatchdog.action };
  // 0 retries is the default: the request stays without a policy.
  if (v.retry.maxAttempts !== 0) {
    req.retry = { maxAttempts: v.retry.maxAttempts === '' ? Number.NaN : v.retry.maxAttempts, on: [...v.retry.on] };
  }
  if (v.notification.topic !== '') req.notification = { topic: v.notification.topic, events: [...v.notification.events] };
  if (v.metrics.length > 0) req.metrics = v.metrics.map((m) => ({ name: m.name.trim(), regex: m.regex }));
  if (v.saveConfig.enabled) req.saveConfig = { name: v.saveConfig.name.trim(), description: orUndefined(v.saveConfig.description) };
  return req;
}
