import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Health } from '@tc/contracts';

export type Probe = () => Promise<void> | void;

async function run(probe: Probe, timeoutMs: number): Promise<{ ok: boolean; message?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(probe),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** 200 when database, object store and engine answer; 503 naming what does not. */
export function healthRoutes(probes: { database: Probe; objectStore: Probe; engine: Probe }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          tags: ['health'],
          summary: 'Whether the database, object store and engine answer',
          response: { 200: Health, 503: Health },
        },
      },
      async (_req, reply) => {
        const [database, objectStore, engine] = await Promise.all([
          run(probes.database, 3000),
          run(probes.objectStore, 5000),
          run(probes.engine, 5000),
        ]);
        const ok = database.ok && objectStore.ok && engine.ok;
        return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks: { database, objectStore, engine } });
      },
    );
  };
}
