import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditLog, TrainingJob } from '@tc/contracts';
import { waitFor, type TestConsole } from '../support/console.js';
import { closeJobsConsole, ENDED, getJob, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';
import { createUser, signIn, TEST_ADMIN } from '../support/accounts.js';
import { sameOrigin } from '../../src/http/terminal.js';
import { parseControl } from '../../src/terminal/terminal-sessions.js';

let tc: TestConsole;
let image: string;
let base: string;
let bobToken: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole());
  bobToken = await createUser(tc.app, tc.adminToken, 'bob');
  base = await tc.app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);

afterAll(() => closeJobsConsole(tc));

/** A client terminal: everything the shell printed so far, and the close when it comes. */
interface Term {
  ws: WebSocket;
  out(): string;
  /** Text frames from the server (the exit code). */
  controls: unknown[];
  send(text: string): void;
  /** Resolves with the output once it matches. */
  until(re: RegExp): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
}

type Opened = { term: Term } | { status: number; body: string };

function wsUrl(job: Pick<TrainingJob, 'name' | 'version'>, node = 0): string {
  return `${base.replace(/^http/, 'ws')}/api/v1/training-jobs/${job.name}/versions/${job.version}/nodes/${node}/terminal?cols=100&rows=30`;
}

/** Opens a terminal with these headers; a refused handshake gives its HTTP status instead. */
function open(url: string, headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let text = '';
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    const controls: unknown[] = [];
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) text += data.toString('utf8');
      else controls.push(JSON.parse(data.toString('utf8')));
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        term: {
          ws,
          out: () => text,
          controls,
          send: (s) => ws.send(Buffer.from(s), { binary: true }),
          until: (re) => waitFor(`the terminal to show ${re}`, async () => (re.test(text) ? text : null), 30_000),
          closed,
        },
      }),
    );
  });
}

async function openOk(url: string, headers: Record<string, string>): Promise<Term> {
  const r = await open(url, headers);
  if (!('term' in r)) throw new Error(`terminal refused: ${r.status} ${r.body}`);
  return r.term;
}

const admin = () => ({ authorization: `Bearer ${tc.adminToken}` });

