import type { TrainingJobParameters } from '@tc/contracts';

/** A saved parameter set as the domain sees it. */
export interface ParameterSetRecord {
  name: string;
  description: string | null;
  parameters: TrainingJobParameters;
  sourceJob: { name: string; version: string } | null;
  createdAt: string;
  updatedAt: string;
  ownerId: number | null;
}
