import { afterAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage } from '../../../src/engine/docker/build-image.js';
import {
  TEST_LABELS,
  TEST_RUN,
  buildLabelledImage,
  buildTestImage,
  removeTestContainers,
  removeTestImages,
  testDocker,
} from '../../support/images.js';

const docker = testDocker();

async function imagesOfThisRun(): Promise<number> {
  return (await docker.listImages({ all: true, filters: { label: [`tc.test.run=${TEST_RUN}`] } })).length;
}

afterAll(async () => {
  await removeTestContainers();
  await removeTestImages();
});

describe('buildBusyboxImage', () => {
  it('builds a 1101 image and a root image offline, with the labels', async () => {
    const user = await buildTestImage('user1101');
    const root = await buildTestImage('root');
    const u = await docker.getImage(user).inspect();
    const r = await docker.getImage(root).inspect();
    expect(u.Config.User).toBe('1101:1101');
    expect(r.Config.User ?? '').toBe('');
    expect(u.Config.Labels).toMatchObject(TEST_LABELS);
    expect(u.Config.Cmd ?? null).toBeNull();
  });

  it('adds extra files with their mode, and resolves with the image ID', async () => {
    const tag = `tc-test/extra:${TEST_RUN}`;
    const id = await buildLabelledImage({
      tag,
      user: '1101',
      extraFiles: [{ path: '/usr/local/bin/hello', content: '#!/bin/sh\necho hello from $(id -u)\n', mode: 0o755 }],
    });
    expect(id).toBe((await docker.getImage(tag).inspect()).Id);
    const c = await docker.createContainer({
      Image: tag,
      Cmd: ['/usr/local/bin/hello'],
      Labels: { ...TEST_LABELS },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    expect((await c.wait()).StatusCode).toBe(0);
    const raw = await c.logs({ stdout: true, stderr: true });
    expect(raw.subarray(8).toString()).toBe('hello from 1101\n');
    await c.remove({ force: true });
  });

  it('rejects with the engine message when a step fails, and leaves only labelled leftovers', async () => {
    await expect(buildLabelledImage({ tag: `tc-test/bad:${TEST_RUN}`, run: [['/bin/sh', '-c', 'echo boom >&2; exit 7']] })).rejects.toThrow(
      /^building tc-test\/bad:\S+ failed: The command .*exit 7.* returned a non-zero code: 7$/,
    );
    expect(await docker.listImages({ filters: { reference: [`tc-test/bad:${TEST_RUN}`] } })).toEqual([]);
    // forcerm: the failed step's container is gone.
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`tc.test.run=${TEST_RUN}`] } });
    expect(leftovers).toEqual([]);
  });

  it('rejects a request the engine refuses outright', async () => {
    await expect(buildBusyboxImage(docker, { tag: 'Not A Valid Tag' })).rejects.toThrow(
      /^building Not A Valid Tag failed: .*invalid reference format/,
    );
  });

  it('refuses an extra file path that would leave the image root', async () => {
    await expect(
      buildBusyboxImage(docker, { tag: `tc-test/x:${TEST_RUN}`, extraFiles: [{ path: '/etc/../../x', content: '' }] }),
    ).rejects.toThrow(/must be absolute and plain/);
  });

  it('cleanup removes every image of this run, the failed build steps included', async () => {
    expect(await imagesOfThisRun()).toBeGreaterThan(0);
    await removeTestImages();
    expect(await imagesOfThisRun()).toBe(0);
  });
});
