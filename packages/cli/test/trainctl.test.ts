import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestConsole } from '../../../apps/server/test/support/console.js';
import { closeJobsConsole, startJobsConsole } from '../../../apps/server/test/support/jobs.js';
import { main } from '../src/main.js';
import type { Io } from '../src/io.js';

const BIN = fileURLToPath(new URL('../bin/trainctl.mjs', import.meta.url));

let tc: TestConsole;
let image: string;
let url: string;
let work: string;

beforeAll(async () => {
  // A retry waits out a 1 s backoff rather than the default 30 s.
  ({ tc, image } = await startJobsConsole({ RETRY_BACKOFF_SECONDS: '1' }));
  // The CLI talks HTTP like any client, so the test console listens on a real port.
  await tc.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(tc.app.server.address() as AddressInfo).port}`;
  work = mkdtempSync(path.join(os.tmpdir(), 'trainctl-test-'));
});
afterAll(async () => {
  await closeJobsConsole(tc);
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a user with no saved login and no colours; each test adds what it needs. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: mkdtempSync(path.join(os.tmpdir(), 'trainctl-cfg-')), NO_COLOR: '1' };
  delete env.TRAINCTL_URL;
  delete env.TRAINCTL_TOKEN;
  return { ...env, ...extra };
}

function signedIn(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return baseEnv({ TRAINCTL_URL: url, TRAINCTL_TOKEN: tc.adminToken, ...extra });
}

/** The CLI in this process: same code as the binary, captured output. */
async function trainctl(args: string[], env: NodeJS.ProcessEnv = signedIn(), stdin = ''): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([stdin]),
    env,
    cwd: work,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** The real binary as a child process, as a user or CI runs it. */
function trainctlProcess(args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function jobFile(name: string, bootCommand: string, extra = ''): string {
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(
    file,
    `# written by the test, comments allowed
name: ${name}
algorithm:
  source: custom
  imagePath: \${TEST_IMAGE}   # from the environment
  codeDir: obs://jobs/code/
  bootCommand: '${bootCommand}'
data:
  source: path
  path: obs://jobs/data/
trainOutput: obs://jobs/out/${name}/
logPath: obs://jobs/logs/
env:
  - name: EPOCHS
    value: "10"
${extra}`,
  );
  return file;
}

async function readBytes(bucket: string, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await tc.store.getStream(bucket, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('trainctl run', () => {
  it('submits a job file, follows its log to Successful and exits 0 (the binary, as a child process)', async () => {
    const file = jobFile('cli-ok', 'echo "epochs=$EPOCHS"; echo finished');
    const r = await trainctlProcess(['run', file, '--set', 'env.EPOCHS=30', '--follow'], signedIn({ TEST_IMAGE: image }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('cli-ok/V001');
    expect(r.stdout).toContain('epochs=30');
    expect(r.stdout).toContain('finished');
    expect(r.stderr).toContain('cli-ok/V001 Successful');

    const got = await trainctl(['get', 'cli-ok', '-o', 'json']);
    expect(got.code, got.stderr).toBe(0);
    const job = JSON.parse(got.stdout) as { version: string; status: string; spec: { env: { name: string; value: string }[] } };
    expect(job).toMatchObject({ version: 'V001', status: 'Successful' });
    expect(job.spec.env).toEqual([{ name: 'EPOCHS', value: '30' }]);

    const ls = await trainctl(['ls', '--name', 'cli-ok']);
    expect(ls.stdout).toMatch(/^NAME\s+VERSION\s+STATUS/);
    expect(ls.stdout).toMatch(/cli-ok\s+V001\s+Successful/);
  });

  it("exits non-zero with the failing job's reason on stderr", async () => {
    const file = jobFile('cli-fail', 'echo about to fail; exit 3');
    const r = await trainctl(['run', file, '-f'], signedIn({ TEST_IMAGE: image }));
    expect(r.code).toBe(8);
    expect(r.stdout).toContain('about to fail');
    expect(r.stderr).toContain('cli-fail/V001 Running failed: training failed: boot command exited with code 3');
  });

  it('reruns a stored spec as the next version with an override', async () => {
    const r = await trainctl(['rerun', 'cli-ok/V001', '--set', 'env.EPOCHS=40', '-f']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('cli-ok/V002');
    expect(r.stdout).toContain('epochs=40');
  });
});

describe('trainctl on a retried job', () => {
  it("reads one attempt's log with --attempt, the latest by default, and lists the attempts", async () => {
    const file = jobFile('cli-retry', 'echo "this run exits 4"; exit 4', 'retry:\n  maxAttempts: 1\n  on: [user]\n');
    const r = await trainctl(['run', file, '-f'], signedIn({ TEST_IMAGE: image }));
    expect(r.code).toBe(8);
    // Followed through the retry: both attempts' lines, in order.
    expect(r.stdout.indexOf('attempt 1 of 2')).toBeGreaterThan(-1);
    expect(r.stdout.indexOf('attempt 2 of 2')).toBeGreaterThan(r.stdout.indexOf('attempt 1 of 2'));

    const latest = await trainctl(['logs', 'cli-retry']);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toContain('attempt 2 of 2');
    expect(latest.stdout).not.toContain('attempt 1 of 2');
    const first = await trainctl(['logs', 'cli-retry/V001', '--attempt', '1']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('attempt 1 of 2');
    expect(first.stdout).toContain('this run exits 4');
    expect(first.stdout).not.toContain('attempt 2 of 2');

    const none = await trainctl(['logs', 'cli-retry', '--attempt', '3']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/attempt/);
    const bad = await trainctl(['logs', 'cli-retry', '--attempt', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--attempt');

    const got = await trainctl(['get', 'cli-retry']);
    expect(got.stdout).toMatch(/Reason\s+training failed: boot command exited with code 4.* \(user\)/);
    expect(got.stdout).toContain('Attempts (2 of 2)');
    expect(got.stdout).toMatch(/^ {2}1 {2}Running failed .* \(user\)$/m);
    expect(got.stdout).toMatch(/^ {2}2 {2}Running failed /m);
  });
});

describe('trainctl validate', () => {
  it('names each bad field with its line, offline, and exits 3', async () => {
    const file = path.join(work, 'bad.yaml');
    writeFileSync(
      file,
      [
        '# a job with mistakes', // 1
        'name: 1st-try', // 2
        'algorithm:', // 3
        '  source: custom', // 4
        '  imagePath: Upper/Case:1', // 5
        '  codeDir: obs://jobs/code/', // 6
        '  bootComand: echo hi', // 7
        'data:', // 8
        '  source: path', // 9
        '  path: obs://jobs/data/', // 10
        'trainOutput: obs://jobs/data/out/', // 11
        'env:', // 12
        '  - name: EPOCHS', // 13
        '    value: 30', // 14
        '',
      ].join('\n'),
    );
    // No console address at all: validate must not need one.
    const r = await trainctl(['validate', 'bad.yaml'], baseEnv());
    expect(r.code).toBe(3);
    const lines = r.stderr.split('\n');
    expect(lines).toContain('error: bad.yaml:2:7: name: Name may contain only letters, digits, "-" and "_", and must start with a letter');
    expect(lines).toContain('bad.yaml:3:1: algorithm.bootCommand: Boot Command is required');
    expect(r.stderr).toMatch(/^bad\.yaml:5:14: algorithm\.imagePath: Image Path must be an image reference/m);
    expect(r.stderr).toMatch(/^bad\.yaml:7:3: algorithm\.bootComand: unknown field; did you mean bootCommand\?/m);
    expect(lines).toContain('bad.yaml:11:14: trainOutput: Training Output Path must not be the data path or inside it');
    expect(lines).toContain('bad.yaml:14:12: env.0.value: Variable value must be text');
    expect(r.stderr).toContain('6 problems; nothing was submitted');
  });

  it('reports YAML syntax errors and unset variables with their lines', async () => {
    writeFileSync(path.join(work, 'syntax.yaml'), 'name: a\nalgorithm: [\n');
    const syntax = await trainctl(['validate', 'syntax.yaml'], baseEnv());
    expect(syntax.code).toBe(3);
    expect(syntax.stderr).toMatch(/syntax\.yaml:\d+:\d+: /);
    jobFile('unset-var', 'echo hi');
    const unset = await trainctl(['validate', 'unset-var.yaml'], baseEnv());
    expect(unset.code).toBe(3);
    expect(unset.stderr).toContain('unset-var.yaml:5:14: algorithm.imagePath: ${TEST_IMAGE} is not set in the environment');
  });
});

describe('trainctl outputs', () => {
  it('downloads every output file, byte for byte', async () => {
    const file = jobFile(
      'cli-outputs',
      'head -c 300000 /dev/urandom > /home/work/outputs/model.bin; mkdir -p /home/work/outputs/ckpt; echo step > "/home/work/outputs/ckpt/step 1.txt"',
    );
    const run = await trainctl(['run', file, '--follow'], signedIn({ TEST_IMAGE: image }));
    expect(run.code, run.stderr).toBe(0);

    const dir = path.join(work, 'downloaded');
    const r = await trainctl(['outputs', 'cli-outputs/V001', '--download', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('downloaded 2 files');
    expect(readdirSync(dir).sort()).toEqual(['ckpt', 'model.bin']);
    for (const key of ['model.bin', 'ckpt/step 1.txt']) {
      const stored = await readBytes('jobs', `out/cli-outputs/${key}`);
      expect(readFileSync(path.join(dir, key)).equals(stored), key).toBe(true);
    }
    expect(statSync(path.join(dir, 'model.bin')).size).toBe(300000);

    const listed = await trainctl(['outputs', 'cli-outputs/V001', '-o', 'json']);
    expect(JSON.parse(listed.stdout)).toEqual({
      path: 'obs://jobs/out/cli-outputs/',
      items: [
        { key: 'ckpt/step 1.txt', size: 5, modified: expect.any(String) },
        { key: 'model.bin', size: 300000, modified: expect.any(String) },
      ],
    });
  });
});

describe('trainctl login', () => {
  it('checks the token, keeps it in a 0600 file of the config folder, and uses it', async () => {
    const env = baseEnv();
    const r = await trainctl(['login', '--url', url], env, `${tc.adminToken}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('as admin');
    const file = path.join(env.XDG_CONFIG_HOME!, 'trainctl', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url, token: tc.adminToken });

    const ls = await trainctl(['ls', '-o', 'json'], env);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toHaveProperty('items');

    // The saved token goes only to the address it was saved for.
    const elsewhere = await trainctl(['ls', '--url', url.replace('127.0.0.1', 'localhost')], env);
    expect(elsewhere.code).toBe(4);

    expect((await trainctl(['logout'], env)).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a wrong token with exit code 4 and saves nothing', async () => {
    const env = baseEnv();
    const r = await trainctl(['login', '--url', url, '--token', 'tc_wrong'], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/401/);
    expect(existsSync(path.join(env.XDG_CONFIG_HOME!, 'trainctl', 'config.json'))).toBe(false);
  });
});
