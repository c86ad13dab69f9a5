import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError, JobParams, JobUsage } from '@tc/contracts';
import type { UsageService } from '../usage/usage-service.js';
import { actorOf } from './authenticate.js';

const errors = { 400: ApiError, 401: ApiError, 404: ApiError };

export function usageRoutes(usage: Pick<UsageService, 'get'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/training-jobs/:name/versions/:version/usage',
      {
        schema: {
          tags: ['training jobs'],
          summary: "Resource usage of the job's nodes (CPU, memory, network, block I/O), sampled while it runs",
          description:
            'Samples every USAGE_SAMPLE_SECONDS while the job is Running, kept after it ends. Network and block I/O are ' +
            'cumulative byte counters. A long run is thinned to at most 720 samples per node, evenly spaced over the run. ' +
            'gpuPercent and gpuMemoryBytes are only present for nodes with GPUs whose engine reports them.',
          params: JobParams,
          response: { 200: JobUsage, ...errors },
        },
      },
      async (req) => usage.get(actorOf(req), req.params.name, req.params.version),
    );
  };
}
