import { describe, expect, it } from 'vitest';
import { EnvVar, EnvVarList, isReservedEnvName, RESERVED_ENV_NAMES } from './env.js';
import { fieldErrorsFromZod } from './errors.js';

const errors = (rows: unknown) => {
  const r = EnvVarList.safeParse(rows);
  return r.success ? [] : fieldErrorsFromZod(r.error);
};

describe('EnvVar', () => {
  it.each(['EPOCHS', 'lr', '_x', 'A1_B2', 'a'.repeat(128)])('accepts the name %s', (name) => {
    expect(EnvVar.safeParse({ name, value: '1' }).success).toBe(true);
  });

  it.each([
    ['', /required/],
    ['1ABC', /must not start with a digit/],
    ['MY-VAR', /only letters, digits and _/],
    ['A B', /only letters, digits and _/],
    ['ÄPFEL', /only letters, digits and _/],
    ['a'.repeat(129), /at most 128/],
  ])('refuses the name %j', (name, msg) => {
    const r = EnvVar.safeParse({ name, value: '' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(msg);
  });

  it('reports only "required" for an empty name', () => {
    expect(EnvVar.safeParse({ name: '', value: '' }).error?.issues).toHaveLength(1);
  });

  it('accepts an empty value and one of 4096 characters, not longer', () => {
    expect(EnvVar.safeParse({ name: 'A', value: '' }).success).toBe(true);
    expect(EnvVar.safeParse({ name: 'A', value: 'x'.repeat(4096) }).success).toBe(true);
    expect(EnvVar.safeParse({ name: 'A', value: 'x'.repeat(4097) }).error?.issues[0]?.message).toMatch(/4096/);
  });

  it('refuses a NUL in the value', () => {
    expect(EnvVar.safeParse({ name: 'A', value: 'a\u0000b' }).success).toBe(false);
  });

  it('requires the value', () => {
    expect(EnvVar.safeParse({ name: 'A' }).error?.issues[0]?.message).toMatch(/value is required/);
  });
});

describe('reserved names', () => {
  it.each([...RESERVED_ENV_NAMES, 'BATCH_CUSTOM0_HOSTS', 'BATCH_CUSTOM3_HOSTS', 'BATCH_CUSTOM15_HOSTS'])('refuses %s', (name) => {
    expect(isReservedEnvName(name)).toBe(true);
    expect(EnvVar.safeParse({ name, value: 'x' }).error?.issues[0]?.message).toBe(
      `${name} is set by the platform and cannot be overridden`,
    );
  });

  it.each(['rank', 'BATCH_CUSTOM_HOSTS', 'BATCH_CUSTOMX_HOSTS', 'BATCH_CUSTOM1_HOSTS_X', 'MY_RANK', 'DLS_OTHER'])('allows %s', (name) => {
    expect(isReservedEnvName(name)).toBe(false);
    expect(EnvVar.safeParse({ name, value: 'x' }).success).toBe(true);
  });
});

describe('EnvVarList', () => {
  it('accepts distinct names and an empty list', () => {
    expect(errors([])).toEqual([]);
    expect(
      errors([
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
        { name: 'a', value: '3' },
      ]),
    ).toEqual([]);
  });

  it('puts a duplicate on the later row, naming the first', () => {
    expect(
      errors([
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
        { name: 'A', value: '3' },
        { name: 'A', value: '4' },
      ]),
    ).toEqual([
      { path: '2.name', message: 'A is already defined in row 1' },
      { path: '3.name', message: 'A is already defined in row 1' },
    ]);
  });

  it('reports duplicates together with other row errors', () => {
    expect(
      errors([{ name: 'A', value: '1' }, { name: '9', value: '2' }, { name: 'A', value: '3' }, { value: '4' }]).map((e) => e.path),
    ).toEqual(['1.name', '3.name', '2.name']);
  });
});
