import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '@tc/contracts';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { removeAgent } from '../../src/engine/docker/docker-node-agent.js';
import { buildTestImage, removeTestContainers, removeTestImages, testDocker } from '../support/images.js';
import { readObject, uploadText, waitFor } from '../support/console.js';
import { jobRequest, consoleLabel } from '../support/jobs.js';
import { ServerProcess, storeEnv } from '../support/server-process.js';

/**
 * The server as its own process (what `npm start` runs), killed with SIGKILL mid-run and started
 * again over the same data folder. The object store lives outside it, as a production store would.
 */
let s3: EmbeddedS3;
let store: S3ObjectStore;
let dataDir: string;
let image: string;
let server: ServerProcess;

const api = <T>(method: string, url: string, body?: unknown): Promise<T> => server.api<T>(method, url, body);
const logTexts = (job: TrainingJob) => server.logLines(job);
const untilEnded = (job: TrainingJob) => server.untilStatus(job, ['Successful', 'Running failed', 'Stopped'], 120_000);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'tc-recovery-'));
  s3 = await startEmbeddedS3({
    port: 21000 + Math.floor(Math.random() * 9000),
    dir: path.join(dataDir, 's3'),
    accessKeyId: 'RECOVERYKEY',
    secretAccessKey: 'RECOVERYSECRET',
  });
  store = new S3ObjectStore(createS3Client(s3));
  image = await buildTestImage('user1101');
  await uploadText(store, 'jobs', { 'code/run.sh': 'echo hi', 'data/a.csv': 'x,y\n1,2\n' });
  server = new ServerProcess({ DATA_DIR: dataDir, ...storeEnv(s3), STOP_GRACE_SECONDS: '2' });
  await server.start();
});

afterAll(async () => {
  await server?.kill();
  await s3?.stop();
  await removeTestContainers();
  await removeTestImages();
  // The server's own agent (a SIGKILLed server leaves it, as it should).
  await removeAgent(testDocker(), readFileSync(path.join(dataDir, 'console-id'), 'utf8').trim()).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('recovery after the server is killed with SIGKILL', () => {
  it('carries a running job on: every line once, in order, and its outputs uploaded', { timeout: 180_000 }, async () => {
    // Bursts of 500 lines at full speed (many share a millisecond), then a pause: the kill lands
    // mid-stream, and the resumed follow has to skip exactly what was stored.
    const cmd = [
      'i=0',
      'while [ $i -lt 30 ]; do',
      '  seq $((i * 500 + 1)) $((i * 500 + 500)) | sed "s/^/line /"',
      '  i=$((i + 1)); sleep 0.2',
      'done',
      'echo finished > /home/work/outputs/result.txt',
    ].join('\n');
    const job = await api<TrainingJob>('POST', '/api/v1/training-jobs', jobRequest('survivor', image, cmd));
    await waitFor('some lines to be stored', async () => (await logTexts(job)).filter((l) => l.stream === 'stdout').length >= 1000);

    await server.kill();
    await server.start();

    const end = await untilEnded(job);
    expect(end.status, end.reason ?? '').toBe('Successful');
    const lines = (await logTexts(job)).filter((l) => l.stream !== 'system').map((l) => l.text);
    expect(lines.length).toBe(15_000);
    expect(lines).toEqual(Array.from({ length: 15_000 }, (_, i) => `line ${i + 1}`));
    expect(end.events.map((e) => e.type)).toEqual(expect.arrayContaining(['recovery', 'node-exited', 'output-upload', 'log-upload']));
    expect(await readObject(store, 'jobs', 'out/survivor/result.txt')).toBe('finished\n');
    const logFile = await readObject(store, 'jobs', 'logs/survivor-V001-worker-0.log');
    expect(logFile).toContain('line 15000\n');
    expect(await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${end.id}`, consoleLabel(dataDir)] } })).toEqual(
      [],
    );
  });

  it('fails a job whose container vanished while the server was down, with the reason', { timeout: 120_000 }, async () => {
    const job = await api<TrainingJob>('POST', '/api/v1/training-jobs', jobRequest('vanished', image, 'echo up; sleep 600'));
    await waitFor('the job to run', async () => (await logTexts(job)).some((l) => l.text === 'up'));
    await server.kill();
    const [c] = await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${job.id}`, consoleLabel(dataDir)] } });
    await testDocker().getContainer(c!.Id).remove({ force: true });
    await server.start();

    const end = await untilEnded(job);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toBe('recovery failed: the container of node 0 (vanished-v001-0) vanished while the server was down');
    expect((await logTexts(job)).map((l) => l.text)).toContain('up');
  });
});
