import { get, set, type FieldErrors, type FieldPath, type Resolver, type ResolverOptions } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { CreateTrainingJobRequest, OBJECT_PATH_MESSAGE, type CreateTrainingJobInput, type ResourcePool } from '@tc/contracts';
import { nodesThatFit } from './resources';
import { toRequest } from './toRequest';
import type { WizardValues } from './values';

export const STEPS = [
  { key: 'basic', label: 'Basic information', fields: ['name', 'description'] },
  {
    key: 'params',
    label: 'Job parameters',
    fields: ['algorithm', 'data', 'trainOutput', 'env', 'metrics', 'logPath', 'checkpointPath', 'maxRuntimeMinutes', 'stallWatchdog'],
  },
  { key: 'resources', label: 'Resources', fields: ['resources', 'retry'] },
  { key: 'notification', label: 'Notification', fields: ['notification', 'saveConfig'] },
  { key: 'confirm', label: 'Confirm', fields: [] },
] as const satisfies readonly { key: string; label: string; fields: readonly FieldPath<WizardValues>[] }[];

/** The step that holds a field (by request path, `env.0.name`), so a server error can open it. */
export function stepOfPath(path: string): number {
  const head = path.split('.')[0] ?? '';
  const i = STEPS.findIndex((s) => (s.fields as readonly string[]).includes(head));
  return i === -1 ? 0 : i;
}

const requestResolver = zodResolver(CreateTrainingJobRequest);

/** What the wizard knows besides its values: the resource pools, for what a pool could ever hold. */
export interface WizardContext {
  pools: readonly ResourcePool[];
}

/** The labels the fields carry on screen, so a schema's "must be …" reads as a sentence about the field. */
const LABELS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  'algorithm.imagePath': 'Image Path',
  'algorithm.codeDir': 'Code Directory',
  'algorithm.bootCommand': 'Boot Command',
  data: 'Data Source',
  'data.path': 'Data path',
  'data.datasetId': 'Dataset',
  'data.version': 'Dataset version',
  trainOutput: 'Training Output Path',
  env: 'Environment Variables',
  'env.*.name': 'Name',
  'env.*.value': 'Value',
  logPath: 'Job Log Path',
  checkpointPath: 'Checkpoint Path',
  maxRuntimeMinutes: 'Max Running Time',
  'stallWatchdog.minutes': 'Stall Watchdog',
  'stallWatchdog.action': 'When Stalled',
  'resources.pool': 'Resource Pool',
  'resources.type': 'Type',
  'resources.flavor': 'Specifications',
  'resources.nodes': 'Compute Nodes',
  'retry.maxAttempts': 'Automatic Retry',
  'retry.on': 'Retry On',
  'retry.on.*': 'Retry On',
  'notification.topic': 'Topic',
  'notification.events': 'Events',
  'saveConfig.name': 'Configuration Name',
  'saveConfig.description': 'Description',
};

/**
 * A field's message as the user reads it, never with the request's internal path: the schemas
 * and the server say "must be …" or "is required" after the field's name, so that name goes
 * first ("Compute Nodes must be …"); another message in lower case gets the name as a heading
 * ("Topic: unknown topic …"), and without a known name a capital.
 */
export function fieldMessage(path: string, message: string): string {
  const first = message.charAt(0);
  if (first === '' || first !== first.toLowerCase()) return message;
  const label = LABELS[path.replace(/\.\d+(?=\.|$)/g, '.*')];
  if (!label) return `${first.toUpperCase()}${message.slice(1)}`;
  return /^(is|are|must|needs?|cannot|may|has|have)\b/.test(message) ? `${label} ${message}` : `${label}: ${message}`;
}

/** Most nodes of the chosen flavor the chosen pool could hold with nothing else running; null if not known. */
export function mostNodes(values: WizardValues, pools: readonly ResourcePool[]): { most: number; pool: ResourcePool } | null {
  const pool = pools.find((p) => p.id === values.resources.pool);
  const flavor = pool?.flavors.find((f) => f.id === values.resources.flavor);
  return pool && flavor ? { most: nodesThatFit(flavor, pool.capacity), pool } : null;
}

type Leaf = { type: string; message?: string };
const isLeaf = (v: unknown): v is Leaf => typeof v === 'object' && v !== null && typeof (v as Leaf).type === 'string';

/** Rewrites every message in an errors tree in place (fieldMessage), with the path it sits at. */
function rewrite(node: unknown, path: string, values: WizardValues): void {
  if (typeof node !== 'object' || node === null) return;
  for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'ref') continue;
    const at = key === 'root' ? path : path ? `${path}.${key}` : key;
    if (isLeaf(child) && typeof child.message === 'string') {
      // An empty path is "required", not "not a path" (the schema cannot tell them apart on '').
      const empty = child.message === OBJECT_PATH_MESSAGE && get(values, at) === '';
      child.message = fieldMessage(at, empty ? 'is required' : child.message);
    }
    if (key !== 'root') rewrite(child, at, values);
  }
}

type Result = Awaited<ReturnType<Resolver<WizardValues, unknown, CreateTrainingJobInput>>>;

/**
 * The create request's own schema is the form's validation: values are turned into the request
 * first, and the issues come back under the same paths the form uses. One rule the schema cannot
 * know is added: Compute Nodes no larger than the pool could ever hold (the server refuses that
 * job too, but only on Submit).
 */
export const wizardResolver: Resolver<WizardValues, unknown, CreateTrainingJobInput> = async (values, context, options) => {
  const result = (await requestResolver(
    toRequest(values),
    context,
    options as unknown as ResolverOptions<CreateTrainingJobInput>,
  )) as unknown as Result;
  const errors: FieldErrors<WizardValues> = { ...result.errors };
  const fit = mostNodes(values, (context as WizardContext | undefined)?.pools ?? []);
  const nodes = values.resources.nodes;
  if (fit && typeof nodes === 'number' && nodes > fit.most && !get(errors, 'resources.nodes') && !get(errors, 'resources.flavor')) {
    const { most, pool } = fit;
    const room = `pool ${pool.name} has ${pool.capacity.vcpus} vCPUs, ${pool.capacity.memoryGiB} GiB and ${pool.capacity.gpus} GPUs in all`;
    if (most === 0) set(errors, 'resources.flavor', { type: 'capacity', message: `needs more than ${room}; the job could never start` });
    else set(errors, 'resources.nodes', { type: 'capacity', message: `must be at most ${most}: ${room}, room for ${most} of this flavor` });
  }
  // Adding an environment row validates the whole list (react-hook-form's field-array rule): a
  // row not typed into yet is not an error until Next or Submit asks for the step.
  const names = (options as { names?: readonly string[] } | undefined)?.names;
  if (names?.length === 1 && names[0] === 'env' && Array.isArray(errors.env)) {
    values.env.forEach((row, i) => {
      if (row.name === '' && row.value === '' && Array.isArray(errors.env)) delete errors.env[i];
    });
    if (errors.env.every((e) => e === undefined) && !('root' in errors.env)) delete errors.env;
  }
  // Likewise a metric row just added.
  if (names?.length === 1 && names[0] === 'metrics' && Array.isArray(errors.metrics)) {
    values.metrics.forEach((row, i) => {
      if (row.name === '' && row.regex === '' && Array.isArray(errors.metrics)) delete errors.metrics[i];
    });
    if (errors.metrics.every((e) => e === undefined) && !('root' in errors.metrics)) delete errors.metrics;
  }
  rewrite(errors, '', values);
  if (Object.keys(errors).length === 0) return result;
  return { values: {}, errors };
};
