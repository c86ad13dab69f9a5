import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditLog } from '@tc/contracts';
import { waitFor, type TestConsole } from '../support/console.js';
import { closeJobsConsole, ENDED, getJob, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;
let base: string;

beforeAll(async () => {
  // The shortest idle limit there is: one minute.
  ({ tc, image } = await startJobsConsole({ TERMINAL_IDLE_MINUTES: '1' }));
  base = await tc.app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);

afterAll(() => closeJobsConsole(tc));

describe('terminal idle timeout', () => {
  it('closes a terminal without input even while its output flows, and audits why', { timeout: 180_000 }, async () => {
    const created = await submit(tc, jobRequest('term-idle', image, 'echo up; sleep 600'));
    const job = await waitFor('term-idle to run', async () => {
      const j = await getJob(tc, created);
      return j.status === 'Running' && j.nodes[0]?.state === 'running' ? j : null;
    });
    const url = `${base.replace(/^http/, 'ws')}/api/v1/training-jobs/${job.name}/versions/${job.version}/nodes/0/terminal`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${tc.adminToken}` } });
    let out = '';
    ws.on('message', (d: Buffer, binary) => binary && (out += d.toString()));
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    await new Promise((r) => ws.once('open', r));
    ws.send(Buffer.from('while true; do echo tick; sleep 5; done\n'), { binary: true });
    expect(await closed).toEqual({ code: 4001, reason: 'closed after being idle' });
    expect(out).toContain('tick');
    const items = (await tc.app.inject({ url: '/api/v1/audit-log?pageSize=200' })).json<AuditLog>().items;
    expect(items.find((e) => e.action === 'terminal.close' && e.target.includes('term-idle'))?.target).toMatch(/closed after being idle$/);
    await tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop` });
    await untilStatus(tc, job, ENDED);
  });
});
