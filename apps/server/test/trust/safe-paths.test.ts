import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestImage, removeTestContainers, removeTestImages, testDocker } from '../support/images.js';
import { startTestConsole, uploadText, type TestConsole } from '../support/console.js';
import { allLogLines, ENDED, jobRequest, submit, untilStatus, consoleLabel } from '../support/jobs.js';

// Swift holds keys with `..`, `.` and empty segments as they are, like AWS S3 and OBS do, so it
// is the store where a hostile key can really reach the console.
let swift: TestConsole;
let embedded: TestConsole;
let image: string;

beforeAll(async () => {
  [swift, embedded] = await Promise.all([startTestConsole('swift'), startTestConsole('embedded')]);
  image = await buildTestImage('user1101');
  await uploadText(embedded.store, 'jobs', { 'code/run.sh': 'true', 'data/a.csv': 'x,y\n1,2\n' });
});

afterAll(async () => {
  await Promise.all([swift?.close(), embedded?.close()]);
  await removeTestContainers();
  await removeTestImages();
});

describe('object keys never write outside the job folders', () => {
  it('refuses keys with .., . or empty segments and stages the rest', async () => {
    await uploadText(swift.store, 'hostile', {
      'code/run.sh': 'true',
      'data/ok.csv': '1,2',
      'data/../../../../tmp/escaped.txt': 'escaped',
      'data/./dot.txt': 'dot',
      'data//empty.txt': 'empty',
    });
    const keys: string[] = [];
    for await (const o of swift.store.list('hostile', 'data/')) keys.push(o.key);
    // What the store really holds: the hostile keys arrived as written.
    expect(keys).toEqual(expect.arrayContaining(['data/../../../../tmp/escaped.txt', 'data/./dot.txt', 'data//empty.txt']));

    const check = 'find / -name escaped.txt -o -name dot.txt -o -name empty.txt 2>/dev/null | sed "s/^/found /"; ls /home/work/data';
    const job = await submit(swift, {
      ...jobRequest('hostile-keys', image, check),
      algorithm: { source: 'custom', imagePath: image, codeDir: 'obs://hostile/code/', bootCommand: check },
      data: { source: 'path', path: 'obs://hostile/data/' },
      trainOutput: 'obs://hostile/out/',
      logPath: undefined,
    });
    const end = await untilStatus(swift, job, ENDED);
    expect(end.status, end.reason ?? '').toBe('Successful');
    expect(end.events.find((e) => e.type === 'data-download')!.message).toMatch(/1 file, .*refused 3 unsafe keys/);
    const lines = (await allLogLines(swift, job)).map((l) => l.text);
    expect(lines).toContain('ok.csv');
    expect(lines.filter((l) => l.startsWith('found '))).toEqual([]);
  });
});

describe('links in the outputs folder are not followed', () => {
  it('uploads regular files only and names the links it left out', async () => {
    const cmd = [
      'cd /home/work/outputs',
      'echo real > real.txt',
      'ln -s /etc/passwd passwd-link',
      'ln -s .. up',
      'mkdir sub && ln -s ../../data sub/data-link',
    ].join(' && ');
    const job = await submit(embedded, jobRequest('links', image, cmd));
    const end = await untilStatus(embedded, job, ENDED);
    expect(end.status, end.reason ?? '').toBe('Successful');
    const uploaded: string[] = [];
    for await (const o of embedded.store.list('jobs', 'out/links/')) uploaded.push(o.key);
    expect(uploaded).toEqual(['out/links/real.txt']);
    expect(end.events.find((e) => e.type === 'output-upload')!.message).toMatch(
      /1 file, 5 bytes; not uploaded \(links or special files\): .*passwd-link/,
    );
  });
});

describe('containers are hardened', () => {
  it('runs unprivileged, without new privileges or capabilities, without host mounts, with limits and no network', async () => {
    const job = await submit(embedded, jobRequest('hardened', image, 'echo up; sleep 60'));
    await untilStatus(embedded, job, ['Running']);
    const [c] = await testDocker().listContainers({ filters: { label: [`tc.job-id=${job.id}`, consoleLabel(embedded.dataDir)] } });
    const info = await testDocker().getContainer(c!.Id).inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    // One mount: the job's own work folder at /home/work, nothing else of the host.
    expect(info.HostConfig.Binds).toEqual([expect.stringMatching(/\/node\/\d+-0-[0-9a-f]{8}:\/home\/work$/)]);
    expect(info.Mounts.map((m) => m.Destination)).toEqual(['/home/work']);
    expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(info.HostConfig.NanoCpus).toBeGreaterThan(0);
    expect(info.HostConfig.Memory).toBeGreaterThan(0);
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.Config.User).toBe('1101:1101');
    await embedded.app.inject({ method: 'POST', url: '/api/v1/training-jobs/hardened/versions/V001/stop' });
    await untilStatus(embedded, job, ENDED);
  });
});
