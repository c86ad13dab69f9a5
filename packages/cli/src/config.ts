import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './errors.js';

export interface SavedLogin {
  url: string;
  token: string;
}

/** $XDG_CONFIG_HOME/trainctl, or ~/.config/trainctl. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(base, 'trainctl');
}

export function configFile(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'config.json');
}

export function readLogin(env: NodeJS.ProcessEnv): SavedLogin | null {
  let text: string;
  try {
    text = readFileSync(configFile(env), 'utf8');
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Partial<SavedLogin>;
    return typeof v.url === 'string' && typeof v.token === 'string' ? { url: v.url, token: v.token } : null;
  } catch {
    throw new CliError(`${configFile(env)} is not valid JSON; run trainctl logout, then trainctl login`, EXIT.ERROR);
  }
}

/**
 * The token is a password: the file is created 0600 in a 0700 folder and swapped in by rename,
 * so it is never readable by others, not even for a moment, and a crash leaves the old one.
 */
export function saveLogin(env: NodeJS.ProcessEnv, login: SavedLogin): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile(env);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(login, null, 2) + '\n');
  } finally {
    closeSync(fd);
  }
  // The umask cannot widen 0600, but an older file of another mode could be replaced by one: be explicit.
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

export function removeLogin(env: NodeJS.ProcessEnv): boolean {
  const file = configFile(env);
  try {
    readFileSync(file);
  } catch {
    return false;
  }
  rmSync(file, { force: true });
  return true;
}
