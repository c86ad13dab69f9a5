import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { PassThrough, Readable, Transform } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '@tc/contracts';
import { registerErrorHandler } from '../../src/http/error-handler.js';
import { trainingJobOutputRoutes } from '../../src/http/training-job-outputs.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { waitFor, type TestConsole } from '../support/console.js';
import { createUser } from '../support/accounts.js';
import { closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let job: TrainingJob;
const model = randomBytes(300_000);

beforeAll(async () => {
  const started = await startJobsConsole();
  tc = started.tc;
  job = await submit(tc, jobRequest('outputs-api', started.image, 'true'));
  await untilStatus(tc, job, ENDED);
  // Written after the run, so the bytes are known exactly; the job's own upload is covered elsewhere.
  await tc.store.upload('jobs', 'out/outputs-api/model.bin', model);
  await tc.store.upload('jobs', 'out/outputs-api/ckpt/step 1.txt', Buffer.from('one\n'));
  await tc.store.upload('jobs', 'out/outputs-api/ckpt/', Buffer.alloc(0), 'application/x-directory');
  await tc.store.upload('jobs', 'out/outputs-api-other/secret.txt', Buffer.from('not this job'));
  await tc.store.upload('jobs', 'out/outputs-api/metrics.csv', csv);
  await tc.store.upload('jobs', 'out/outputs-api/report.html', Buffer.from(html), 'text/html');
});

/** 100,000 rows of about 20 bytes: well past the 64 KiB a preview shows. */
const csv = Buffer.from(['step,loss', ...Array.from({ length: 100_000 }, (_, i) => `${i},${(1 / (i + 1)).toFixed(8)}`)].join('\n'));
const html = '<html><body><script>fetch("/api/v1/account")</script></body></html>';

/** name → bytes of every file in the tar. */
async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([bytes]).pipe(extract);
  await done;
  return files;
}
afterAll(async () => {
  await closeJobsConsole(tc);
});

const base = '/api/v1/training-jobs/outputs-api/versions/V001/outputs';

