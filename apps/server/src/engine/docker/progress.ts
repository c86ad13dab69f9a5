/** One message of the engine's JSON progress stream (build and pull share the format). */
export interface ProgressMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
  /** The layer a pull message is about. */
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toMessage(v: unknown): ProgressMessage {
  if (!isRecord(v)) return {};
  const m: ProgressMessage = {};
  if (typeof v.stream === 'string') m.stream = v.stream;
  if (typeof v.status === 'string') m.status = v.status;
  if (typeof v.error === 'string') m.error = v.error;
  if (isRecord(v.errorDetail)) {
    const d = v.errorDetail;
    m.errorDetail = {};
    if (typeof d.message === 'string') m.errorDetail.message = d.message;
    if (typeof d.code === 'number') m.errorDetail.code = d.code;
  }
  if (isRecord(v.aux) && typeof v.aux.ID === 'string') m.aux = { ID: v.aux.ID };
  if (typeof v.id === 'string') m.id = v.id;
  if (isRecord(v.progressDetail)) {
    const d = v.progressDetail;
    m.progressDetail = {};
    if (typeof d.current === 'number') m.progressDetail.current = d.current;
    if (typeof d.total === 'number') m.progressDetail.total = d.total;
  }
  return m;
}

export class ProgressError extends Error {
  constructor(
    message: string,
    /** The messages before the error, e.g. the build's output, for whoever needs to show it. */
    readonly output: string,
  ) {
    super(message);
    this.name = 'ProgressError';
  }
}

/**
 * Reads a build or pull progress stream to its end and rejects on the first `error` /
 * `errorDetail` message. The engine reports such failures inside a 200 response, so neither
 * dockerode's promise nor modem.followProgress (which hands the error back as ordinary output)
 * rejects by itself. Bytes are split on newlines before decoding so a multi-byte character cut
 * between two chunks stays whole.
 */
export async function readProgress(stream: NodeJS.ReadableStream, onMessage?: (m: ProgressMessage) => void): Promise<ProgressMessage[]> {
  const messages: ProgressMessage[] = [];
  let text = '';
  let rest: Buffer = Buffer.alloc(0);
  const handle = (line: Buffer): void => {
    const s = line.toString('utf8').trim();
    if (!s) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      // Not JSON (a proxy's error page, say): keep it as text rather than fail on the format.
      parsed = { stream: `${s}\n` };
    }
    const m = toMessage(parsed);
    messages.push(m);
    if (m.stream) text += m.stream;
    else if (m.status) text += `${m.status}\n`;
    onMessage?.(m);
    const err = m.errorDetail?.message ?? m.error;
    if (err !== undefined) throw new ProgressError(err.trim(), text);
  };
  try {
    for await (const chunk of stream) {
      const buf: Buffer = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        handle(buf.subarray(start, nl));
        start = nl + 1;
      }
      rest = buf.subarray(start);
    }
    handle(rest);
  } finally {
    // An early throw leaves the engine still sending; release the connection.
    if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
  }
  return messages;
}
