import type { ContainerEngine } from './container-engine.js';
import type { ImageCheckRepository } from '../db/image-check-repository.js';

export const REQUIRED_UID = 1101;

export interface ImageCheckResult {
  passed: boolean;
  imageId: string | null;
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
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return null;
}

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
  let image = await engine.inspectImage(ref);
  if (!image) {
    try {
      await engine.pullImage(ref);
    } catch (err) {
      return {
        passed: false,
        imageId: null,
        cached: false,
        reason: `image ${ref} is not on the engine and could not be pulled: ${(err as Error).message}`,
      };
    }
    image = await engine.inspectImage(ref);
    if (!image) return { passed: false, imageId: null, cached: false, reason: `image ${ref} is still absent after pulling` };
  }
  const earlier = verdicts.get(image.id);
  if (earlier) return { passed: earlier.passed, imageId: image.id, reason: earlier.reason, cached: true };

  let uid = numericUid(image.user);
  if (uid === null) {
    const name = image.user.split(':')[0]!;
    const passwd = await engine.readImageFile(ref, '/etc/passwd', 1 << 20);
    uid = passwd === null ? null : uidFromPasswd(passwd, name);
    if (uid === null) {
      return save(
        verdicts,
        ref,
        image.id,
        `the image's default user "${name}" is not in its /etc/passwd, so its UID cannot be checked; the default user must be UID ${REQUIRED_UID}`,
      );
    }
  }
  if (uid !== REQUIRED_UID) {
    const who = image.user === '' ? 'root (no USER instruction)' : `"${image.user}" (UID ${uid})`;
    return save(
      verdicts,
      ref,
      image.id,
      `the image's default user is ${who}; it must be UID ${REQUIRED_UID} (add "USER ${REQUIRED_UID}" to the Dockerfile)`,
    );
  }
  return save(verdicts, ref, image.id, null);
}

function save(verdicts: ImageCheckRepository, ref: string, imageId: string, reason: string | null): ImageCheckResult {
  verdicts.save({ imageId, imageRef: ref, passed: reason === null, reason, checkedAt: new Date().toISOString() });
  return { passed: reason === null, imageId, reason, cached: false };
}
