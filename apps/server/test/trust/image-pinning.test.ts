import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLabelledImage, TEST_RUN, testDocker } from '../support/images.js';
import type { TestConsole } from '../support/console.js';
import { allLogLines, closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

// Issue 11 item 2: a job runs the image its check passed at, by ID, and runs the boot command
// as documented, not an ENTRYPOINT the image brings along.

let tc: TestConsole;

beforeAll(async () => {
  ({ tc } = await startJobsConsole());
});

afterAll(() => closeJobsConsole(tc));

describe('the image a job runs', () => {
  it('is the ID its check passed at, even when the tag moves before the container is made', async () => {
    const tag = `tc-test/pinned:${TEST_RUN}`;
    const checked = await buildLabelledImage({ tag, user: '1101:1101', extraFiles: [{ path: '/etc/which', content: 'checked-image\n' }] });
    const other = await buildLabelledImage({
      tag: `tc-test/pinned-other:${TEST_RUN}`,
      user: '1101:1101',
      extraFiles: [{ path: '/etc/which', content: 'other-image\n' }],
    });
    expect(other).not.toBe(checked);

    // The seam between check and start: the tag is moved (as an admin could with `docker tag`)
    // right before the runner creates the container.
    const real = tc.engine.createContainer.bind(tc.engine);
    tc.engine.createContainer = async (spec) => {
      await testDocker().getImage(other).tag({ repo: `tc-test/pinned`, tag: TEST_RUN });
      return real(spec);
    };
    try {
      const job = await submit(tc, jobRequest('pinned-image', tag, 'cat /etc/which'));
      const end = await untilStatus(tc, job, ENDED);
      expect(end.status, end.reason ?? '').toBe('Successful');
      expect(end.imageId).toBe(checked);
      expect(end.imageDigest).toBeNull();
      const lines = (await allLogLines(tc, job)).map((l) => l.text);
      expect(lines).toContain('checked-image');
      expect(lines).not.toContain('other-image');
    } finally {
      tc.engine.createContainer = real;
    }
    expect((await testDocker().getImage(tag).inspect()).Id).toBe(other);
  });

  it("runs the boot command, not the image's ENTRYPOINT", async () => {
    const tag = `tc-test/entrypoint-job:${TEST_RUN}`;
    await buildLabelledImage({ tag, user: '1101:1101', entrypoint: ['/bin/sh', '-c', 'echo IMAGE-ENTRYPOINT-RAN; exit 3'] });
    const job = await submit(tc, jobRequest('entrypoint-job', tag, 'echo boot-command-ran'));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status, end.reason ?? '').toBe('Successful');
    const lines = (await allLogLines(tc, job)).map((l) => l.text);
    expect(lines).toContain('boot-command-ran');
    expect(lines.join('\n')).not.toContain('IMAGE-ENTRYPOINT-RAN');
  });
});
