import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, JobOutputList, JobOutputParams, JobParams, parseObjectPath } from '@tc/contracts';
import type { JobService } from '../jobs/job-service.js';
import { NotFoundError } from '../errors.js';
import { ObjectStoreError, type ObjectStore } from '../storage/object-store.js';
import { actorOf } from './authenticate.js';

const tags = ['training jobs'];
const errors = { 400: ApiError, 401: ApiError, 404: ApiError, 503: ApiError };

type Outputs = Pick<ObjectStore, 'list' | 'getStream'>;

/** Store "not found" is the API's 404; a missing bucket simply holds no outputs yet. */
function notFoundAs<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof ObjectStoreError && err.notFound) throw new NotFoundError(`${what} does not exist`);
    throw err;
  });
}

/**
 * A job's outputs for its owner (or an admin): the files below its Training Output Path, and
 * each one streamed from the store, never buffered, so `trainctl outputs --download` works on
 * models of any size without store credentials. Only keys below that path can be reached.
 */
export function trainingJobOutputRoutes(jobs: Pick<JobService, 'get'>, store: Outputs): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/training-jobs/:name/versions/:version/outputs',
      {
        schema: {
          tags,
          summary: 'The files the job wrote to its Training Output Path (keys relative to it)',
          params: JobParams,
          response: { 200: JobOutputList, ...errors },
        },
      },
      async (req) => {
        const job = jobs.get(actorOf(req), req.params.name, req.params.version);
        const out = parseObjectPath(job.spec.trainOutput);
        const items: JobOutputList['items'] = [];
        try {
          for await (const o of store.list(out.bucket, out.prefix)) {
            // Folder markers ("dir/", zero bytes) are not files to download.
            if (o.key.endsWith('/')) continue;
            items.push({ key: o.key.slice(out.prefix.length), size: o.size });
          }
        } catch (err) {
          if (!(err instanceof ObjectStoreError && err.notFound)) throw err;
        }
        items.sort((a, b) => a.key.localeCompare(b.key));
        return { path: job.spec.trainOutput, items };
      },
    );

    app.get(
      '/training-jobs/:name/versions/:version/outputs/*',
      {
        schema: {
          tags,
          summary: 'One output file, streamed (the key as listed, after /outputs/)',
          params: JobOutputParams,
          // The body is the file's bytes (application/octet-stream), streamed as is.
          response: { 200: z.unknown().describe("the file's bytes"), ...errors },
        },
      },
      async (req, reply) => {
        const job = jobs.get(actorOf(req), req.params.name, req.params.version);
        const out = parseObjectPath(job.spec.trainOutput);
        const key = req.params['*'];
        const body = await notFoundAs(`output ${key} of ${job.name} ${job.version}`, () => store.getStream(out.bucket, out.prefix + key));
        const file = key.slice(key.lastIndexOf('/') + 1);
        return reply
          .type('application/octet-stream')
          .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file)}`)
          .send(body);
      },
    );
  };
}
