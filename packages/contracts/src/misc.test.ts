import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as contracts from './index.js';
import { ApiError, fieldErrorsFromZod, Flavor, Health, LogPage, LogsQuery, ResourcePoolList } from './index.js';

describe('fieldErrorsFromZod', () => {
  it('dot-joins nested paths and uses "" for the root', () => {
    const S = z.object({ env: z.array(z.object({ name: z.string() })) });
    expect(fieldErrorsFromZod(S.safeParse({ env: [{ name: 'a' }, { name: 1 }] }).error!)).toEqual([
      { path: 'env.1.name', message: expect.any(String) },
    ]);
    expect(fieldErrorsFromZod(S.safeParse(null).error!)).toEqual([{ path: '', message: expect.any(String) }]);
  });
  it('keeps every issue, in order', () => {
    const S = z.object({ a: z.string(), b: z.object({ c: z.number() }) });
    expect(fieldErrorsFromZod(S.safeParse({ b: { c: 'x' } }).error!).map((e) => e.path)).toEqual(['a', 'b.c']);
  });
  it('builds a valid ApiError', () => {
    const fields = fieldErrorsFromZod(z.string().safeParse(1).error!);
    expect(ApiError.safeParse({ error: 'invalid_input', message: 'bad', requestId: 'r', fields }).success).toBe(true);
    expect(ApiError.safeParse({ error: 'not_found', message: 'none' }).success).toBe(true);
  });
});

describe('LogsQuery and LogPage', () => {
  it('defaults node 0 and limit 1000, and coerces', () => {
    expect(LogsQuery.parse({})).toEqual({ node: 0, limit: 1000 });
    expect(LogsQuery.parse({ node: '2', limit: '5000', cursor: '17' })).toEqual({ node: 2, limit: 5000, cursor: '17' });
  });
  it.each([{ node: '-1' }, { limit: '0' }, { limit: '5001' }, { node: 'x' }])('refuses %j', (q) => {
    expect(LogsQuery.safeParse(q).success).toBe(false);
  });
  it('accepts a page of lines', () => {
    const line = { seq: 1, at: '2025-01-01T00:00:00.000Z', stream: 'system', text: 'image check passed' };
    expect(LogPage.safeParse({ lines: [line], nextCursor: '1', complete: false }).success).toBe(true);
    expect(LogPage.safeParse({ lines: [{ ...line, stream: 'other' }], nextCursor: '1', complete: false }).success).toBe(false);
  });
});

describe('resource pools', () => {
  const cpu = { id: 'cpu.2u8g', type: 'CPU', vcpus: 2, memoryGiB: 8, gpus: 0, label: '2 vCPUs | 8 GiB' };
  const gpu = { id: 'gpu.1', type: 'GPU', vcpus: 8, memoryGiB: 64, gpus: 1 };
  it('accepts CPU and GPU flavors', () => {
    expect(Flavor.safeParse(cpu).success).toBe(true);
    expect(Flavor.safeParse(gpu).success).toBe(true);
  });
  it.each([
    [{ ...gpu, gpus: 0 }, 'gpus'],
    [{ ...cpu, gpus: 1 }, 'gpus'],
    [{ ...cpu, vcpus: 0 }, 'vcpus'],
    [{ ...cpu, memoryGiB: -1 }, 'memoryGiB'],
    [{ ...cpu, gpus: 0.5 }, 'gpus'],
    [{ ...cpu, type: 'TPU' }, 'type'],
  ])('refuses %j', (f, path) => {
    expect(fieldErrorsFromZod(Flavor.safeParse(f).error!).map((e) => e.path)).toContain(path);
  });
  it('lists pools', () => {
    const capacity = { vcpus: 8, memoryGiB: 31.2, gpus: 0 };
    const pool = { id: 'public', name: 'Public', types: ['CPU'], flavors: [cpu], capacity, free: capacity, queued: 0 };
    expect(ResourcePoolList.safeParse({ items: [pool] }).success).toBe(true);
  });
});

describe('Health', () => {
  it('names each check', () => {
    const ok = { ok: true };
    expect(Health.safeParse({ status: 'ok', checks: { database: ok, objectStore: ok, engine: ok } }).success).toBe(true);
    expect(
      Health.safeParse({ status: 'degraded', checks: { database: ok, objectStore: { ok: false, message: 'refused' }, engine: ok } })
        .success,
    ).toBe(true);
    expect(Health.safeParse({ status: 'down', checks: { database: ok, objectStore: ok, engine: ok } }).success).toBe(false);
  });
});

describe('OpenAPI', () => {
  // The server documents the API with z.toJSONSchema; a transform or custom type would break it.
  const schemas = Object.entries(contracts as Record<string, unknown>).filter((e): e is [string, z.ZodType] => e[1] instanceof z.ZodType);

  it('finds the schemas', () => {
    expect(schemas.map(([name]) => name)).toEqual(
      expect.arrayContaining(['CreateTrainingJobRequest', 'TrainingJob', 'LogsQuery', 'ApiError']),
    );
  });

  it.each(schemas)('%s converts to JSON Schema both ways', (_, schema) => {
    expect(() => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' })).not.toThrow();
    expect(() => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'throw' })).not.toThrow();
  });

  it('carries the object-path pattern into the document', () => {
    const json = JSON.stringify(z.toJSONSchema(contracts.CreateTrainingJobRequest, { io: 'input' }));
    expect(json).toContain('trainOutput');
    expect(json).toContain('(obs|s3)');
  });

  it('the pattern in the document agrees with the schema', () => {
    const pattern = (z.toJSONSchema(contracts.ObjectPath) as { pattern: string }).pattern;
    const re = new RegExp(pattern, 'u');
    for (const s of ['obs://demo/a/', 's3://demo', 'obs://demo/../', 'obs://demo//', 'obs://ab/']) {
      expect(re.test(s), s).toBe(contracts.ObjectPath.safeParse(s).success);
    }
  });
});
