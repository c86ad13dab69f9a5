import type { FieldPath, Resolver, ResolverOptions } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { CreateTrainingJobRequest, type CreateTrainingJobInput } from '@tc/contracts';
import { toRequest } from './toRequest';
import type { WizardValues } from './values';

export const STEPS = [
  { key: 'basic', label: 'Basic information', fields: ['name', 'description'] },
  {
    key: 'params',
    label: 'Job parameters',
    fields: ['algorithm', 'data', 'trainOutput', 'env', 'logPath', 'maxRuntimeMinutes', 'stallWatchdog'],
  },
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
