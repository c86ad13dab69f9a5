import type { FieldPath, Resolver, ResolverOptions } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { CreateTrainingJobRequest, type CreateTrainingJobInput, type NotificationEvent, type ResourceType } from '@tc/contracts';
import { toRequest } from './toRequest';

/**
 * What the wizard's controls hold. It mirrors the create request field for field, so the
 * request's own validation errors (`data.path`, `env.0.name`, `resources.flavor`) name form
 * fields as they are; the differences are only what a form needs: both data sources kept while
 * the user switches, text where the request has "absent", and the "save parameters" switch.
 */
export interface WizardValues {
  name: string;
  description: string;
  algorithm: { source: 'custom'; imagePath: string; codeDir: string; bootCommand: string };
  data: { source: 'path' | 'dataset'; path: string; datasetId: string; version: string };
  trainOutput: string;
  /** secret: the container gets the value, but no page shows it again once submitted. */
  env: { name: string; value: string; secret?: boolean }[];
  logPath: string;
  /** '' = no limit. */
  maxRuntimeMinutes: number | '';
  resources: { pool: string; type: ResourceType; flavor: string; nodes: number | '' };
  /** topic '' = no notification. */
  notification: { topic: string; events: NotificationEvent[] };
  saveConfig: { enabled: boolean; name: string; description: string };
}

export const EMPTY_VALUES: WizardValues = {
  name: '',
  description: '',
  algorithm: { source: 'custom', imagePath: '', codeDir: '', bootCommand: '' },
  data: { source: 'path', path: '', datasetId: '', version: '' },
  trainOutput: '',
  env: [],
  logPath: '',
  maxRuntimeMinutes: '',
  resources: { pool: '', type: 'CPU', flavor: '', nodes: 1 },
  notification: { topic: '', events: [] },
  saveConfig: { enabled: false, name: '', description: '' },
};

export const STEPS = [
  { key: 'basic', label: 'Basic information', fields: ['name', 'description'] },
  { key: 'params', label: 'Job parameters', fields: ['algorithm', 'data', 'trainOutput', 'env', 'logPath', 'maxRuntimeMinutes'] },
  { key: 'resources', label: 'Resources', fields: ['resources'] },
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

/**
 * The create request's own schema is the form's only validation: values are turned into the
 * request first, and the issues come back under the same paths the form uses.
 */
export const wizardResolver: Resolver<WizardValues, unknown, CreateTrainingJobInput> = async (values, context, options) => {
  const result = await requestResolver(toRequest(values), context, options as unknown as ResolverOptions<CreateTrainingJobInput>);
  return result as unknown as Awaited<ReturnType<Resolver<WizardValues, unknown, CreateTrainingJobInput>>>;
};
