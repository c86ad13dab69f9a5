import type { CreateTrainingJobRequest } from '@tc/contracts';
import { CHECKPOINT_DIR } from './paths.js';

export const MASTER_PORT = 29500;
/** Port advertised in BATCH_CUSTOM<i>_HOSTS, the reference's hostname:port form. */
export const HOSTS_PORT = 6666;

/** The job's node hostnames: `<name>-<version>-<i>`, lowercase, valid as DNS labels. */
export function nodeHostnames(name: string, version: string, nodes: number): string[] {
  return Array.from({ length: nodes }, (_, i) => {
    const suffix = `-${version}-${i}`.toLowerCase();
    const base = name
      .toLowerCase()
      .replace(/_/g, '-')
      .slice(0, 63 - suffix.length);
    return `${base}${suffix}`;
  });
}

/**
 * The environment of one node: the user's variables first, then the platform's, so the
 * platform's win (the contract refuses reserved names at submit; this is the second fence).
 */
export function nodeEnvironment(args: {
  spec: CreateTrainingJobRequest;
  version: string;
  index: number;
  hostnames: readonly string[];
  dataUrl: string;
}): Record<string, string> {
  const { spec, version, index, hostnames } = args;
  const env: Record<string, string> = {};
  for (const v of spec.env ?? []) env[v.name] = v.value;
  env.DLS_TASK_INDEX = String(index);
  env.DLS_TASK_NUMBER = String(hostnames.length);
  env.DLS_APP_URL = spec.algorithm.codeDir;
  env.DLS_DATA_URL = args.dataUrl;
  env.DLS_TRAIN_URL = spec.trainOutput;
  hostnames.forEach((h, i) => {
    env[`BATCH_CUSTOM${i}_HOSTS`] = `${h}:${HOSTS_PORT}`;
  });
  env.MASTER_ADDR = hostnames[0]!;
  env.MASTER_PORT = String(MASTER_PORT);
  env.WORLD_SIZE = String(hostnames.length);
  env.RANK = String(index);
  env.MA_JOB_NAME = spec.name;
  env.MA_JOB_VERSION = version;
  if (spec.checkpointPath) {
    // A script resumes from what it finds here; it is restored before the boot command starts.
    env.MA_CHECKPOINT_DIR = CHECKPOINT_DIR;
    env.CHECKPOINT_URL = spec.checkpointPath;
  }
  return env;
}
