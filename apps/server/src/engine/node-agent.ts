/**
 * The node agent port: a small program of the console's own (not the user's image) that runs
 * beside the engine on the job's node and moves the job's data there, straight between the
 * object store and the job's work folder, so the bytes never pass through the console. The
 * console hands it only what one job needs: presigned URLs for exactly the listed objects,
 * valid for a short time. It talks JSON on stdin and newline-delimited JSON on stdout.
 *
 * Work folders: every job node gets a folder `<node root>/<workDir>` on the engine's host; the
 * agent sees the node root at AGENT_NODE_ROOT, the training container gets its folder mounted at
 * /home/work.
 */

/** Where the agent sees the node root (a bind mount of the engine host's folder). */
export const AGENT_NODE_ROOT = '/node';

/** A work folder's name, which must be a plain relative path (it is joined under a root). */
export function checkWorkDir(workDir: string): string {
  if (
    workDir === '' ||
    workDir.startsWith('/') ||
    workDir.includes('\0') ||
    workDir.split('/').some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new Error(`a work folder must be a plain relative path: ${JSON.stringify(workDir)}`);
  }
  return workDir;
}

export interface StageFile {
  /** Where it goes, relative to the work folder, e.g. "data/train/a.csv" (checked, never `..`). */
  path: string;
  /** A presigned GET. */
  url: string;
  /** The size the listing gave; a body of another length fails (the object changed). */
  size: number;
  /** The pinned ETag (dataset versions): a different one fails with code `changed`. */
  etag?: string;
  /** The object's key, for messages. */
  key: string;
}

export interface StageInput {
  /** The work folder as the agent sees it: under AGENT_NODE_ROOT. Made afresh (an old one is removed). */
  root: string;
  /** Owner of everything staged (the container contract's UID). */
  uid: number;
  /** Folders to make (relative to root) even when nothing is staged into them. */
  dirs: string[];
  /** Downloaded in parallel from one pool; progress and completion are reported per group. */
  groups: { name: string; files: StageFile[] }[];
  concurrency?: number;
  /**
   * A file made (empty, relative to root) once everything is staged: a training container
   * started early waits for it, so its start overlaps the staging.
   */
  marker?: string;
  /**
   * Groups whose staged files are reported (a `file` message each, with size and modification
   * time) before the marker is made, so nothing of the job has touched them yet: restored
   * checkpoints, which then go up again only once changed.
   */
  report?: string[];
}

export interface ScanInput {
  /** The folder to list (the work folder's outputs), under AGENT_NODE_ROOT. */
  root: string;
  uid: number;
}

export interface UploadFile {
  path: string;
  size: number;
  /** A presigned PUT for the whole file … */
  url?: string;
  /** … or, for a file too large for one PUT, presigned UploadPart URLs, in order, with their sizes. */
  parts?: { url: string; size: number }[];
}

export interface UploadInput {
  root: string;
  uid: number;
  files: UploadFile[];
  concurrency?: number;
}

export interface RemoveInput {
  root: string;
}

/** How a transfer failed, as the runner words and classifies it. */
export type AgentErrorCode = 'not_found' | 'changed' | 'denied' | 'unavailable' | 'failed' | 'invalid';

export type AgentMessage =
  /** Running totals, at most every 200 ms while a transfer moves, and at a group's end. */
  | { type: 'progress'; group?: string; files: number; bytes: number }
  /** A stage group finished. */
  | { type: 'done'; group: string; files: number; bytes: number }
  /** scan: one regular file, with its modification time (what tells a changed checkpoint). */
  | { type: 'file'; path: string; size: number; mtimeMs?: number }
  /** scan: a link or special file, not uploaded. */
  | { type: 'skipped'; path: string; kind: 'link' | 'special' }
  /** upload: the store refused this one object (HTTP 400: a name it cannot hold); the others go on. */
  | { type: 'refused'; path: string; status: number; message: string }
  /** upload: the ETags of a multipart file's parts, in order (the console completes the upload). */
  | { type: 'parts'; path: string; etags: string[] }
  /** The command failed; the agent exits 1 after this. */
  | { type: 'error'; code: AgentErrorCode; message: string; group?: string; key?: string; path?: string; status?: number }
  /** The command finished; totals for scan and upload. */
  | { type: 'end'; files?: number; bytes?: number };

/** The agent could not do what it was asked; `info` is its error message when it sent one. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    message: string,
    readonly info: Extract<AgentMessage, { type: 'error' }> | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AgentCommand =
  | { command: 'stage'; input: StageInput }
  | { command: 'scan'; input: ScanInput }
  | { command: 'upload'; input: UploadInput }
  | { command: 'remove'; input: RemoveInput };

export interface NodeAgent {
  /** Makes sure the agent runs on the engine (its image built, its container up); cheap once it does. */
  ensure(): Promise<void>;
  /** The engine host's path of a work folder, for the training container's mount. */
  hostPath(workDir: string): string;
  /** The agent's path of a work folder (under AGENT_NODE_ROOT). */
  agentPath(workDir: string): string;
  /**
   * Runs one command in the agent and hands each message to onMessage as it comes. Resolves at
   * `end`; rejects with AgentError (the agent's own error message when it sent one). An aborted
   * signal ends the command (its process is killed). `node` (EngineNode.id) says on which host
   * of a multi-host engine; a single engine's agent ignores it.
   */
  run(cmd: AgentCommand, onMessage: (m: AgentMessage) => void, signal?: AbortSignal, node?: string): Promise<void>;
}
