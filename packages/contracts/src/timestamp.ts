import { z } from 'zod';

/** ISO 8601 instants as `Date#toISOString()` writes them; offsets are accepted from other writers. */
export const Timestamp = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof Timestamp>;