async function audit(): Promise<AuditLog['items']> {
  const res = await tc.app.inject({ url: '/api/v1/audit-log?username=admin&pageSize=200' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<AuditLog>().items;
}

/** A job whose node 0 is running (container up), with a variable of the user's own. */
async function runningJob(name: string): Promise<TrainingJob> {
  const job = await submit(tc, jobRequest(name, image, 'echo up; sleep 300', { env: [{ name: 'MY_VAR', value: 'hello-terminal' }] }));
  return waitFor(`${name} to run`, async () => {
    const j = await getJob(tc, job);
    return j.status === 'Running' && j.nodes[0]?.state === 'running' ? j : null;
  });
}

const stop = (job: Pick<TrainingJob, 'name' | 'version'>) =>
  tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop` });

describe('terminal into a running node', () => {
  it('runs as UID 1101 in /home/work with the node environment, and is audited open and close', async () => {
    const job = await runningJob('term-basic');
    const term = await openOk(wsUrl(job), admin());
    term.send('id -u; pwd\n');
    expect(await term.until(/\r\n1101\r\n\/home\/work\r\n/)).toMatch(/\r\n1101\r\n/);
    term.send('echo "rank=$RANK my=$MY_VAR job=$MA_JOB_NAME"\n');
    await term.until(/rank=0 my=hello-terminal job=term-basic/);
    // A text frame is a control message: input for text-only clients, and resize.
    term.ws.send(JSON.stringify({ type: 'resize', cols: 132, rows: 43 }));
    term.ws.send(JSON.stringify({ type: 'input', data: 'stty size\n' }));
    await term.until(/\r\n43 132\r\n/);

    term.ws.close();
    await term.closed;
    const entries = await waitFor('the close in the audit log', async () => {
      const items = await audit();
      return items.some((e) => e.action === 'terminal.close' && e.target.includes('term-basic')) ? items : null;
    });
    const mine = entries.filter((e) => e.target.includes('term-basic V001 node 0'));
    expect(mine.map((e) => e.action).sort()).toEqual(['terminal.close', 'terminal.open']);
    expect(mine.every((e) => e.username === TEST_ADMIN.username)).toBe(true);
    expect(mine.find((e) => e.action === 'terminal.close')!.target).toMatch(/, \d+ s, closed by the client$/);
    // What was typed is nowhere in the log.
    expect(JSON.stringify(entries)).not.toContain('id -u');
    expect((await stop(job)).statusCode).toBe(200);
    await untilStatus(tc, job, ENDED);
  });

  it('runs a command instead of the shell and sends its exit code before closing', async () => {
    const job = await runningJob('term-cmd');
    const cmd = ['sh', '-c', 'echo "rank $RANK as $(id -u)"; exit 3'].map((a) => `&cmd=${encodeURIComponent(a)}`).join('');
    const term = await openOk(`${wsUrl(job)}${cmd}`, admin());
    const closed = await term.closed;
    expect(term.out()).toContain('rank 0 as 1101');
    expect(term.controls).toEqual([{ type: 'exit', code: 3 }]);
    expect(closed).toEqual({ code: 1000, reason: 'the command exited' });
    const open = (await audit()).find((e) => e.action === 'terminal.open' && e.target.includes('term-cmd'));
    // That a command ran is recorded, never which.
    expect(open?.target).toBe('training job term-cmd V001 node 0 (a command)');
    await stop(job);
    await untilStatus(tc, job, ENDED);
  });

  it('ends the processes the session started once the client goes away', async () => {
    const job = await runningJob('term-kill');
    const first = await openOk(wsUrl(job), admin());
    first.send('sleep 7771 & echo started\n');
    await first.until(/started/);
    first.ws.close();
    await first.closed;
    const second = await openOk(wsUrl(job), admin());
    let round = 0;
    await waitFor('the first session to be gone', async () => {
      const before = second.out().length;
      round++;
      second.send(`ps; echo ps-done-${round}\n`);
      await second.until(new RegExp(`\r\nps-done-${round}\r\n`));
      const listing = second.out().slice(before);
      // The first shell (and its sleep) is gone; only this one is left.
      return !listing.includes('sleep 7771') && (listing.match(/1101 +\/bin\/sh\r\n/g) ?? []).length === 1;
    });
    second.ws.close();
    await stop(job);
    await untilStatus(tc, job, ENDED);
  });

  it('is closed when the job stops, and refused once the node no longer runs', async () => {
    const job = await runningJob('term-stop');
    const term = await openOk(wsUrl(job), admin());
    term.send('echo ready\n');
    await term.until(/ready/);
    expect((await stop(job)).statusCode).toBe(200);
    const closed = await term.closed;
    expect(closed.code).toBe(4000);
    expect(closed.reason).toMatch(/the job is (Stopping|Stopped)/);
    await untilStatus(tc, job, ENDED);
    const again = await open(wsUrl(job), admin());
    expect('status' in again && again.status).toBe(409);
    const items = await audit();
    expect(items.some((e) => e.action === 'terminal.close' && e.target.includes('term-stop') && e.status === 4000)).toBe(true);
  });

  it("gives another user 404, nobody 401, and refuses another site's page (403) even with the user's cookie", async () => {
    const job = await runningJob('term-who');
    const bob = await open(wsUrl(job), { authorization: `Bearer ${bobToken}` });
    expect('status' in bob && bob.status).toBe(404);
    const nobody = await open(wsUrl(job), {});
    expect('status' in nobody && nobody.status).toBe(401);

    const { cookie } = await signIn(tc.app, TEST_ADMIN.username, TEST_ADMIN.password);
    const evil = await open(wsUrl(job), { cookie, origin: 'https://evil.example' });
    expect('status' in evil && evil.status).toBe(403);
    const nul = await open(wsUrl(job), { cookie, origin: 'null' });
    expect('status' in nul && nul.status).toBe(403);
    // The console's own page (same origin as the host it is reached at) may.
    const own = await openOk(wsUrl(job), { cookie, origin: base });
    own.send('id -u\n');
    await own.until(/\r\n1101\r\n/);
    own.ws.close();
    // No audit row for refused attempts' keystrokes, but bob's failure opened nothing.
    expect((await audit()).filter((e) => e.action === 'terminal.open' && e.target.includes('term-who'))).toHaveLength(1);
    await stop(job);
    await untilStatus(tc, job, ENDED);
  });

  it('limits the terminals one user may have open', async () => {
    const job = await runningJob('term-limit');
    const terms: Term[] = [];
    for (let i = 0; i < 5; i++) terms.push(await openOk(wsUrl(job), admin()));
    const sixth = await open(wsUrl(job), admin());
    expect('status' in sixth && sixth.status).toBe(429);
    for (const t of terms) t.ws.close();
    await Promise.all(terms.map((t) => t.closed));
    await stop(job);
    await untilStatus(tc, job, ENDED);
  });
});

describe('origin check', () => {
  it('accepts no Origin (not a browser), the public URL and the host reached; refuses others', () => {
    const pub = 'https://console.example.org';
    expect(sameOrigin(undefined, 'x', pub)).toBe(true);
    expect(sameOrigin('https://console.example.org', 'internal:8080', pub)).toBe(true);
    expect(sameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', pub)).toBe(true);
    expect(sameOrigin('http://localhost', 'localhost:80', pub)).toBe(true);
    expect(sameOrigin('http://127.0.0.1:8081', '127.0.0.1:8080', pub)).toBe(false);
    expect(sameOrigin('https://evil.example', '127.0.0.1:8080', pub)).toBe(false);
    expect(sameOrigin('null', '127.0.0.1:8080', pub)).toBe(false);
  });

  it('reads control frames and ignores anything else', () => {
    expect(parseControl('{"type":"resize","cols":120,"rows":40}')).toEqual({ type: 'resize', cols: 120, rows: 40 });
    expect(parseControl('{"type":"resize","cols":0,"rows":40}')).toBeNull();
    expect(parseControl('{"type":"input","data":"ls\\r"}')).toEqual({ type: 'input', data: 'ls\r' });
    expect(parseControl('ls')).toBeNull();
  });
});
