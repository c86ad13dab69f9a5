import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { S3ObjectStore } from '../../apps/server/src/storage/s3-object-store.js';
import { MiB } from './stats.js';

/** A shape of dataset: `count` files of `size` bytes. */
export interface Shape {
  label: string;
  count: number;
  size: number;
}

export const SHAPES = {
  big: { label: '100 × 10 MiB', count: 100, size: 10 * MiB },
  small: { label: '10,000 × 4 KiB', count: 10_000, size: 4096 },
} as const satisfies Record<string, Shape>;

export const fileName = (i: number): string => `f${String(i).padStart(5, '0')}.bin`;

/**
 * A stream of `size` incompressible bytes, made a chunk at a time from a 1 MiB random block
 * (each chunk offset differently), so a 256 MiB object never sits in memory.
 */
export function byteStream(size: number): Readable {
  const block = randomBytes(MiB);
  let left = size;
  let n = 0;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const len = Math.min(left, 256 * 1024);
      const off = (n++ * 7919) % (MiB - len + 1);
      left -= len;
      this.push(block.subarray(off, off + len));
    },
  });
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** Writes the shape into the store under the prefix, streaming; small objects in one PUT each. */
export async function putDataset(store: S3ObjectStore, bucket: string, prefix: string, shape: Shape): Promise<void> {
  const idx = Array.from({ length: shape.count }, (_, i) => i);
  await pool(idx, shape.size <= MiB ? 16 : 4, async (i) => {
    const key = `${prefix}${fileName(i)}`;
    if (shape.size <= MiB) await store.upload(bucket, key, randomBytes(shape.size));
    else await store.upload(bucket, key, byteStream(shape.size));
  });
}

/** Writes the shape into a local folder (for rclone's upload), a chunk at a time. */
export async function writeLocalDataset(dir: string, shape: Shape): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const idx = Array.from({ length: shape.count }, (_, i) => i);
  await pool(idx, 8, async (i) => {
    const fh = await open(path.join(dir, fileName(i)), 'w');
    try {
      for await (const chunk of byteStream(shape.size)) await fh.write(chunk as Buffer);
    } finally {
      await fh.close();
    }
  });
}

export async function countPrefix(store: S3ObjectStore, bucket: string, prefix: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const o of store.list(bucket, prefix)) {
    files += 1;
    bytes += o.size;
  }
  return { files, bytes };
}

export function rmrf(p: string): void {
  rmSync(p, { recursive: true, force: true });
}

/** Runs a command and resolves with its wall time in ms; rejects on a non-zero exit. */
export function timeCommand(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${err}`));
    });
  });
}
