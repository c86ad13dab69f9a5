import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SwiftS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops the four Swift processes and deletes their data. */
  stop(): Promise<void>;
}

const SCRIPTS = fileURLToPath(new URL('../../../../scripts/swift-s3/', import.meta.url));
const BINARIES = ['swift-proxy-server', 'swift-account-server', 'swift-container-server', 'swift-object-server'];
const APT = 'apt-get install -y --no-install-recommends swift swift-proxy swift-account swift-container swift-object';
const REGION = 'us-east-1';
const ACCOUNT = 'test';
const USER = 'tester';
const SECRET = 'testing';

/**
 * A real S3 server on loopback for tests: OpenStack Swift's S3 API (verifies SigV4, holds keys
 * over 255 characters, like AWS S3 and OBS), started with scripts/swift-s3/start.sh on free ports
 * in a temporary folder. Takes 2-3 s.
 */
export async function startSwift(): Promise<SwiftS3> {
  const missing = BINARIES.filter((b) => !onPath(b));
  if (missing.length > 0) {
    throw new Error(`OpenStack Swift is not installed (missing ${missing.join(', ')}); install it with: ${APT}`);
  }

  let lastError: Error | null = null;
  // Free ports are only free until someone takes them: another test file starting its own
  // servers may, so a clash is retried on new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const [s3Port, objPort, contPort, acctPort] = await freePorts(4);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-swift-'));
    const env = {
      ...process.env,
      SWIFT_OBJ_PORT: String(objPort),
      SWIFT_CONT_PORT: String(contPort),
      SWIFT_ACCT_PORT: String(acctPort),
      SWIFT_S3_REGION: REGION,
      SWIFT_S3_ACCOUNT: ACCOUNT,
      SWIFT_S3_USER: USER,
      SWIFT_S3_SECRET: SECRET,
      SWIFT_S3_MEMCACHE: '0',
    };
    try {
      await run('start.sh', [dir, String(s3Port)], env, 90_000);
    } catch (err) {
      stopNow(dir);
      lastError = err as Error;
      if (/already in use/.test(lastError.message)) continue;
      throw lastError;
    }

    let stopped = false;
    // A test run that ends without afterAll (a crash, a timeout) must not leave Swift running.
    const onExit = () => {
      if (!stopped) stopNow(dir);
    };
    process.once('exit', onExit);
    return {
      endpoint: `http://127.0.0.1:${s3Port}`,
      region: REGION,
      accessKeyId: `${ACCOUNT}:${USER}`,
      secretAccessKey: SECRET,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', onExit);
        await run('stop.sh', [dir, '--purge'], process.env, 30_000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw lastError ?? new Error('Swift could not be started');
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(SCRIPTS, script), ...args], { env, timeout, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`scripts/swift-s3/${script} failed (${err.message.split('\n')[0]}):\n${stderr}${stdout}`));
      else resolve(stdout);
    });
  });
}

function stopNow(dir: string): void {
  try {
    execFileSync('bash', [path.join(SCRIPTS, 'stop.sh'), dir, '--purge'], { stdio: 'ignore', timeout: 15_000 });
  } catch {
    // Best effort: this runs while something else already went wrong.
  }
  rmSync(dir, { recursive: true, force: true });
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => {
    try {
      accessSync(path.join(d, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Distinct ports the OS says are free now (all held open together, so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
