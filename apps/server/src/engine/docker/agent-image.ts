import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { engineMessage, statusOf } from './errors.js';
import { readProgress } from './progress.js';

/** On the agent's image and its container; never `tc.managed` (the runner's recovery sweeps those). */
export const AGENT_LABEL = 'tc.node-agent';
export const AGENT_REPOSITORY = 'tc-node-agent';
/** Where the image has Node, whatever the host's path; the container's command names it. */
export const AGENT_NODE = '/usr/bin/node';
export const AGENT_SCRIPT = '/agent/agent.mjs';

const AGENT_SOURCE = fileURLToPath(new URL('../node-agent/agent.ts', import.meta.url));

export interface AgentImage {
  tag: string;
  id: string;
}

/** The agent program as one ESM file: Node built-ins only, so it runs on a bare Node. */
export async function bundleAgent(): Promise<string> {
  // Loaded on demand: only building the image needs esbuild.
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [AGENT_SOURCE],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('bundling the node agent produced no output');
  return file.text;
}

/**
 * The shared libraries the host's Node needs, with the dynamic loader, as ldd lists them: the
 * image has nothing else, so Node must bring its own. A static binary needs none.
 */
async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('ldd', [binary], { timeout: 30_000 }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (/not a dynamic executable/.test(`${e.stdout ?? ''}${e.stderr ?? ''}`)) return [];
    throw new Error(`listing the libraries of ${binary} with ldd failed: ${(err as Error).message}`, { cause: err });
  }
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    if (/=> not found/.test(line)) throw new Error(`${binary} needs a library the host lacks: ${line.trim()}`);
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or the loader, "/lib64/ld-linux-x86-64.so.2 (0x…)".
    const m = /=>\s+(\/\S+)\s+\(/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return [...new Set(libs)];
}

interface AgentContext {
  bundle: string;
  tag: string;
  node: string;
}

async function agentContext(): Promise<AgentContext> {
  const node = await realpath(process.execPath);
  const bundle = await bundleAgent();
  const { size } = await stat(node);
  // The bundle, the Node version and the binary's size: a new agent or a new Node is a new image.
  const hash = createHash('sha256').update(bundle).update('\0').update(process.version).update('\0').update(String(size)).digest('hex');
  return { bundle, node, tag: `${AGENT_REPOSITORY}:${hash.slice(0, 12)}` };
}

const q = (s: string): string => JSON.stringify(s);

async function addFile(pack: tar.Pack, name: string, source: string, mode: number): Promise<void> {
  const real = await realpath(source);
  const { size } = await stat(real);
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size, mode }, (err) => (err ? reject(err) : resolve()));
    const from = createReadStream(real);
    from.once('error', (err) => {
      entry.destroy(err);
      reject(err);
    });
    from.pipe(entry);
  });
}

async function buildContext(ctx: AgentContext): Promise<PassThrough> {
  const libs = await sharedLibraries(ctx.node);
  const dockerfile = [
    'FROM scratch',
    `LABEL ${q(AGENT_LABEL)}=${q('1')}`,
    'COPY rootfs/ /',
    `CMD ${JSON.stringify([AGENT_NODE, AGENT_SCRIPT, 'idle'])}`,
    '',
  ].join('\n');
  const pack = tar.pack();
  const context = new PassThrough();
  pack.pipe(context);
  // Entries are written one after another; the tar is consumed as the engine reads it.
  void (async () => {
    try {
      pack.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile);
      for (const dir of ['rootfs/tmp', 'rootfs/node', 'rootfs/agent'])
        pack.entry({ name: dir, type: 'directory', mode: dir.endsWith('tmp') ? 0o1777 : 0o755 });
      pack.entry({ name: `rootfs${AGENT_SCRIPT}`, mode: 0o644 }, ctx.bundle);
      await addFile(pack, `rootfs${AGENT_NODE}`, ctx.node, 0o755);
      // Copied to the paths ldd names (the loader's path is written into the binary).
      for (const lib of libs) await addFile(pack, `rootfs${lib}`, lib, 0o755);
      pack.finalize();
    } catch (err) {
      context.destroy(err as Error);
    }
  })();
  return context;
}

let building: Promise<AgentImage> | null = null;

/**
 * Makes sure the node agent's image exists on the engine and names it. Built offline (no
 * registry is needed): `FROM scratch` with the host's own Node, the libraries it links and the
 * bundled agent; skipped when the tag for this agent and this Node already exists.
 */
export function ensureAgentImage(docker: Dockerode): Promise<AgentImage> {
  building ??= buildAgentImage(docker).finally(() => {
    building = null;
  });
  return building;
}

async function buildAgentImage(docker: Dockerode): Promise<AgentImage> {
  const ctx = await agentContext();
  try {
    const found = await docker.getImage(ctx.tag).inspect();
    return { tag: ctx.tag, id: found.Id };
  } catch (err) {
    if (statusOf(err) !== 404) throw new Error(`inspecting ${ctx.tag} failed: ${engineMessage(err)}`, { cause: err });
  }
  const context = await buildContext(ctx);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(context, { t: ctx.tag, rm: true, forcerm: true });
  } catch (err) {
    context.destroy();
    throw new Error(`building ${ctx.tag} failed: ${engineMessage(err)}`, { cause: err });
  }
  let id = '';
  try {
    await readProgress(stream, (m) => {
      if (m.aux?.ID) id = m.aux.ID;
    });
  } catch (err) {
    throw new Error(`building ${ctx.tag} failed: ${(err as Error).message}`, { cause: err });
  }
  if (!id) id = (await docker.getImage(ctx.tag).inspect()).Id;
  await pruneOldAgentImages(docker, id);
  return { tag: ctx.tag, id };
}

/**
 * Removes the images of earlier agents (an upgraded console builds a new one). Best effort and
 * never forced: an image a container still uses (another console's agent) stays.
 */
async function pruneOldAgentImages(docker: Dockerode, keep: string): Promise<void> {
  try {
    const images = await docker.listImages({ filters: { label: [`${AGENT_LABEL}=1`] } });
    for (const image of images) {
      if (image.Id === keep) continue;
      for (const ref of image.RepoTags?.filter((t) => t.startsWith(`${AGENT_REPOSITORY}:`)) ?? []) {
        await docker
          .getImage(ref)
          .remove()
          .catch(() => undefined);
      }
    }
  } catch {
    // Leftovers cost disk, not correctness.
  }
}
