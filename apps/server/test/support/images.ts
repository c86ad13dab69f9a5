import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import { buildBusyboxImage, type BusyboxImageOptions } from '../../src/engine/docker/build-image.js';
import { createDockerClient } from '../../src/engine/docker/docker-engine.js';

/**
 * Vitest runs test files in parallel, each with its own copy of this module. A cleanup that
 * took every `tc.test=1` resource would pull images and containers from under another file
 * that is still running, so each copy marks what it makes with its own run id and removes
 * only those, plus leftovers of test processes that no longer exist (a crashed run).
 */
export const TEST_RUN = randomUUID().slice(0, 8);

/**
 * On every test image, and so on every container made from one (a container inherits its
 * image's labels), whoever creates it.
 */
export const TEST_LABELS: Readonly<Record<string, string>> = {
  'tc.test': '1',
  'tc.test.run': TEST_RUN,
  'tc.test.pid': String(process.pid),
};

let client: Dockerode | undefined;
export function testDocker(): Dockerode {
  client ??= createDockerClient();
  return client;
}

export type TestImageKind = 'user1101' | 'root';

/** A busybox image whose default user is 1101:1101 (what the product requires: UID 1101, not group 0) or root. */
export async function buildTestImage(kind: TestImageKind, tag = `tc-test/${kind}:${TEST_RUN}`): Promise<string> {
  await buildBusyboxImage(testDocker(), { tag, user: kind === 'user1101' ? '1101:1101' : null, labels: { ...TEST_LABELS } });
  return tag;
}

/** buildBusyboxImage with the test labels added, for tests that need other contents. */
export async function buildLabelledImage(o: BusyboxImageOptions): Promise<string> {
  return buildBusyboxImage(testDocker(), { ...o, labels: { ...o.labels, ...TEST_LABELS } });
}

function processGone(pid: string | undefined): boolean {
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  try {
    process.kill(n, 0);
    return false;
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function ours(labels: Record<string, string> | undefined): boolean {
  if (!labels || labels['tc.test'] !== '1') return false;
  return labels['tc.test.run'] === TEST_RUN || processGone(labels['tc.test.pid']);
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Removes this run's test containers (and those of dead test processes), running or not. */
export async function removeTestContainers(): Promise<void> {
  const docker = testDocker();
  const list = await docker.listContainers({ all: true, filters: { label: ['tc.test=1'] } });
  await Promise.all(
    list
      .filter((c) => ours(c.Labels))
      .map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch((err: unknown) => {
            if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
          }),
      ),
  );
}

/**
 * Removes this run's test images, tagged ones and the untagged steps a failed build leaves
 * (labels come first in the Dockerfile, so those carry them too). An image with children
 * cannot be removed before them, hence newest first and a few rounds.
 */
export async function removeTestImages(): Promise<void> {
  const docker = testDocker();
  for (let round = 0; round < 10; round++) {
    const images = (await docker.listImages({ all: true, filters: { label: ['tc.test=1'] } })).filter((i) => ours(i.Labels));
    if (!images.length) return;
    images.sort((a, b) => b.Created - a.Created);
    let removed = 0;
    for (const img of images) {
      const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
      for (const ref of tags.length ? tags : [img.Id]) {
        try {
          await docker.getImage(ref).remove({ force: true });
          removed += 1;
        } catch (err) {
          // 404: pruned along with a child already; 409: still has children, next round.
          if (statusOf(err) === 404) removed += 1;
          else if (statusOf(err) !== 409) throw err;
        }
      }
    }
    if (!removed) {
      const left = images.map((i) => i.Id.slice(7, 19)).join(', ');
      throw new Error(`test images could not be removed: ${left}`);
    }
  }
}
