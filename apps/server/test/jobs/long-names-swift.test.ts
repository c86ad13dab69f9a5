import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '@tc/contracts';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';

// Names over 255 characters cannot exist in the embedded store (nor MinIO); Swift, like AWS S3
// and OBS, holds them, so the reference's skip rule is tested here against a real server.
let tc: TestConsole;
let image: string;

beforeAll(async () => {
  tc = await startTestConsole('swift');
  image = await buildTestImage('user1101');
});
afterAll(async () => {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
});

async function run(name: string, dataPrefix: string): Promise<TrainingJob> {
  const res = await tc.app.inject({
    method: 'POST',
    url: '/api/v1/training-jobs',
    payload: {
      name,
      algorithm: { source: 'custom', imagePath: image, codeDir: 'obs://longnames/code/', bootCommand: 'ls /home/work/data' },
      data: { source: 'path', path: `obs://longnames/${dataPrefix}` },
      trainOutput: `obs://longnames/out/${name}/`,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return waitFor(`${name} to end`, async () => {
    const j: TrainingJob = (await tc.app.inject({ url: `/api/v1/training-jobs/${name}/versions/V001` })).json();
    return ['Successful', 'Running failed'].includes(j.status) ? j : null;
  });
}

describe('data files with names over 255 characters (Swift)', () => {
  beforeAll(async () => {
    await uploadText(tc.store, 'longnames', {
      'code/run.sh': 'true',
      [`all-long/${'a'.repeat(300)}.csv`]: '1,2',
      [`all-long/${'b'.repeat(256)}`]: '3,4',
      [`mixed/${'c'.repeat(280)}.csv`]: '5,6',
      'mixed/short.csv': '7,8',
    });
  });

  it('fails the job when every data file is skipped, saying so', async () => {
    const job = await run('all-long', 'all-long/');
    expect(job.status).toBe('Running failed');
    expect(job.reason).toMatch(/^data download failed: every data file was skipped \(2 names over 255 characters/);
    const lines = (await tc.app.inject({ url: '/api/v1/training-jobs/all-long/versions/V001/logs' }))
      .json()
      .lines.map((l: { text: string }) => l.text);
    expect(lines.filter((t: string) => t.startsWith('skipped data file with a name over 255 characters'))).toHaveLength(2);
  });

  it('skips the long names, logs them, and stages the rest', async () => {
    const job = await run('mixed', 'mixed/');
    expect(job.status, job.reason ?? '').toBe('Successful');
    expect(job.events.find((e) => e.type === 'data-download')!.message).toMatch(
      /1 file, 3 bytes; skipped 1 with names over 255 characters/,
    );
    const lines = (await tc.app.inject({ url: '/api/v1/training-jobs/mixed/versions/V001/logs' }))
      .json()
      .lines.map((l: { text: string }) => l.text);
    expect(lines).toContain('short.csv');
    expect(lines.some((t: string) => t.startsWith(`skipped data file with a name over 255 characters: ${'c'.repeat(280)}`))).toBe(true);
  });
});
