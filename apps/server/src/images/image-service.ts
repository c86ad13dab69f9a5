import type { Readable } from 'node:stream';
import type { EngineImage, ImageCheckResult, ImageVerdict, LoadedImages, PullEvent } from '@tc/contracts';
import { ImageArchiveError, type ContainerEngine, type ImageSummary } from '../engine/container-engine.js';
import { checkImage } from '../engine/image-check.js';
import type { ImageCheckRepository } from '../engine/image-check-repository.js';
import type { ImageTagRepository } from './image-tag-repository.js';
import type { Actor } from '../accounts/actor.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { ArchiveTagGuard, normalizeTag, type ArchiveTags } from './archive-tags.js';
import { ImageRef } from '@tc/contracts';

export interface ImageServiceDeps {
  engine: ContainerEngine;
  verdicts: ImageCheckRepository;
  tags: ImageTagRepository;
  log: { error(obj: object, msg: string): void };
  /**
   * On a cluster: the registry every node pulls from. An uploaded archive's tags must name it,
   * and what is loaded is pushed there before it is checked.
   */
  registry?: string;
  /** Every job's image (spec reference and the ID it ran), to count each image's jobs; none: not counted. */
  jobImages?: () => { imageId: string | null; ref: string }[];
}

/** What the engine says when it cannot reach a registry at all (DNS, refused, timeouts). */
const UNREACHABLE = /dial tcp|no such host|connection refused|i\/o timeout|TLS handshake timeout|network is unreachable/i;

/** The registry a reference names: its first component when that is a host, else Docker Hub. */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0]!;
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

const UNCHECKED: ImageVerdict = { status: 'unchecked', reason: null, checkedAt: null };

/** The Images page: what the engine has, each with its UID 1101 verdict; adding by pull or upload. */
export class ImageService {
  constructor(private readonly d: ImageServiceDeps) {}

  async list(): Promise<EngineImage[]> {
    const images = await this.d.engine.listImages();
    const uses = this.d.jobImages?.().map((u) => ({ imageId: u.imageId, tag: normalizeTag(u.ref) }));
    return images
      .sort((a, b) => b.created.getTime() - a.created.getTime())
      .map((i) => {
        const view = this.view(i);
        if (!uses) return view;
        // A job counts once: by the ID it ran, or (not run yet, or its tag moved since) by the tag it names.
        const tags = new Set(i.repoTags.map((t) => normalizeTag(t)));
        return { ...view, jobs: uses.filter((u) => u.imageId === i.id || (u.tag !== null && tags.has(u.tag))).length };
      });
  }

  /** Runs the check for an image the engine has; an absent one is a 404 (pull or load it first). */
  async check(ref: string): Promise<ImageCheckResult> {
    const present = await this.d.engine.inspectImage(ref);
    if (!present) throw new NotFoundError(`image ${ref} is not on the engine; pull it or upload its tarball first`);
    const result = await checkImage(ref, this.d);
    const imageId = result.imageId ?? present.id;
    return { ref, image: await this.find(imageId), cached: result.cached };
  }

  /**
   * Whether the actor may point `tag` at another image: admins may move any tag, users only their
   * own or one that is not on the engine. A tag on the engine that no user holds was put there by
   * the operator (the demo image, say) and belongs to the console. Resolves with whether the tag
   * becomes the actor's; a ConflictError names the tag and its holder.
   */
  async mayMoveTag(actor: Actor, ref: string, loadingId?: string): Promise<boolean> {
    const tag = normalizeTag(ref);
    if (tag === null) return false;
    if (actor.admin) return true;
    const owner = this.d.tags.owner(tag);
    if (owner === actor.userId) return true;
    if (owner !== null)
      throw new ConflictError(
        `the tag ${tag} belongs to another user; only they or an admin can point it at another image; choose another tag`,
      );
    const present = await this.d.engine.inspectImage(ref);
    if (!present) return true;
    // The same image again: nothing moves, and the tag stays the console's.
    if (present.id === loadingId) return false;
    throw new ConflictError(
      `the tag ${tag} belongs to the console (an administrator put it on the engine); only an admin can point it at another image; choose another tag`,
    );
  }

