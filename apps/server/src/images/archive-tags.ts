import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { InvalidInputError } from '../errors.js';

/**
 * A tag as the engine lists it (Docker's "familiar" form): `docker.io/library/x` → `x`, a
 * missing tag → `:latest`. null for what moves no tag when pulled or loaded (a digest, an ID).
 */
export function normalizeTag(ref: string): string | null {
  if (ref.includes('@') || /^(sha256:)?[0-9a-f]{64}$/.test(ref)) return null;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const parts = name.split('/');
  const first = parts[0]!;
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain && first !== 'docker.io' && first !== 'index.docker.io') return `${name}:${tag}`;
  const rest = hasDomain ? parts.slice(1) : parts;
  const familiar = rest.length === 2 && rest[0] === 'library' ? rest[1]! : rest.join('/');
  return `${familiar}:${tag}`;
}

/** What an image archive says it will tag: each tag, and the image ID it points it at when known. */
export interface ArchiveTags {
  tags: string[];
  /** tag → sha256:… from manifest.json's Config; absent for the legacy `repositories` file. */
  imageIds: Map<string, string>;
}

/** The engine reads these two (top level, through links) to decide which tags a load sets. */
const METADATA = new Set(['manifest.json', 'repositories']);
const METADATA_LIMIT = 1 << 20;

const GZIP = Buffer.from([0x1f, 0x8b]);
const OTHER_COMPRESSION: [Buffer, string][] = [
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
];

function invalid(message: string): InvalidInputError {
  return new InvalidInputError([{ path: 'body', message }]);
}

function tagsOf(held: { name: string; content: Buffer }[]): ArchiveTags {
  const tags = new Set<string>();
  const imageIds = new Map<string, string>();
  for (const { name, content } of held) {
    let doc: unknown;
    try {
      doc = JSON.parse(content.toString('utf8'));
    } catch {
      throw invalid(`the archive's ${name} is not valid JSON (is it a docker save tarball?)`);
    }
    if (name === 'manifest.json') {
      if (!Array.isArray(doc)) throw invalid('the archive’s manifest.json is not a list of images');
      for (const m of doc as unknown[]) {
        const entry = (typeof m === 'object' && m !== null ? m : {}) as { Config?: unknown; RepoTags?: unknown };
        const hex = typeof entry.Config === 'string' ? /([0-9a-f]{64})(\.json)?$/.exec(entry.Config)?.[1] : undefined;
        for (const t of Array.isArray(entry.RepoTags) ? entry.RepoTags : []) {
          if (typeof t !== 'string') continue;
          tags.add(t);
          if (hex) imageIds.set(t, `sha256:${hex}`);
        }
      }
    } else if (typeof doc === 'object' && doc !== null) {
      for (const [repo, byTag] of Object.entries(doc)) {
        if (typeof byTag === 'object' && byTag !== null) for (const t of Object.keys(byTag)) tags.add(`${repo}:${t}`);
      }
    }
  }
  return { tags: [...tags], imageIds };
}

/**
 * Passes a `docker save` archive on to the engine as it arrives, except the files that set tags
 * (manifest.json, repositories), which are held back until the whole archive has been read and
 * `check` accepted its tags. The engine applies tags only from those files, so a refused archive
 * never moves a tag: the engine gets a cut-off upload and loads nothing.
 *
 * The archive is re-packed, not copied byte for byte: whatever the engine receives is a plain tar
 * this parser has read, so a compression it does not know or an odd layout cannot slip a tag past
 * the check. A metadata file anywhere in the tree counts (a link to a folder could put it at the
 * top), and one that is itself a link is refused.
 */
export class ArchiveTagGuard {
  /** The re-packed archive, for the engine. */
  readonly output = new PassThrough();
  /** Why the archive was refused (or the source failed); set before `output` is destroyed. */
  error: Error | null = null;

  private readonly extract = tar.extract();
  private readonly pack = tar.pack();

  constructor(
    private readonly source: Readable,
    private readonly check: (found: ArchiveTags) => Promise<void>,
  ) {
    this.pack.pipe(this.output);
    this.pack.on('error', (err: Error) => this.fail(err));
    this.extract.on('error', (err: Error) =>
      this.fail(
        err instanceof InvalidInputError ? err : invalid(`the upload is not an image archive (docker save format): ${err.message}`),
      ),
    );
    // The engine gave up (its own error is the one to report): stop reading the upload.
    this.output.on('close', () => {
      if (!this.output.readableEnded && !this.error) this.halt();
    });
    source.on('error', (err: Error) => this.fail(err));
    source.on('close', () => {
      if (!source.readableEnded) this.fail(new Error('the upload broke off before its end'));
    });
    this.start().catch((err: unknown) => this.fail(err as Error));
  }

  private async start(): Promise<void> {
    const head = await firstChunk(this.source);
    if (this.error) return;
    if (head) {
      const other = OTHER_COMPRESSION.find(([magic]) => head.subarray(0, magic.length).equals(magic));
      if (other) throw invalid(`the archive is ${other[1]}-compressed; upload it as a plain tar or gzip-compressed (docker save | gzip)`);
      this.source.unshift(head);
    }
    const held: { name: string; header: tar.Header; content: Buffer }[] = [];
    this.extract.on('entry', (header, stream, next) => {
      const name = path.posix.normalize(header.name).replace(/^(\.?\/)+/, '');
      const base = path.posix.basename(name);
      // Once the guard halts, both ends of an entry close early; that is reported through fail().
      stream.on('error', () => undefined);
      if (!METADATA.has(base)) {
        const into = this.pack.entry(header, (err) => (err ? this.fail(err) : next()));
        into.on('error', () => undefined);
        stream.pipe(into);
        return;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        stream.resume();
        this.fail(invalid(`the archive's ${name} is a ${header.type ?? 'special entry'}, not a regular file`));
        return;
      }
      const parts: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: unknown) => {
        const b = c as Buffer;
        size += b.length;
        if (size <= METADATA_LIMIT) parts.push(b);
      });
      stream.on('end', () => {
        if (size > METADATA_LIMIT) return this.fail(invalid(`the archive's ${name} is over ${METADATA_LIMIT} bytes`));
        held.push({ name: base, header, content: Buffer.concat(parts) });
        next();
      });
    });
    this.extract.on('finish', () => {
      void (async () => {
        await this.check(tagsOf(held));
        if (this.error) return;
        for (const h of held) this.pack.entry({ ...h.header, size: h.content.length }, h.content);
        this.pack.finalize();
      })().catch((err: unknown) => this.fail(err as Error));
    });
    const gzipped = head !== null && head.subarray(0, 2).equals(GZIP);
    if (gzipped) {
      const gunzip = createGunzip();
      gunzip.on('error', (err) => this.fail(invalid(`the gzip stream is broken: ${err.message}`)));
      this.source.pipe(gunzip).pipe(this.extract);
    } else {
      this.source.pipe(this.extract);
    }
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.output.destroy(err);
    this.halt();
  }

  private halt(): void {
    this.pack.destroy();
    this.extract.destroy();
    if (!this.source.readableEnded) this.source.destroy();
  }
}

/** The first chunk the stream yields (null at once-empty), left for the caller to unshift. */
function firstChunk(s: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      s.off('readable', onReadable).off('end', onEnd).off('error', onError);
    };
    const onReadable = (): void => {
      const c = s.read() as Buffer | null;
      if (c === null) return;
      done();
      resolve(c);
    };
    const onEnd = (): void => {
      done();
      resolve(null);
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    s.on('readable', onReadable).on('end', onEnd).on('error', onError);
  });
}
