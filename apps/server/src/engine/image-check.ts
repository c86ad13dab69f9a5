import type { ContainerEngine } from './container-engine.js';
import type { ImageCheckRepository } from './image-check-repository.js';
import { CONTAINER_UID } from './paths.js';

export interface ImageCheckResult {
  passed: boolean;
  /** The ID that was checked: jobs create their containers from it, never from the tag. */
  imageId: string | null;
  /** `repo@sha256:…` when the image came from a registry; null for a built or loaded one. */
  imageDigest: string | null;
  reason: string | null;
  /** true when an earlier verdict for this image ID was reused. */
  cached: boolean;
}

/** The uid part of a Docker USER value ("1101", "1101:1101", "work", "work:grp"); null for a name. */
export function numericUid(user: string): number | null {
  const u = user.split(':')[0] ?? '';
  if (u === '') return 0; // no USER: the image runs as root
  return /^\d+$/.test(u) ? Number(u) : null;
}

/** Finds a user name's uid in the text of an /etc/passwd file. */
export function uidFromPasswd(passwd: string, name: string): number | null {
  return passwdEntry(passwd, name)?.uid ?? null;
}

/**
 * The /etc/passwd entry the engine would pick for a USER's user part: like runc, a line whose
 * name or uid equals it.
 */
export function passwdEntry(passwd: string, user: string): { name: string; uid: number; gid: number } | null {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) continue;
    if (f[0] === user || f[2] === user) return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

/** A group name's (or number's) gid in the text of an /etc/group file. */
export function gidFromGroup(group: string, name: string): number | null {
  for (const line of group.split('\n')) {
    const f = line.split(':');
    if ((f[0] === name || f[2] === name) && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return null;
}

/** Whether /etc/group lists `user` as a member of a group with gid 0. */
export function inRootGroup(group: string, user: string): boolean {
  return group.split('\n').some((line) => {
    const f = line.split(':');
    return f[2] === '0' && (f[3] ?? '').split(',').includes(user);
  });
}

const ROOT_GROUP = 'group 0 (the root group) is not allowed';

/**
 * The reference's custom-image check: the image exists (pulled when absent) and its default user
 * is UID 1101. The verdict is stored per image ID, so a rebuilt image under the same tag is
 * checked again while an unchanged one is not.
 */
export async function checkImage(
  ref: string,
  deps: { engine: ContainerEngine; verdicts: ImageCheckRepository },
): Promise<ImageCheckResult> {
  const { engine, verdicts } = deps;
  // On many hosts the registry is the truth: pulled every time (cheap when unchanged), so the
  // digest recorded is the one every node will pull, not a stale copy on the manager.
  let image = engine.multiHost ? null : await engine.inspectImage(ref);
  if (!image) {
    try {
      await engine.pullImage(ref);
    } catch (err) {
      return {
        passed: false,
        imageId: null,
        imageDigest: null,
        cached: false,
        reason: engine.multiHost
          ? `image ${ref} could not be pulled from its registry, so no node could run it: ${(err as Error).message}`
          : `image ${ref} is not on the engine and could not be pulled: ${(err as Error).message}`,
      };
    }
    image = await engine.inspectImage(ref);
    if (!image)
      return { passed: false, imageId: null, imageDigest: null, cached: false, reason: `image ${ref} is still absent after pulling` };
  }
  const digest = digestFor(ref, image.repoDigests ?? []);
  const earlier = verdicts.get(image.id);
  if (earlier) return { passed: earlier.passed, imageId: image.id, imageDigest: digest, reason: earlier.reason, cached: true };
  const reason = await userProblem(ref, image.user, engine);
  verdicts.save({ imageId: image.id, imageRef: ref, passed: reason === null, reason, checkedAt: new Date().toISOString() });
  return { passed: reason === null, imageId: image.id, imageDigest: digest, reason, cached: false };
}

/**
 * Why the image's default user is not allowed, or null: the engine must run it as UID 1101 in a
 * group other than 0. Resolved as the engine does: a name through /etc/passwd; without a group
 * part, the passwd entry's group (0 when there is none) plus the groups /etc/group lists the
 * user in; a group name through /etc/group.
 */
async function userProblem(ref: string, user: string, engine: ContainerEngine): Promise<string | null> {
  const [userPart = '', groupPart] = user.split(':');
  const files = new Map<string, string | null>();
  const read = async (p: string): Promise<string | null> => {
    if (!files.has(p)) files.set(p, await engine.readImageFile(ref, p, 1 << 20));
    return files.get(p)!;
  };
  let uid = numericUid(user);
  if (uid === null) {
    const passwd = await read('/etc/passwd');
    uid = passwd === null ? null : uidFromPasswd(passwd, userPart);
    if (uid === null) {
      return `the image's default user "${userPart}" is not in its /etc/passwd, so its UID cannot be checked; the default user must be UID ${CONTAINER_UID}`;
    }
  }
  if (uid !== CONTAINER_UID) {
    const who = user === '' ? 'root (no USER instruction)' : `"${user}" (UID ${uid})`;
    return `the image's default user is ${who}; it must be UID ${CONTAINER_UID} (add "USER ${CONTAINER_UID}:${CONTAINER_UID}" to the Dockerfile)`;
  }
  const fix = `use a group of its own, e.g. "USER ${CONTAINER_UID}:${CONTAINER_UID}"`;
  if (groupPart !== undefined && groupPart !== '') {
    let gid = /^\d+$/.test(groupPart) ? Number(groupPart) : null;
    if (gid === null) {
      const group = await read('/etc/group');
      gid = group === null ? null : gidFromGroup(group, groupPart);
      if (gid === null) return `the image's default group "${groupPart}" is not in its /etc/group, so its GID cannot be checked; ${fix}`;
    }
    if (gid === 0) return `the image's default group "${groupPart}" is GID 0: ${ROOT_GROUP}; ${fix}`;
    return null;
  }
  const entry = await read('/etc/passwd').then((p) => (p === null ? null : passwdEntry(p, userPart)));
  if (!entry) return `the image's default user "${user}" has no /etc/passwd entry, so the engine runs it in group 0: ${ROOT_GROUP}; ${fix}`;
  if (entry.gid === 0) return `the image's default user "${user}" has group 0 in its /etc/passwd: ${ROOT_GROUP}; ${fix}`;
  const group = await read('/etc/group');
  if (group !== null && inRootGroup(group, entry.name)) {
    return `the image's /etc/group makes its default user "${entry.name}" a member of group 0: ${ROOT_GROUP}; ${fix}`;
  }
  return null;
}

/** The repo digest for the reference's repository, else the image's first one; null for none. */
function digestFor(ref: string, digests: string[]): string | null {
  const repo = ref.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  return digests.find((d) => d.startsWith(`${repo}@`)) ?? digests[0] ?? null;
}