  /**
   * Pulls the image (unless the engine already has it) and checks it, reporting through `emit`;
   * never rejects: a failure is the last event, since the caller has already answered 200. The
   * caller has checked mayMoveTag first, so a refusal is a 409, not a line.
   */
  async pull(actor: Actor, ref: string, claims: boolean, emit: (e: PullEvent) => void): Promise<void> {
    try {
      let pulled = false;
      if (await this.d.engine.inspectImage(ref)) {
        emit({ type: 'progress', status: `${ref} is already on the engine; nothing to download`, layer: null, current: null, total: null });
      } else {
        emit({ type: 'progress', status: `pulling ${ref}`, layer: null, current: null, total: null });
        await this.d.engine.pullImage(ref, (p) =>
          emit({ type: 'progress', status: p.status, layer: p.layer ?? null, current: p.current ?? null, total: p.total ?? null }),
        );
        pulled = true;
      }
      const tag = normalizeTag(ref);
      if (claims && tag) this.d.tags.record(tag, actor.userId, (await this.d.engine.inspectImage(ref))?.id ?? null);
      emit({ type: 'progress', status: `checking that the default user is UID 1101`, layer: null, current: null, total: null });
      const checked = await this.check(ref);
      emit({ type: 'done', ref, pulled, image: checked.image });
    } catch (err) {
      const why = this.reason(err, `pulling ${ref}`);
      const hint = UNREACHABLE.test(why) ? `the registry ${registryOf(ref)} cannot be reached from the engine: ` : '';
      emit({ type: 'error', message: `could not pull ${ref}: ${hint}${why}` });
    }
  }

  /**
   * Streams a `docker save` tarball into the engine, then checks every image it held. The tags
   * it sets are checked (mayMoveTag) before the engine sees them; see ArchiveTagGuard.
   */
  async load(actor: Actor, tar: Readable): Promise<LoadedImages> {
    const claimed = new Set<string>();
    const guard = new ArchiveTagGuard(tar, async (found: ArchiveTags) => {
      for (const t of found.tags) {
        if (!ImageRef.safeParse(t).success) {
          throw new InvalidInputError([{ path: 'body', message: `the archive names the tag "${t}", which is not an image reference` }]);
        }
        const registry = this.d.registry;
        if (registry && !t.startsWith(`${registry}/`)) {
          throw new InvalidInputError([
            {
              path: 'body',
              message: `the archive names the tag "${t}"; on this cluster every node pulls from ${registry}, so tag the image ${registry}/<name>:<tag> before docker save`,
            },
          ]);
        }
        if (await this.mayMoveTag(actor, t, found.imageIds.get(t))) claimed.add(normalizeTag(t)!);
      }
    });
    let refs: string[];
    try {
      refs = await this.d.engine.loadImage(guard.output);
    } catch (err) {
      if (guard.error instanceof ConflictError || guard.error instanceof InvalidInputError) throw guard.error;
      if (err instanceof ImageArchiveError) {
        throw new InvalidInputError([
          { path: 'body', message: `the engine could not load the upload as an image archive (docker save format): ${err.message}` },
        ]);
      }
      throw err;
    }
    if (!refs.length) {
      throw new InvalidInputError([{ path: 'body', message: 'the archive held no image (is it a docker save tarball?)' }]);
    }
    const ids = new Set<string>();
    if (this.d.registry) {
      const push = this.d.engine.pushImage?.bind(this.d.engine);
      if (!push) throw new Error('the engine cannot push images to the registry');
      for (const ref of refs) {
        try {
          await push(ref);
        } catch (err) {
          throw new InvalidInputError([
            {
              path: 'body',
              message: `${ref} was loaded but could not be pushed to ${this.d.registry}: ${this.reason(err, `pushing ${ref}`)}`,
            },
          ]);
        }
      }
    }
    for (const ref of refs) {
      const r = await checkImage(ref, this.d);
      if (r.imageId) ids.add(r.imageId);
      const tag = normalizeTag(ref);
      if (tag && claimed.has(tag)) this.d.tags.record(tag, actor.userId, r.imageId);
    }
    const all = await this.d.engine.listImages();
    return { refs, items: all.filter((i) => ids.has(i.id)).map((i) => this.view(i)) };
  }

  private async find(imageId: string): Promise<EngineImage> {
    const found = (await this.d.engine.listImages()).find((i) => i.id === imageId);
    if (!found) throw new NotFoundError(`image ${imageId} is no longer on the engine`);
    return this.view(found);
  }

  private view(i: ImageSummary): EngineImage {
    const v = this.d.verdicts.get(i.id);
    return {
      id: i.id,
      repoTags: i.repoTags,
      repoDigests: i.repoDigests,
      sizeBytes: i.sizeBytes,
      createdAt: i.created.toISOString(),
      check: v ? { status: v.passed ? 'passed' : 'failed', reason: v.reason, checkedAt: v.checkedAt } : UNCHECKED,
    };
  }

  /** What a user can act on: the engine's own words; anything else is logged, not shown. */
  private reason(err: unknown, what: string): string {
    if (err instanceof Error && (err.name === 'EngineError' || err instanceof NotFoundError)) return err.message;
    this.d.log.error({ err }, `${what} failed`);
    return 'internal error; see the server log';
  }
}
