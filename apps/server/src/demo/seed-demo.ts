import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectStore } from '../storage/object-store.js';
import type { ContainerEngine } from '../engine/container-engine.js';
import { CODE_ROOT, CONTAINER_UID } from '../engine/paths.js';

export const DEMO_IMAGE = 'demo/linreg-train:1.0';
export const DEMO_BUCKET = 'demo';
/** The contract's UID in a group of its own: the image check refuses group 0. */
export const DEMO_IMAGE_USER = `${CONTAINER_UID}:${CONTAINER_UID}`;
const SAMPLE_DIR = fileURLToPath(new URL('../../../../scripts/demo/sample', import.meta.url));

/** The create request of the demo job, as a person would send it. */
export function demoJobRequest(name = 'linreg-demo', image = DEMO_IMAGE): Record<string, unknown> {
  return {
    name,
    description: 'Linear regression over a CSV, trained by gradient descent in awk',
    algorithm: {
      source: 'custom',
      imagePath: image,
      codeDir: 'obs://demo/code/linreg/',
      bootCommand: `sh ${CODE_ROOT}/linreg/train.sh`,
    },
    data: { source: 'path', path: 'obs://demo/data/' },
    trainOutput: 'obs://demo/output/linreg/',
    env: [{ name: 'EPOCHS', value: '20' }],
    logPath: 'obs://demo/logs/',
  };
}

async function* files(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/**
 * Makes the demo ready offline: the sample training image (FROM scratch + busybox, USER
 * 1101:1101) built on the engine when absent (or when it is an older build with another user),
 * and the sample code and data in the `demo` bucket. Safe to run at every start.
 */
export async function seedDemo(deps: {
  store: ObjectStore;
  engine: Pick<ContainerEngine, 'inspectImage'>;
  /** Builds the sample image on the engine (FROM scratch + busybox, USER DEMO_IMAGE_USER). */
  buildImage: (tag: string) => Promise<void>;
  log: (m: string) => void;
}): Promise<{ requestBody: string }> {
  const { store, log } = deps;
  // An earlier console built it as plain USER 1101, which runs in group 0 and now fails the check.
  if ((await deps.engine.inspectImage(DEMO_IMAGE))?.user !== DEMO_IMAGE_USER) {
    log(`building the demo image ${DEMO_IMAGE}`);
    await deps.buildImage(DEMO_IMAGE);
  }
  await store.createBucket(DEMO_BUCKET);
  for (const [folder, prefix] of [
    ['code', 'code/'],
    ['data', 'data/'],
  ] as const) {
    const root = path.join(SAMPLE_DIR, folder);
    for await (const file of files(root)) {
      const key = `${prefix}${path.relative(root, file).split(path.sep).join('/')}`;
      await store.upload(DEMO_BUCKET, key, createReadStream(file));
    }
  }
  log('demo image, code and data are ready');
  return { requestBody: JSON.stringify(demoJobRequest()) };
}
