import { z } from 'zod';
import { orEmpty } from './patterns.js';

/** Variables the platform injects into every container (PRODUCT.md, container contract). */
export const RESERVED_ENV_NAMES = [
  'DLS_TASK_INDEX',
  'DLS_TASK_NUMBER',
  'DLS_APP_URL',
  'DLS_DATA_URL',
  'DLS_TRAIN_URL',
  'MASTER_ADDR',
  'MASTER_PORT',
  'WORLD_SIZE',
  'RANK',
  'MA_JOB_NAME',
  'MA_JOB_VERSION',
  'MA_CHECKPOINT_DIR',
  'CHECKPOINT_URL',
] as const;

/** One `BATCH_CUSTOM<i>_HOSTS` per node, so the reserved set is open-ended. */
export const RESERVED_ENV_PATTERN = /^BATCH_CUSTOM\d+_HOSTS$/;

const reserved: ReadonlySet<string> = new Set(RESERVED_ENV_NAMES);

/** Case-sensitive, like the environment itself: `rank` is the user's own variable. */
export function isReservedEnvName(name: string): boolean {
  return reserved.has(name) || RESERVED_ENV_PATTERN.test(name);
}

export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const EnvName = z
  .string({ error: (iss) => (iss.input === undefined ? 'Variable name is required' : 'Variable name must be text') })
  .min(1, { error: 'Variable name is required' })
  .max(128, { error: 'Variable name must be at most 128 characters' })
  .regex(orEmpty(ENV_NAME_PATTERN), { error: 'Variable name may contain only letters, digits and _, and must not start with a digit' })
  .refine((name) => !isReservedEnvName(name), { error: (iss) => `${String(iss.input)} is set by the platform and cannot be overridden` });

export const EnvValue = z
  .string({ error: (iss) => (iss.input === undefined ? 'Variable value is required (it may be empty)' : 'Variable value must be text') })
  .max(4096, { error: 'Variable value must be at most 4096 characters' })
  // The engine passes the environment as C strings; a NUL would silently truncate the value.
  // eslint-disable-next-line no-control-regex -- NUL is exactly what this rule looks for
  .regex(/^[^\u0000]*$/, { error: 'Variable value must not contain NUL characters' });

export const EnvVar = z.object({
  name: EnvName,
  value: EnvValue,
  /** A secret (a token, a password): the container gets it, but no answer of the API shows it again. */
  secret: z.boolean().optional(),
});
export type EnvVar = z.infer<typeof EnvVar>;

/** The value every answer carries in place of a secret one. */
export const HIDDEN_SECRET_VALUE = '';

/** The env list as answers show it: secret values blanked, the rest as given. */
export function hideSecretValues<T extends { env?: EnvVar[] | undefined }>(spec: T): T {
  if (!spec.env?.some((v) => v.secret)) return spec;
  return { ...spec, env: spec.env.map((v) => (v.secret ? { ...v, value: HIDDEN_SECRET_VALUE } : v)) };
}

/**
 * An edit of a stored env list: a secret row sent back blank (as answers show it) keeps the
 * stored value of that name, so editing other fields does not erase a secret nobody can see.
 */
export function keepHiddenSecrets(incoming: EnvVar[] | undefined, stored: EnvVar[] | undefined): EnvVar[] | undefined {
  if (!incoming) return incoming;
  const before = new Map((stored ?? []).filter((v) => v.secret).map((v) => [v.name, v.value]));
  return incoming.map((v) =>
    v.secret && v.value === HIDDEN_SECRET_VALUE && before.has(v.name) ? { ...v, value: before.get(v.name)! } : v,
  );
}

/** The reference's own limit on a job's environment variables. */
export const MAX_ENV_VARS = 100;

/**
 * The list runs its duplicate check even when some rows are invalid (`when`), so a form shows
 * every problem at once; rows without a string name are skipped here and reported by EnvVar.
 */
export const EnvVarList = z
  .array(EnvVar)
  .max(MAX_ENV_VARS, { error: `at most ${MAX_ENV_VARS} environment variables per job` })
  .superRefine(
    (rows, ctx) => {
      const seen = new Map<string, number>();
      (rows as readonly unknown[]).forEach((row, i) => {
        const name = typeof row === 'object' && row !== null ? (row as { name?: unknown }).name : undefined;
        if (typeof name !== 'string' || name === '') return;
        const first = seen.get(name);
        if (first === undefined) {
          seen.set(name, i);
          return;
        }
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${name} is already defined in row ${first + 1}` });
      });
    },
    { when: (payload) => Array.isArray(payload.value) },
  );
export type EnvVarList = z.infer<typeof EnvVarList>;
