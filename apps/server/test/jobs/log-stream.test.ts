import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine, LogPage, TrainingJob } from '@tc/contracts';
import { waitFor, type TestConsole } from '../support/console.js';
import { createUser, signIn, TEST_ADMIN } from '../support/accounts.js';
import { allLogLines, closeJobsConsole, ENDED, getJob, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;
let base: string;
let bob: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ STOP_GRACE_SECONDS: '5' }));
  bob = await createUser(tc.app, tc.adminToken, 'bob');
  await tc.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(tc.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  // fetch (undici) opens a spare connection beside a streaming one and never sends a request on
  // it; Node's server counts such a connection as busy until its headers timeout, which would
  // hold app.close() for a minute. Every stream of these tests has ended or been closed by now.
  tc?.app.server.closeAllConnections();
  await closeJobsConsole(tc);
});

interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/** An event stream read over real HTTP, event by event, as a browser's EventSource parses it. */
class SseClient {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private readonly queue: SseEvent[] = [];
  comments = 0;
  retry: number | null = null;

  constructor(
    readonly res: Response,
    private readonly abort: AbortController,
  ) {
    this.reader = res.body!.getReader();
  }

  /** The next event, or null once the server has closed the stream. */
  async next(): Promise<SseEvent | null> {
    while (this.queue.length === 0) {
      const { value, done } = await this.reader.read();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
      let at: number;
      while ((at = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 2);
        this.parse(block);
      }
    }
    return this.queue.shift()!;
  }

  /** Reads pages until one of `until` holds; returns the lines they carried and the last id. */
  async linesUntil(until: (lines: LogLine[]) => boolean): Promise<{ lines: LogLine[]; lastId: string | null }> {
    const lines: LogLine[] = [];
    let lastId: string | null = null;
    while (!until(lines)) {
      const e = await this.next();
      if (!e) throw new Error(`the stream closed after ${lines.length} lines`);
      expect(e.event).toBe('message');
      const page = JSON.parse(e.data) as LogPage;
      expect(e.id).toBe(page.nextCursor);
      lines.push(...page.lines);
      lastId = e.id;
    }
    return { lines, lastId };
  }

  close(): void {
    this.abort.abort();
  }

  private parse(block: string): void {
    let event = 'message';
    let id: string | null = null;
    const data: string[] = [];
    let comment = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comment = true;
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
    }
    if (comment && data.length === 0) this.comments += 1;
    if (data.length) this.queue.push({ event, id, data: data.join('\n') });
  }
}

const streamPath = (job: Pick<TrainingJob, 'name' | 'version'>, query = '') =>
  `/api/v1/training-jobs/${job.name}/versions/${job.version}/logs/stream${query}`;

async function open(path: string, headers: Record<string, string>): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(`${base}${path}`, { headers, signal: abort.signal });
  return new SseClient(res, abort);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const texts = (lines: LogLine[]) => lines.map((l) => l.text);

