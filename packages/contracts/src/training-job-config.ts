import { z } from 'zod';
import { JobDescription, JobName, JobVersion, SaveConfig, TrainingJobSpec, withOutputOutsideData } from './training-job.js';
import { Timestamp } from './timestamp.js';

/** The same rules as `saveConfig` in a create request, so both ways of saving agree. */
export const TrainingJobConfigName = SaveConfig.shape.name;
export const TrainingJobConfigDescription = SaveConfig.shape.description.unwrap();

/**
 * A saved parameter set: everything a create request carries except the job's name (each job
 * created from it gets its own) and `saveConfig` (saving is what made it). Unrefined, so a
 * stored set checked on the way out never turns into a 500 when a rule is added later.
 */
export const TrainingJobParametersShape = TrainingJobSpec.omit({ name: true, saveConfig: true });

/** With the create request's cross-field rule, so a set that saves is a set that submits. */
export const TrainingJobParameters = withOutputOutsideData(TrainingJobParametersShape);
export type TrainingJobParameters = z.infer<typeof TrainingJobParametersShape>;

export const TrainingJobConfig = z.object({
  name: TrainingJobConfigName,
  description: z.string().nullable(),
  parameters: TrainingJobParametersShape,
  /** The job whose create saved this set; kept as text, so deleting that job leaves the set alone. */
  sourceJob: z.object({ name: JobName, version: JobVersion }).nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type TrainingJobConfig = z.infer<typeof TrainingJobConfig>;

export const TrainingJobConfigList = z.object({
  items: z.array(TrainingJobConfig),
  total: z.int().min(0),
});
export type TrainingJobConfigList = z.infer<typeof TrainingJobConfigList>;

export const CreateTrainingJobConfigRequest = z.object({
  name: TrainingJobConfigName,
  description: TrainingJobConfigDescription.optional(),
  parameters: TrainingJobParameters,
});
export type CreateTrainingJobConfigRequest = z.infer<typeof CreateTrainingJobConfigRequest>;

/** A PUT replaces description and parameters; the name stays, as in ModelArts. */
export const UpdateTrainingJobConfigRequest = z.object({
  description: TrainingJobConfigDescription.optional(),
  parameters: TrainingJobParameters,
});
export type UpdateTrainingJobConfigRequest = z.infer<typeof UpdateTrainingJobConfigRequest>;

/** `name` is a substring filter, so it is not held to the name rules. */
export const ListTrainingJobConfigsQuery = z.object({
  name: z.string().max(64).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListTrainingJobConfigsQuery = z.infer<typeof ListTrainingJobConfigsQuery>;

export const TrainingJobConfigParams = z.object({ name: TrainingJobConfigName });
export type TrainingJobConfigParams = z.infer<typeof TrainingJobConfigParams>;

/** The saved parameters with a new job's name; the job's description defaults to the saved one. */
export const CreateJobFromConfigRequest = z.object({
  jobName: JobName,
  description: JobDescription.optional(),
});
export type CreateJobFromConfigRequest = z.infer<typeof CreateJobFromConfigRequest>;
