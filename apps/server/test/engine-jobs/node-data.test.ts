import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/engine/docker/docker-engine.js';
import { DockerNodeAgent } from '../../src/engine/docker/docker-node-agent.js';
import { planStaging, stageOnNode, uploadFromNode } from '../../src/engine/node-data.js';
import type { NodeTransfer } from '@tc/contracts';
import { readObject, uploadText } from '../support/console.js';
import { closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';
import type { TestConsole } from '../support/console.js';
import { TEST_LABELS } from '../support/images.js';

/**
 * The data path on the node (issue 13): code and data go from the store to the job's work folder
 * and outputs back, moved by the node agent with presigned URLs; the console only signs and reads
 * progress. Real engine, real store.
 */
let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole());
});
afterAll(async () => {
  await closeJobsConsole(tc);
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('a job on the node data path', () => {
  it('stages code and data byte for byte, owned by UID 1101, into a container that has no network', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`nd/data/part-${String(i).padStart(2, '0')}.bin`] = randomBytes(50_000).toString('base64');
    files['nd/data/nested/deeper/é ü.txt'] = 'unicode name';
    files['nd/code/run.sh'] = 'echo from-code';
    await uploadText(tc.store, 'jobs', files);
    const expected = Object.entries(files)
      .filter(([k]) => k.startsWith('nd/data/'))
      .map(([k, v]) => `${sha(v)}  ./${k.slice('nd/data/'.length)}`)
      .sort();

    const boot = [
      'sh /home/work/user-job-dir/code/run.sh',
      'cd /home/work/data && find . -type f -exec sha256sum {} + | sort > /home/work/outputs/sums.txt',
      'find /home/work -exec stat -c "%u %n" {} + | grep -v "^1101 " > /home/work/outputs/not-1101.txt; true',
      'ls /sys/class/net > /home/work/outputs/ifaces.txt',
      // The store is on the host's loopback; the job must not reach it, nor anything else.
      `if wget -q -T 3 -O /dev/null "$STORE"; then echo reached-the-store; exit 1; fi`,
    ].join('; ');
    const job = await submit(
      tc,
      jobRequest('node-data', image, boot, {
        algorithm: { source: 'custom', imagePath: image, codeDir: 'obs://jobs/nd/code/', bootCommand: boot },
        data: { source: 'path', path: 'obs://jobs/nd/data/' },
        env: [{ name: 'STORE', value: tc.storeEndpoint }],
      }),
    );
    const end = await untilStatus(tc, job, ENDED, 120_000);
    expect(end.status, end.reason ?? '').toBe('Successful');

    const out = `out/node-data/`;
    const sums = (await readObject(tc.store, 'jobs', `${out}sums.txt`)).trim().split('\n').sort();
    expect(sums).toEqual(expected);
    expect(await readObject(tc.store, 'jobs', `${out}not-1101.txt`)).toBe('');
    expect((await readObject(tc.store, 'jobs', `${out}ifaces.txt`)).trim()).toBe('lo');

    const types = end.events.map((e) => e.type);
    expect(types.indexOf('download')).toBeLessThan(types.indexOf('data-download'));
    expect(end.events.find((e) => e.type === 'download')!.message).toMatch(/code \(1 file, \d+ bytes\) and data \(41 files, \d+ bytes\)/);
    // The work folder is gone with the job.
    const nodeRoot = path.join(tc.dataDir, 'node');
    expect(existsSync(nodeRoot) ? readdirSync(nodeRoot) : []).toEqual([]);
  });

  it('uploads regular outputs and skips links, even one pointing at another folder of the node', async () => {
    const boot = [
      'mkdir -p /home/work/outputs/sub',
      'echo model > /home/work/outputs/sub/model.txt',
      'ln -s /home/work/data /home/work/outputs/data-link',
      'ln -s ../../../ /home/work/outputs/up',
    ].join(' && ');
    const job = await submit(tc, jobRequest('node-links', image, boot));
    const end = await untilStatus(tc, job, ENDED, 120_000);
    expect(end.status, end.reason ?? '').toBe('Successful');
    expect(await readObject(tc.store, 'jobs', 'out/node-links/sub/model.txt')).toBe('model\n');
    const upload = end.events.find((e) => e.type === 'output-upload')!.message;
    expect(upload).toMatch(/1 file, 6 bytes; not uploaded \(links or special files\): (data-link, up|up, data-link)/);
    const keys: string[] = [];
    for await (const o of tc.store.list('jobs', 'out/node-links/')) keys.push(o.key);
    expect(keys).toEqual(['out/node-links/sub/model.txt']);
  });
});

describe('the console side of the node data path', () => {
  it('hands the agent signed URLs, never the store credentials', async () => {
    await uploadText(tc.store, 'jobs', { 'cred/a.txt': 'A', 'cred/b/c.txt': 'C' });
    const plan = await planStaging(tc.store, 'jobs', 'cred/', 'data');
    expect(plan.files.map((f) => f.path).sort()).toEqual(['data/a.txt', 'data/b/c.txt']);
    const text = JSON.stringify(plan);
    expect(text).not.toContain('TESTSECRET');
    expect(plan.files.every((f) => /X-Amz-Signature=/.test(f.url) && /X-Amz-Expires=900/.test(f.url))).toBe(true);
    // A URL reads its own object and nothing else.
    const a = plan.files.find((f) => f.path === 'data/a.txt')!;
    expect(await (await fetch(a.url)).text()).toBe('A');
    expect((await fetch(a.url.replace('/cred/a.txt', '/cred/b/c.txt'))).status).toBe(403);
  });

  it('uploads a file larger than one PUT in parts, and reports upload progress with totals', async () => {
    const agent = new DockerNodeAgent(createDockerClient(), {
      consoleId: `nd-${TEST_LABELS['tc.test.run']}`,
      nodeRoot: path.join(tc.dataDir, 'direct-node'),
      labels: { ...TEST_LABELS },
    });
    await agent.ensure();
    const dir = 'direct-1';
    await stageOnNode(
      agent,
      dir,
      ['outputs'],
      [],
      () => undefined,
      () => undefined,
    );
    const big = randomBytes(12 * 1024 * 1024 + 123);
    mkdirSync(path.join(agent.hostPath(dir), 'outputs', 'm'), { recursive: true });
    writeFileSync(path.join(agent.hostPath(dir), 'outputs', 'm', 'big.bin'), big);
    writeFileSync(path.join(agent.hostPath(dir), 'outputs', 'small.txt'), 'small');
    const seen: NodeTransfer[] = [];
    const r = await uploadFromNode(agent, tc.store, `${dir}/outputs`, 'jobs', 'direct/', (t) => seen.push(t), {
      singlePutMax: 5 * 1024 * 1024,
      partSize: 5 * 1024 * 1024,
    });
    expect(r).toMatchObject({ files: 2, bytes: big.length + 5, skipped: [], refused: [] });
    const stream = await tc.store.getStream('jobs', 'direct/m/big.bin');
    const h = createHash('sha256');
    for await (const c of stream) h.update(c as Buffer);
    expect(h.digest('hex')).toBe(sha(big));
    expect(seen[0]).toMatchObject({ step: 'upload', files: 0, filesTotal: 2, bytesTotal: big.length + 5, done: false });
    expect(seen.at(-1)).toEqual({ step: 'upload', files: 2, filesTotal: 2, bytes: big.length + 5, bytesTotal: big.length + 5, done: true });
    await agent.run({ command: 'remove', input: { root: agent.agentPath(dir) } }, () => undefined);
    expect(existsSync(agent.hostPath(dir))).toBe(false);
  });
});
