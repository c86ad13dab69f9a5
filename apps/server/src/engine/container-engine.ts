import type { Duplex, Readable } from 'node:stream';

export type LogStream = 'stdout' | 'stderr';

/** What the runner asks the engine to create; limits are always set. */
export interface ContainerSpec {
  name: string;
  image: string;
  /** Entrypoint + command as exec array (the runner passes ['/bin/sh', '-c', bootCommand]). */
  cmd: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  hostname: string;
  workingDir?: string;
  nanoCpus: number;
  memoryBytes: number;
  pidsLimit: number;
  /** NVIDIA GPUs through the engine's device requests; 0 or absent for none. */
  gpus?: number;
  /** 'none' for a standalone job without network, 'bridge', or the job's own network. */
  networkMode: string;
  /** Names other containers on `networkMode` resolve to this one (the node's hostname). */
  networkAliases?: string[];
  /**
   * The console's log limit per node: the engine's own log of the container is bounded from it
   * (a runaway job would otherwise fill the engine's disk too). Absent: the engine's default.
   */
  logMaxBytes?: number;
  /** Folders of the engine's host mounted into the container (the job's work folder at /home/work). */
  mounts?: { hostPath: string; containerPath: string; readOnly?: boolean }[];
  /**
   * A multi-host engine (swarm): the id of the node (EngineNode.id) the container must run on,
   * chosen by the console's all-or-nothing placement. A single engine ignores it.
   */
  node?: string;
}

/**
 * One host of the engine as the console places work on it. A single engine is one node; a swarm
 * lists its nodes (the manager's view) with their labels and resources.
 */
export interface EngineNode {
  id: string;
  hostname: string;
  /** The address the node is reached at (its swarm address); '' for a single engine. */
  addr: string;
  labels: Record<string, string>;
  /** Ready and active: it can take new work. */
  ready: boolean;
  vcpus: number;
  memoryGiB: number;
  gpus: number;
}

