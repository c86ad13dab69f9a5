import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestConsole } from '../support/console.js';
import { ENDED, jobRequest, untilStatus, startJobsConsole, closeJobsConsole } from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole());
});

afterAll(() => closeJobsConsole(tc));

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: payload as Record<string, unknown>, headers });

describe('idempotent submit', () => {
  it('returns the first job for a repeated key and creates nothing more, even when the repeats race', async () => {
    const body = jobRequest('idem', image, 'echo once');
    const first = await post(body, { 'idempotency-key': 'wizard-123' });
    expect(first.statusCode).toBe(201);
    const repeats = await Promise.all(Array.from({ length: 5 }, () => post(body, { 'idempotency-key': 'wizard-123' })));
    for (const r of repeats) {
      expect(r.statusCode).toBe(201);
      expect(r.json()).toMatchObject({ name: 'idem', version: 'V001', id: first.json().id });
    }
    const list = (await tc.app.inject({ url: '/api/v1/training-jobs?name=idem' })).json();
    expect(list.total).toBe(1);

    // A new key is a new job; the old key with another body is refused.
    expect((await post(body, { 'idempotency-key': 'wizard-124' })).json().version).toBe('V002');
    const other = await post({ ...body, description: 'changed' }, { 'idempotency-key': 'wizard-123' });
    expect(other.statusCode).toBe(409);
    expect(other.json().message).toMatch(/Idempotency-Key was already used with a different request/);
    await untilStatus(tc, { name: 'idem', version: 'V002' }, ENDED);
  });

  it('makes one job from concurrent first requests with one key', async () => {
    const body = jobRequest('idem-race', image, 'true');
    const results = await Promise.all(Array.from({ length: 8 }, () => post(body, { 'idempotency-key': 'race-1' })));
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    expect((await tc.app.inject({ url: '/api/v1/training-jobs?name=idem-race' })).json().total).toBe(1);
    await untilStatus(tc, { name: 'idem-race', version: 'V001' }, ENDED);
  });

  it('refuses a malformed key, naming the header', async () => {
    const res = await post(jobRequest('idem-bad', image, 'true'), { 'idempotency-key': 'has space' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields[0]).toMatchObject({ path: 'idempotency-key', message: expect.stringMatching(/visible ASCII/) });
  });
});

describe('security headers and limits', () => {
  it('sends security headers on the API and the console', async () => {
    for (const url of ['/api/health', '/']) {
      const res = await tc.app.inject({ url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
    }
  });

  it('refuses a body over the size limit with a 413', async () => {
    const res = await post({ ...jobRequest('huge', image, 'true'), description: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.statusCode).toBe(413);
  });
});

describe('malformed create payloads', () => {
  it('never answers 5xx to 1,000 generated payloads, and every 4xx names a field', async () => {
    const valid = jobRequest('fuzz', image, 'true');
    // Valid requests with one part replaced by arbitrary JSON, plus arbitrary JSON values.
    const keys = [
      'name',
      'description',
      'algorithm',
      'data',
      'trainOutput',
      'env',
      'logPath',
      'resources',
      'maxRuntimeMinutes',
      'notification',
    ];
    const mutated = fc
      .record({ key: fc.constantFrom(...keys), value: fc.jsonValue() })
      .map(({ key, value }) => ({ ...valid, [key]: value }));
    const nested = fc
      .record({ key: fc.constantFrom('imagePath', 'codeDir', 'bootCommand', 'source'), value: fc.jsonValue() })
      .map(({ key, value }) => ({ ...valid, algorithm: { ...(valid.algorithm as object), [key]: value } }));
    const payload = fc.oneof(mutated, nested, fc.jsonValue());
    const seen: number[] = [];
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        const res = await tc.app.inject({
          method: 'POST',
          url: '/api/v1/training-jobs',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(p),
        });
        seen.push(res.statusCode);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400) {
          const body = res.json();
          expect(body.fields?.length ?? 0, res.body).toBeGreaterThan(0);
          for (const f of body.fields) expect(typeof f.message).toBe('string');
        }
      }),
      { numRuns: 1000, seed: 20261129 },
    );
    expect(seen.filter((s) => s === 400).length).toBeGreaterThan(900);
    await tc.app.runner.idle();
  }, 240_000);
});
