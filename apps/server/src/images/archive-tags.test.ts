import { PassThrough, type Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ArchiveTagGuard, normalizeTag, type ArchiveTags } from './archive-tags.js';

describe('normalizeTag', () => {
  it('gives the form the engine lists tags in', () => {
    expect(normalizeTag('busybox')).toBe('busybox:latest');
    expect(normalizeTag('docker.io/library/busybox:1')).toBe('busybox:1');
    expect(normalizeTag('index.docker.io/org/app:2')).toBe('org/app:2');
    expect(normalizeTag('docker.io/org/app')).toBe('org/app:latest');
    expect(normalizeTag('registry:5000/org/app:3')).toBe('registry:5000/org/app:3');
    expect(normalizeTag('localhost/app')).toBe('localhost/app:latest');
  });
  it('is null for what moves no tag: a digest or an image ID', () => {
    expect(normalizeTag('org/app@sha256:' + 'a'.repeat(64))).toBeNull();
    expect(normalizeTag('sha256:' + 'b'.repeat(64))).toBeNull();
  });
});

type Entry = { name: string; content?: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string };

function archive(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname });
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' });
    else pack.entry({ name: e.name }, e.content ?? '');
  }
  pack.finalize();
  const parts: Buffer[] = [];
  return new Promise((resolve) => {
    pack.on('data', (c: unknown) => parts.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(parts)));
  });
}

/** Runs the guard over `bytes`; resolves with what the check saw, the names passed on, and any refusal. */
async function guard(bytes: Buffer, refuse = false): Promise<{ seen: ArchiveTags | null; names: string[]; error: Error | null }> {
  const source = new PassThrough();
  let seen: ArchiveTags | null = null;
  const g = new ArchiveTagGuard(source as Readable, async (found) => {
    seen = found;
    if (refuse) throw new Error('refused');
  });
  const names: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (h, s, next) => {
    names.push(h.name);
    s.resume();
    s.on('end', next);
  });
  g.output.on('error', () => undefined);
  const done = new Promise<void>((resolve) => {
    extract.on('finish', () => resolve());
    g.output.on('close', () => resolve());
  });
  g.output.pipe(extract);
  source.end(bytes);
  await done;
  return { seen, names, error: g.error };
}

const manifest = (tags: string[]) => JSON.stringify([{ Config: `${'c'.repeat(64)}.json`, RepoTags: tags, Layers: [] }]);

describe('ArchiveTagGuard', () => {
  it('passes everything on, the tag files last and only after the check', async () => {
    const bytes = await archive([
      { name: 'manifest.json', content: manifest(['a/b:1']) },
      { name: 'layer/', type: 'directory' },
      { name: 'layer/layer.tar', content: 'x'.repeat(3000) },
      { name: 'repositories', content: JSON.stringify({ 'a/c': { '2': 'id' } }) },
    ]);
    const r = await guard(bytes);
    expect(r.error).toBeNull();
    expect(r.seen!.tags).toEqual(['a/b:1', 'a/c:2']);
    expect(r.seen!.imageIds.get('a/b:1')).toBe(`sha256:${'c'.repeat(64)}`);
    expect(r.names).toEqual(['layer/', 'layer/layer.tar', 'manifest.json', 'repositories']);
  });

  it('holds the tag files back for good when the check refuses', async () => {
    const r = await guard(
      await archive([
        { name: 'x', content: 'y' },
        { name: 'manifest.json', content: manifest(['a/b:1']) },
      ]),
      true,
    );
    expect(r.error?.message).toBe('refused');
    expect(r.names).not.toContain('manifest.json');
  });

  it('reads gzip, and counts a manifest.json below the top (a link to a folder can lift it there)', async () => {
    const bytes = gzipSync(
      await archive([
        { name: 'up', type: 'symlink', linkname: '.' },
        { name: 'up/manifest.json', content: manifest(['hidden/tag:1']) },
      ]),
    );
    const r = await guard(bytes);
    expect(r.seen!.tags).toEqual(['hidden/tag:1']);
  });

  it('refuses a manifest.json that is a link, and xz', async () => {
    const linked = await guard(
      await archive([
        { name: 'other.json', content: manifest(['a/b:1']) },
        { name: 'manifest.json', type: 'symlink', linkname: 'other.json' },
      ]),
    );
    expect(linked.error?.message).toMatch(/manifest.json is a symlink, not a regular file/);
    const xz = await guard(Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(100)]));
    expect(xz.error?.message).toMatch(/xz-compressed/);
  });

  it('refuses what is not a tar', async () => {
    const r = await guard(Buffer.from('not a tar file\n'.repeat(100)));
    expect(r.error?.message).toMatch(/not an image archive \(docker save format\)/);
  });
});
