import type { CreateTrainingJobInput, TrainingJobConfig, TrainingJobParameters, TrainingJobSpec } from '@tc/contracts';
import { toFormValues } from '../training-jobs/wizard/toFormValues';
import type { WizardValues } from '../training-jobs/wizard/values';

/**
 * The wizard checks a whole create request, which needs a job name; a parameter set has none, so
 * its form carries this stand-in (a valid name, never sent) and the set's own name and description
 * ride in `saveConfig`, checked by the same rules a save from the wizard meets.
 */
export const STAND_IN_JOB_NAME = 'parameter-set';

/** A saved set → the wizard's values, its name fixed in `saveConfig.name`. */
export function parameterSetValues(config: TrainingJobConfig): WizardValues {
  return {
    ...toFormValues(config.parameters, STAND_IN_JOB_NAME),
    saveConfig: { enabled: true, name: config.name, description: config.description ?? '' },
  };
}

/** The checked create request → the PUT body: the set's description and its parameters. */
export function toUpdateRequest(request: CreateTrainingJobInput): { description?: string; parameters: TrainingJobParameters } {
  const { name: _standIn, saveConfig, ...parameters } = request;
  return { description: saveConfig?.description, parameters };
}

/** A job's spec → the parameters a set saves (its name and the save choice are not parameters). */
export function parametersOfJob(spec: TrainingJobSpec): TrainingJobParameters {
  const { name: _name, saveConfig: _save, ...parameters } = spec;
  return parameters;
}

/** A server field error on the PUT (`parameters.env.0.value`, `description`) → the form's path. */
export function formPathOfServerField(path: string): string {
  if (path === 'description') return 'saveConfig.description';
  return path.startsWith('parameters.') ? path.slice('parameters.'.length) : path;
}
