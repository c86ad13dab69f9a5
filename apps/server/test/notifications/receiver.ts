import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this request was answered with. */
  status: number;
}

/**
 * A real webhook endpoint on 127.0.0.1 and a random port. `respond` picks each answer's status
 * from everything received so far, which is how a test makes it fail, then accept.
 */
export interface Receiver {
  url: string;
  received: Received[];
  respond: (nth: number, req: { headers: IncomingHttpHeaders; body: string }) => number;
  /** Sent as `Location` with every answer when set, so a 3xx redirects there. */
  location?: string;
  close(): Promise<void>;
}

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  const r: Omit<Receiver, 'url' | 'close'> = { received: [], respond: () => 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = r.respond(r.received.length + 1, { headers: req.headers, body });
      r.received.push({ at: Date.now(), headers: req.headers, body, status });
      res
        .writeHead(status, { 'content-type': 'text/plain', ...(r.location ? { location: r.location } : {}) })
        .end(status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as Receiver;
}
