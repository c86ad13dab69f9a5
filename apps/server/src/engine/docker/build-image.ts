import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { readProgress } from './progress.js';
import { engineMessage } from './errors.js';

export interface ExtraFile {
  /** Absolute path in the image, e.g. "/etc/passwd". */
  path: string;
  content: string | Buffer;
  mode?: number;
}

export interface BusyboxImageOptions {
  tag: string;
  /** The image's default user (`USER`); null or omitted leaves it unset, i.e. root. */
  user?: string | null;
  labels?: Record<string, string>;
  extraFiles?: ExtraFile[];
  /** Exec-form commands run after busybox is installed (tests use one to make a build fail). */
  run?: string[][];
  /** An exec-form ENTRYPOINT (tests prove the console replaces it with the boot command). */
  entrypoint?: string[];
}

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

async function busyboxBinary(): Promise<Buffer> {
  for (const p of BUSYBOX_CANDIDATES) {
    try {
      await access(p, constants.R_OK);
      return await readFile(p);
    } catch {
      // try the next place
    }
  }
  throw new Error(`no busybox binary at ${BUSYBOX_CANDIDATES.join(' or ')}: install Debian's busybox-static`);
}

/** Dockerfile string literal: JSON quoting is what LABEL and exec-form RUN accept. */
const q = (s: string): string => JSON.stringify(s);

function dockerfile(o: BusyboxImageOptions): string {
  const lines = ['FROM scratch'];
  // Labels first, so every intermediate image of the build carries them too: a failed build
  // leaves its finished steps behind as untagged images, and cleanup finds those by label.
  const labels = Object.entries(o.labels ?? {});
  if (labels.length) lines.push(`LABEL ${labels.map(([k, v]) => `${q(k)}=${q(v)}`).join(' ')}`);
  lines.push('COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]');
  if (o.extraFiles?.length) lines.push('COPY rootfs/ /');
  for (const cmd of o.run ?? []) lines.push(`RUN ${JSON.stringify(cmd)}`);
  if (o.entrypoint) lines.push(`ENTRYPOINT ${JSON.stringify(o.entrypoint)}`);
  // No /home/work here: the runner creates the contract's folders itself (putArchive keeps the
  // tar's owner), because users' images cannot be relied on to have them.
  if (o.user) lines.push(`USER ${o.user}`);
  return `${lines.join('\n')}\n`;
}

function relativeInImage(p: string): string {
  const rel = p.replace(/^\/+/, '');
  if (!rel || rel.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`extra file path must be absolute and plain: ${p}`);
  }
  return rel;
}

/**
 * Builds a tiny image offline: `FROM scratch` + a static busybox with its applets linked into
 * /bin, optional extra files and an optional default user. Resolves with the image ID; rejects
 * with the engine's message when a step fails.
 */
export async function buildBusyboxImage(docker: Dockerode, o: BusyboxImageOptions): Promise<string> {
  const busybox = await busyboxBinary();
  const pack = tar.pack();
  const extra = (o.extraFiles ?? []).map((f) => ({ ...f, rel: relativeInImage(f.path) }));
  pack.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile(o));
  pack.entry({ name: 'busybox', mode: 0o755 }, busybox);
  for (const f of extra) pack.entry({ name: `rootfs/${f.rel}`, mode: f.mode ?? 0o644 }, f.content);
  pack.finalize();
  // tar-stream's typings are not Node's ReadableStream; a PassThrough is.
  const context = new PassThrough();
  pack.pipe(context);

  let stream: NodeJS.ReadableStream;
  try {
    // forcerm: a failed RUN step must not leave its container behind.
    stream = await docker.buildImage(context, { t: o.tag, rm: true, forcerm: true });
  } catch (err) {
    throw new Error(`building ${o.tag} failed: ${engineMessage(err)}`, { cause: err });
  }
  let id = '';
  try {
    await readProgress(stream, (m) => {
      if (m.aux?.ID) id = m.aux.ID;
    });
  } catch (err) {
    throw new Error(`building ${o.tag} failed: ${(err as Error).message}`, { cause: err });
  }
  if (!id) id = (await docker.getImage(o.tag).inspect()).Id;
  return id;
}
