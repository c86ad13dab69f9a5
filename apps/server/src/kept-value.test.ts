import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keptValue } from './kept-value.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-kept-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keptValue', () => {
  it('makes the value once, keeps it readable by its owner only, and returns it again', () => {
    const file = path.join(dir, 'nested', 'secret');
    let made = 0;
    const make = () => `value-${++made}`;
    expect(keptValue(file, make)).toBe('value-1');
    expect(keptValue(file, make)).toBe('value-1');
    expect(made).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('value-1\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