describe('live logs by server-sent events', () => {
  it('pushes lines while the job runs, resumes after a disconnect by Last-Event-ID with nothing lost or repeated, and ends', async () => {
    // Ten lines, then quiet until stopped; the stop makes it print five more and exit.
    const cmd = [
      "trap 'for i in 1 2 3 4 5; do echo after $i; done; exit 0' TERM",
      'for i in 1 2 3 4 5 6 7 8 9 10; do echo before $i; done',
      'while true; do sleep 0.2; done',
    ].join('\n');
    const job = await submit(tc, jobRequest('streamed', image, cmd));

    // A browser session: the cookie alone, no CSRF header, as an EventSource sends it.
    const { cookie } = await signIn(tc.app, TEST_ADMIN.username, TEST_ADMIN.password);
    const first = await open(streamPath(job), { cookie });
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(first.res.headers.get('cache-control')).toContain('no-cache');
    const got1 = await first.linesUntil((ls) => ls.some((l) => l.text === 'before 10'));
    expect(first.retry).toBeGreaterThan(0);
    // The job prints nothing more until it is stopped: these came while it ran.
    expect((await getJob(tc, job)).status).toBe('Running');
    first.close();

    // Reconnect as a browser does: the last event's id as Last-Event-ID (it wins over a stale cursor).
    const second = await open(streamPath(job, '?cursor=0'), { ...bearer(tc.adminToken), 'last-event-id': got1.lastId! });
    expect(second.res.status).toBe(200);
    const stop = await tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop` });
    expect(stop.statusCode).toBe(200);
    const got2: LogLine[] = [];
    let end: SseEvent | null = null;
    for (let e = await second.next(); e; e = await second.next()) {
      if (e.event === 'end') {
        end = e;
        continue;
      }
      expect(end, 'nothing after end').toBeNull();
      got2.push(...(JSON.parse(e.data) as LogPage).lines);
    }
    // The server closed the stream after `end`.
    expect(end).not.toBeNull();
    const last = JSON.parse(end!.data) as LogPage;
    expect(last).toMatchObject({ lines: [], complete: true });
    expect(ENDED).toContain((await getJob(tc, job)).status);

    expect(texts(got2)).toEqual(expect.arrayContaining(['after 1', 'after 5']));
    const stored = await allLogLines(tc, job);
    const plain = (l: { seq: number; stream: string; text: string }) => ({ seq: l.seq, stream: l.stream, text: l.text });
    expect([...got1.lines, ...got2].map(plain)).toEqual(stored.map(plain));
    expect(end!.id).toBe(String(stored.at(-1)!.seq));
    expect(last.nextCursor).toBe(String(stored.at(-1)!.seq));

    // A stream opened after the end sends what is left after its cursor, then `end`.
    const late = await open(streamPath(job, `?cursor=${stored.at(-3)!.seq}`), bearer(tc.adminToken));
    const lateLines = await late.linesUntil((ls) => ls.length >= 2);
    expect(lateLines.lines.map((l) => l.seq)).toEqual(stored.slice(-2).map((l) => l.seq));
    expect((await late.next())?.event).toBe('end');
    expect(await late.next()).toBeNull();
  });

  it("answers 404 for another user's job, 401 without credentials, 400 for a bad cursor or node", async () => {
    const job = await submit(tc, jobRequest('private-log', image, 'echo secret'));
    await untilStatus(tc, job, ENDED);
    const theirs = await fetch(`${base}${streamPath(job)}`, { headers: bearer(bob) });
    expect(theirs.status).toBe(404);
    expect(((await theirs.json()) as { message: string }).message).toMatch(/does not exist/);
    expect((await fetch(`${base}${streamPath(job)}`)).status).toBe(401);
    const badCursor = await fetch(`${base}${streamPath(job)}`, { headers: { ...bearer(tc.adminToken), 'last-event-id': 'x' } });
    expect(badCursor.status).toBe(400);
    expect((await fetch(`${base}${streamPath(job, '?node=1')}`, { headers: bearer(tc.adminToken) })).status).toBe(400);
    // HEAD would follow the log for nobody: there is none.
    expect((await fetch(`${base}${streamPath(job)}`, { method: 'HEAD', headers: bearer(tc.adminToken) })).status).toBe(404);
    // Documented with the other routes (the authentication test walks them all).
    const doc = tc.app.swagger() as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> };
    const documented = doc.paths['/api/v1/training-jobs/{name}/versions/{version}/logs/stream'];
    expect(documented?.get?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['node', 'cursor', 'last-event-id']));
    // The owner (an admin here) reads it.
    const mine = await open(streamPath(job), bearer(tc.adminToken));
    const { lines } = await mine.linesUntil((ls) => ls.some((l) => l.text === 'secret'));
    expect(texts(lines)).toContain('secret');
    mine.close();
  });

  it('caps the streams one user holds open (429), and a closed one frees its place', async () => {
    const job = await submit(tc, jobRequest('capped', image, 'echo up; while true; do sleep 0.2; done'));
    const streams: SseClient[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await open(streamPath(job), bearer(tc.adminToken));
      expect(s.res.status).toBe(200);
      streams.push(s);
    }
    const refused = await fetch(`${base}${streamPath(job)}`, { headers: bearer(tc.adminToken) });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toBe('too_many_streams');
    // Another user is not held back by this one's streams.
    const made = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      headers: bearer(bob),
      payload: jobRequest('bobs', image, 'echo hi'),
    });
    expect(made.statusCode, made.body).toBe(201);
    const bobs = await open(streamPath(made.json<TrainingJob>()), bearer(bob));
    expect(bobs.res.status).toBe(200);
    bobs.close();

    streams.pop()!.close();
    const again = await waitFor('a place to come free', async () => {
      const s = await open(streamPath(job), bearer(tc.adminToken));
      if (s.res.status === 200) return s;
      await s.res.text();
      return null;
    });
    streams.push(again);
    for (const s of streams) s.close();
    expect(
      (await tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop` })).statusCode,
    ).toBe(200);
    await untilStatus(tc, job, ENDED);
  });
});