/** The node a container ran on stopped answering (its engine or the host is down). */
export class HostLostError extends Error {
  override readonly name = 'HostLostError';
  constructor(
    readonly hostname: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A network the console made for one job, found by label for cleanup. */
export interface ManagedNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface ImageInfo {
  /** The image ID (sha256:…), the key the check verdict is stored under. */
  id: string;
  /** The image's default user as configured (Config.User), '' when unset (root). */
  user: string;
  /** `repo@sha256:…` of the registries it came from; empty for a built or loaded image. */
  repoDigests?: string[];
}

/** An image the engine has, as its image listing shows it. */
export interface ImageSummary {
  id: string;
  /** Without the `<none>:<none>` placeholder of untagged images. */
  repoTags: string[];
  repoDigests: string[];
  sizeBytes: number;
  created: Date;
}

/** One progress message of a pull (per layer when `layer` is set). */
export interface PullProgress {
  status: string;
  layer?: string;
  current?: number;
  total?: number;
}

/** The engine refused an uploaded image archive (not a `docker save` tarball, truncated …). */
export class ImageArchiveError extends Error {
  override readonly name = 'ImageArchiveError';
}

/**
 * The container is gone: removed outside the console (`docker rm -f`, an engine clean-up) while
 * the console still needed it. The runner names this in the job's reason.
 */
export class ContainerGoneError extends Error {
  override readonly name = 'ContainerGoneError';
  constructor(
    readonly containerId: string,
    options?: { cause?: unknown },
  ) {
    super(`container ${containerId.slice(0, 12)} was removed outside the console`, options);
  }
}

/** An engine call that did not answer within its deadline (the engine hangs or is overloaded). */
export class EngineDeadlineError extends Error {
  override readonly name = 'EngineDeadlineError';
}

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
}

export interface LogLineEvent {
  stream: LogStream;
  /** Time stamped by the engine when the line was produced. */
  at: Date;
  /** The line without its trailing newline. */
  text: string;
}

/**
 * One reading of a container's resource use (see UsageSampler). Byte counters are cumulative
 * since the container started; 0 where the container has none (no network, no block device).
 */
export interface UsageSample {
  at: Date;
  /** Share of one CPU × 100, computed as `docker stats` does. */
  cpuPercent: number;
  /** In use without the droppable page cache (usage − inactive_file). */
  memoryBytes: number;
  memoryLimitBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  blkReadBytes: number;
  blkWriteBytes: number;
}

/** What a shell into a running container runs as (see ContainerEngine.shell). */
export interface ShellOptions {
  /** user[:group] inside the container, e.g. '1101:1101'. */
  user: string;
  /** KEY=value added to the container's own environment, which the shell inherits. */
  env: string[];
  cols: number;
  rows: number;
  /** The command, e.g. ['/bin/sh']. */
  cmd: string[];
  /** Defaults to the container's working directory. */
  workingDir?: string;
}

/**
 * An interactive process on a TTY inside a container. `stream` carries raw terminal bytes both
 * ways (a TTY has one output stream, so nothing to demultiplex) and ends when the process exits.
 */
export interface ShellSession {
  stream: Duplex;
  resize(cols: number, rows: number): Promise<void>;
  /** The process's exit code once the stream has ended; null when the engine does not know it. */
  exitCode(): Promise<number | null>;
  /** Ends the process and everything it started, and closes the stream; safe to call twice. */
  close(): Promise<void>;
}

/** A managed container found by label, for reconciliation and cleanup. */
export interface ManagedContainer {
  id: string;
  labels: Record<string, string>;
  state: string;
}

/**
 * The container-engine port. `docker/docker-engine.ts` implements it with dockerode against a
 * local or remote engine; nothing assumes the engine shares the server's filesystem.
 */
export interface EngineCapacity {
  vcpus: number;
  memoryGiB: number;
  gpus: number;
}

export interface ContainerEngine {
  /**
   * true for an engine of many hosts (swarm): a job's nodes go to different hosts, containers
   * are made from a registry digest every host can pull, and work folders are made on their
   * node before a container mounts them.
   */
  readonly multiHost: boolean;
  ping(): Promise<void>;
  /** The hosts work can be placed on; a single engine reports itself as one node. */
  nodes(): Promise<EngineNode[]>;
  /** What the engine's host offers (CPUs, memory; GPUs from the engine's generic resources). */
  capacity(): Promise<EngineCapacity>;
  /** null when the image is not present on the engine. */
  inspectImage(ref: string): Promise<ImageInfo | null>;
  /**
   * Multi-host engines: pushes an image the engine has to its registry, so every node can pull
   * it (an uploaded `docker save` tarball lands on the manager only).
   */
  pushImage?(ref: string): Promise<void>;
  /** Pulls the image; rejects with the engine's message when it cannot. */
  pullImage(ref: string, onProgress?: (p: PullProgress) => void): Promise<void>;
  listImages(): Promise<ImageSummary[]>;
  /**
   * Streams a `docker save` tarball into the engine; resolves with the refs it loaded (tags, or
   * IDs of untagged images). A refused archive rejects with ImageArchiveError.
   */
  loadImage(tar: Readable): Promise<string[]>;
  /** Reads one regular file out of the image (e.g. /etc/passwd to resolve a user name); null when absent. */
  readImageFile(ref: string, path: string, maxBytes: number): Promise<string | null>;
  createContainer(spec: ContainerSpec): Promise<string>;
  /** Extracts a tar stream into the (created, not necessarily started) container at `path`. */
  putArchive(containerId: string, path: string, tar: Readable): Promise<void>;
  start(containerId: string): Promise<void>;
  /**
   * Follows stdout/stderr from `since` (or the beginning) and calls onLine for every complete
   * line, in order; resolves when the container's output ends (it exited). A final line without
   * newline is delivered too. `drain`, once aborted, turns the follow into one last bounded read
   * of what is left (for a container that has exited but whose follow does not end).
   * Rejects with ContainerGoneError when the container was removed under it.
   */
  followLogs(containerId: string, onLine: (line: LogLineEvent) => void, since?: Date, drain?: AbortSignal): Promise<void>;
  /** Waits for the container to exit; rejects with ContainerGoneError when it was removed instead. */
  wait(containerId: string): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after graceSeconds. */
  stop(containerId: string, graceSeconds: number): Promise<void>;
  /**
   * A tar stream of `path` inside the container (the Docker archive API format). The caller
   * must read it to its end or destroy it: while it is open the engine holds the container and
   * a removal waits. Rejects with ContainerGoneError when the container is gone.
   */
  getArchive(containerId: string, path: string): Promise<Readable>;
  remove(containerId: string): Promise<void>;
  /**
   * One resource reading of a running container (one-shot, not a stream); null when it is not
   * running (created, or exited a moment ago). Rejects with ContainerGoneError when it is gone.
   */
  stats(containerId: string): Promise<UsageSample | null>;
  listManaged(labelSelector: Record<string, string>): Promise<ManagedContainer[]>;
  /**
   * A bridge network for one job's nodes; `internal` cuts it off from everything outside, so
   * nodes reach each other by name and nothing else.
   */
  createNetwork(name: string, labels: Record<string, string>, internal: boolean): Promise<string>;
  /** Removes the network; succeeds when it is already gone. */
  removeNetwork(id: string): Promise<void>;
  listManagedNetworks(labelSelector: Record<string, string>): Promise<ManagedNetwork[]>;
  /**
   * Opens an interactive shell in a running container (the job page's terminal). Optional: an
   * engine that cannot reach its containers' hosts (a swarm manager) leaves it out, and the
   * terminal route says so.
   */
  shell?(containerId: string, opts: ShellOptions): Promise<ShellSession>;
}