describe('GET /training-jobs/{name}/versions/{version}/outputs', () => {
  it('lists the files below the Training Output Path, keys relative to it, without folder markers', async () => {
    const res = await tc.app.inject({ url: base });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      path: 'obs://jobs/out/outputs-api/',
      items: [
        { key: 'ckpt/step 1.txt', size: 4, modified: expect.any(String) },
        { key: 'metrics.csv', size: csv.length, modified: expect.any(String) },
        { key: 'model.bin', size: model.length, modified: expect.any(String) },
        { key: 'report.html', size: html.length, modified: expect.any(String) },
      ],
    });
    expect(Number.isNaN(Date.parse(res.json().items[0].modified))).toBe(false);
  });

  it('streams one file byte for byte, nested keys included', async () => {
    const res = await tc.app.inject({ url: `${base}/model.bin` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.rawPayload.equals(model)).toBe(true);
    const nested = await tc.app.inject({ url: `${base}/ckpt/step%201.txt` });
    expect(nested.statusCode, nested.body).toBe(200);
    expect(nested.body).toBe('one\n');
  });

  it('downloads an .html output as a never-sniffed attachment, so it cannot run in the console origin', async () => {
    const res = await tc.app.inject({ url: `${base}/report.html` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-disposition']).toBe("attachment; filename*=UTF-8''report.html");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toMatch(/sandbox/);
    expect(res.body).toBe(html);
  });

  it('previews a text file: the first 64 KiB as text/plain, saying it was cut', async () => {
    const res = await tc.app.inject({ url: `${base}/metrics.csv?preview=1` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['x-preview-truncated']).toBe('true');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-disposition']).toBeUndefined();
    expect(res.rawPayload.equals(csv.subarray(0, 64 * 1024))).toBe(true);
    const whole = await tc.app.inject({ url: `${base}/ckpt/step%201.txt?preview=1` });
    expect(whole.headers['x-preview-truncated']).toBe('false');
    expect(whole.body).toBe('one\n');
  });

  it('refuses to preview what is not text, and an .html output is not text', async () => {
    for (const key of ['model.bin', 'report.html']) {
      const res = await tc.app.inject({ url: `${base}/${key}?preview=1` });
      expect(res.statusCode, key).toBe(415);
      expect(res.json().message).toMatch(new RegExp(`${key.replace('.', '\\.')} is not a text file the console previews \\(\\.txt`));
    }
  });

  it('streams every output as one tar, each file byte for byte, folder markers and other jobs left out', async () => {
    const res = await tc.app.inject({ url: `${base}.tar` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-tar');
    expect(res.headers['content-disposition']).toBe('attachment; filename="outputs-api-V001-outputs.tar"');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const files = await untar(res.rawPayload);
    expect([...files.keys()]).toEqual(['ckpt/step 1.txt', 'metrics.csv', 'model.bin', 'report.html']);
    expect(files.get('model.bin')?.equals(model)).toBe(true);
    expect(files.get('metrics.csv')?.equals(csv)).toBe(true);
    expect(files.get('ckpt/step 1.txt')?.toString()).toBe('one\n');
    expect(files.get('report.html')?.toString()).toBe(html);
  });

  it('refuses keys that would leave the output path, and names missing files', async () => {
    const up = await tc.app.inject({ url: `${base}/..%2F..%2Fout%2Foutputs-api-other%2Fsecret.txt` });
    expect(up.statusCode, up.body).toBe(400);
    expect(up.json().message).toMatch(/Output key/);
    const missing = await tc.app.inject({ url: `${base}/nope.bin` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toMatch(/output nope\.bin of outputs-api V001 does not exist/);
  });

  it("hides another user's job outputs as if the job did not exist", async () => {
    const token = await createUser(tc.app, tc.adminToken, 'outputs-stranger');
    const headers = { authorization: `Bearer ${token}` };
    expect((await tc.app.inject({ url: base, headers })).statusCode).toBe(404);
    expect((await tc.app.inject({ url: `${base}/model.bin`, headers })).statusCode).toBe(404);
    expect((await tc.app.inject({ url: `${base}/metrics.csv?preview=1`, headers })).statusCode).toBe(404);
    expect((await tc.app.inject({ url: `${base}.tar`, headers })).statusCode).toBe(404);
    expect((await tc.anonymous({ url: `${base}/model.bin` })).statusCode).toBe(401);
    expect((await tc.anonymous({ url: `${base}.tar` })).statusCode).toBe(401);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = tc.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/v1/training-jobs/{name}/versions/{version}/outputs']?.get).toBeTruthy();
    expect(doc.paths['/api/v1/training-jobs/{name}/versions/{version}/outputs.tar']?.get).toBeTruthy();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/api/v1/training-jobs/{name}/versions/{version}/outputs/'))).toBe(true);
  });
});

/**
 * The routes alone over the real store, with faults put into what it answers: a body that breaks
 * part way, and a cap of two files, so neither needs a store that misbehaves or 100,000 objects.
 */
describe('the output archive when the store fails or the outputs are too many', () => {
  let app: FastifyInstance;
  let url: string;
  let fault: 'break' | 'stall' = 'break';
  let stalled: PassThrough | undefined;

  beforeAll(async () => {
    const breaking: Pick<ObjectStore, 'list' | 'getStream'> = {
      list: (bucket, prefix) => tc.store.list(bucket, prefix),
      async getStream(bucket, key, expect) {
        const body = await tc.store.getStream(bucket, key, expect);
        if (fault === 'stall') {
          // A store that sends the first byte of the first file (ckpt/step 1.txt), then nothing more.
          body.destroy();
          stalled = new PassThrough();
          stalled.write('o');
          return stalled;
        }
        if (!key.endsWith('model.bin')) return body;
        // 100 KB of the model arrive, then the store's connection breaks.
        let passed = 0;
        return body.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, done) {
              passed += chunk.length;
              if (passed > 100_000) done(new Error('connection reset by the store'));
              else done(null, chunk);
            },
          }),
        );
      },
    };
    app = Fastify({ logger: false });
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    registerErrorHandler(app);
    app.decorateRequest('actor', null);
    app.addHook('onRequest', async (req) => {
      req.actor = { userId: 1, username: 'admin', admin: true };
    });
    await app.register(trainingJobOutputRoutes({ get: () => job }, breaking, { maxArchiveEntries: 4 }), { prefix: '/api/v1' });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('cuts the download short when the store fails part way, rather than hang or look whole', async () => {
    const got = await new Promise<{ status: number; bytes: number; complete: boolean }>((resolve, reject) => {
      http
        .get(`${url}${base}.tar`, (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('close', () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
        })
        .on('error', reject);
    });
    expect(got.status).toBe(200);
    expect(got.complete).toBe(false);
    // Up to the break: the two files before model.bin are there, the model is not whole.
    expect(got.bytes).toBeLessThan(csv.length + model.length);
  });

  it('lets go of the file being read when the client goes away', async () => {
    fault = 'stall';
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${url}${base}.tar`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      await waitFor('the stalled store stream to be destroyed', async () => stalled?.destroyed, 10_000);
    } finally {
      fault = 'break';
    }
  });

  it('refuses more files than an archive holds with a 413 naming the limit', async () => {
    await tc.store.upload('jobs', 'out/outputs-api/zz-fifth.txt', Buffer.from('five'));
    try {
      const res = await app.inject({ url: `${base}.tar` });
      expect(res.statusCode, res.body).toBe(413);
      expect(res.json()).toMatchObject({
        error: 'too_many_files',
        message: expect.stringMatching(/^outputs-api V001 has more than 4 output files, the most one archive holds/),
      });
    } finally {
      await tc.store.deleteObject('jobs', 'out/outputs-api/zz-fifth.txt');
    }
  });
});
