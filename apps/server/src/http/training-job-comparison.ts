import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError, VersionComparison, VersionComparisonParams, VersionComparisonQuery } from '@tc/contracts';
import type { VersionComparisonService } from '../jobs/version-comparison.js';
import { actorOf } from './authenticate.js';

/** "View Comparison Result" of a job's versions. */
export function trainingJobComparisonRoutes(comparison: VersionComparisonService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/training-jobs/:name/comparison',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'Compare 2 to 10 versions of a job: parameters that differ, image, data, duration and final metric values',
          description:
            '`versions` is a comma-separated list such as `V001,V003`. A version that does not exist or is not the ' +
            "caller's is a 404, as on the other job routes. finalMetrics holds each metric's last value on node 0 (or, " +
            'for a metric only other nodes report, on the lowest of them); secret environment values read "(secret)" ' +
            "and are never compared. The curves themselves come from each version's /metrics.",
          params: VersionComparisonParams,
          querystring: VersionComparisonQuery,
          response: { 200: VersionComparison, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError },
        },
      },
      async (req) => comparison.compare(actorOf(req), req.params.name, req.query.versions),
    );
  };
}
