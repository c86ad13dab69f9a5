import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readObject, waitFor, type TestConsole } from '../support/console.js';
import { allLogLines, closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';
import { TEST_RUN, testDocker } from '../support/images.js';

const LIMIT = 256 * 1024;
const LINES = 50_000;
const line = (i: number) => `${i} ${'x'.repeat(90)}`;

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ LOG_MAX_BYTES_PER_NODE: String(LIMIT), STOP_GRACE_SECONDS: '2' }));
});

afterAll(() => closeJobsConsole(tc));

const MARKER =
  /^\[… ([\d,]+) lines \(([\d.]+ (?:bytes|KiB|MiB|GiB))\) dropped: the log exceeded the limit of 256 KiB per node; the first and the latest lines are kept …\]$/;

describe('log size limit', () => {
  it('keeps the first and the latest lines of a job that prints far more than the limit, and bounds the engine log', async () => {
    // About 5 MB of output, 19 times the limit; the job then waits so its container can be inspected.
    const print = `awk 'BEGIN { p = "x"; while (length(p) < 90) p = p "x"; for (i = 1; i <= ${LINES}; i++) print i, p }'`;
    const job = await submit(tc, jobRequest('chatty', image, `${print}\necho last-line\nsleep 600`));
    try {
      // Followed from a cursor, as the web view does, so each poll reads only new lines.
      let cursor = '';
      await waitFor(
        'the last line to be stored',
        async () => {
          for (;;) {
            const res = await tc.app.inject({ url: `/api/v1/training-jobs/chatty/versions/V001/logs?limit=5000&cursor=${cursor}` });
            const page = res.json() as { lines: { text: string }[]; nextCursor: string };
            cursor = page.nextCursor;
            if (page.lines.some((l) => l.text === 'last-line')) return true;
            if (page.lines.length < 5000) return false;
          }
        },
        120_000,
      );
      const [info] = await testDocker().listContainers({ filters: { label: [`tc.job-name=chatty`, `tc.test.run=${TEST_RUN}`] } });
      const inspected = await testDocker().getContainer(info!.Id).inspect();
      expect(inspected.HostConfig.LogConfig?.Type).toBe('json-file');
      // Half the limit, but no less than 16 MiB a file (see engineLogConfig).
      expect(inspected.HostConfig.LogConfig?.Config).toEqual({ 'max-size': String(16 * 1024 * 1024), 'max-file': '4' });
    } finally {
      await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs/chatty/versions/V001/stop' });
    }
    const end = await untilStatus(tc, job, ENDED);
    expect(end.events.filter((e) => e.message.includes('exceeded the limit of 256 KiB'))).toHaveLength(1);

    const stored = await allLogLines(tc, job);
    const output = stored.filter((l) => l.stream === 'stdout').map((l) => l.text);
    // The head: the job's first lines, in order from 1.
    expect(output.slice(0, 500)).toEqual(Array.from({ length: 500 }, (_, i) => line(i + 1)));
    const markers = stored.filter((l) => MARKER.test(l.text));
    expect(markers).toHaveLength(1);
    expect(markers[0]!.stream).toBe('system');
    const dropped = Number(MARKER.exec(markers[0]!.text)![1]!.replaceAll(',', ''));
    expect(dropped).toBeGreaterThan(LINES - 2000);
    // The tail: the latest lines up to the last one the job printed, without a gap or a repeat.
    const tail = output.slice(output.indexOf('last-line') - 500, output.indexOf('last-line'));
    expect(tail).toEqual(Array.from({ length: 500 }, (_, i) => line(LINES - 499 + i)));
    expect(output.filter((t) => t === 'last-line')).toHaveLength(1);
    // Seqs (the cursor) only grow.
    expect(stored.map((l) => l.seq)).toEqual([...stored.map((l) => l.seq)].sort((a, b) => a - b));
    const bytes = stored.reduce((n, l) => n + Buffer.byteLength(l.text) + 1, 0);
    expect(bytes).toBeLessThan(LIMIT + 4096);

    // The uploaded log is the stored one: head, marker, tail.
    const file = await readObject(tc.store, 'jobs', 'logs/chatty-V001-worker-0.log');
    expect(Buffer.byteLength(file)).toBeLessThan(LIMIT + 4096);
    expect(file).toContain(`\n${line(1)}\n${line(2)}\n${line(3)}\n`);
    expect(file).toContain(`\n${markers[0]!.text}\n`);
    expect(file).toContain(`\n${line(LINES - 1)}\n${line(LINES)}\nlast-line\n`);
  }, 180_000);
});
