import { z } from 'zod';

export const RESOURCE_TYPES = ['CPU', 'GPU'] as const;
export const ResourceType = z.enum(RESOURCE_TYPES, { error: 'Type must be CPU or GPU' });
export type ResourceType = z.infer<typeof ResourceType>;

/**
 * Flavors come from the operator's configuration file, so this schema also guards the boot:
 * a GPU flavor without GPUs (or a CPU flavor with some) would schedule nonsense.
 */
export const Flavor = z
  .object({
    id: z.string().min(1).max(64),
    type: ResourceType,
    vcpus: z.number().positive(),
    memoryGiB: z.number().positive(),
    gpus: z.int().min(0),
    label: z.string().max(128).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.type === 'GPU' && f.gpus < 1) ctx.addIssue({ code: 'custom', path: ['gpus'], message: 'a GPU flavor needs at least 1 GPU' });
    if (f.type === 'CPU' && f.gpus > 0) ctx.addIssue({ code: 'custom', path: ['gpus'], message: 'a CPU flavor has 0 GPUs; use type GPU' });
  });
export type Flavor = z.infer<typeof Flavor>;

export const Capacity = z.object({
  vcpus: z.number().min(0),
  memoryGiB: z.number().min(0),
  gpus: z.number().min(0),
});
export type Capacity = z.infer<typeof Capacity>;

export const ResourcePool = z.object({
  id: z.string().min(1),
  name: z.string(),
  types: z.array(ResourceType),
  flavors: z.array(Flavor),
  capacity: Capacity,
  free: Capacity,
  /** Jobs waiting in this pool for capacity. */
  queued: z.int().min(0),
});
export type ResourcePool = z.infer<typeof ResourcePool>;

export const ResourcePoolList = z.object({ items: z.array(ResourcePool) });
export type ResourcePoolList = z.infer<typeof ResourcePoolList>;
