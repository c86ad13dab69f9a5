import { z } from 'zod';

export const HealthCheck = z.object({
  ok: z.boolean(),
  /** Why the dependency did not answer; absent when it did. */
  message: z.string().optional(),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

export const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.object({
    database: HealthCheck,
    objectStore: HealthCheck,
    engine: HealthCheck,
  }),
});
export type Health = z.infer<typeof Health>;
