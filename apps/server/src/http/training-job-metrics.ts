import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { ApiError, JobMetrics, JobParams, PutMetricDefinitionsRequest } from '@tc/contracts';
import type { MetricService } from '../metrics/metric-service.js';
import { actorOf } from './authenticate.js';

const tags = ['training jobs'];
const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError };

/** A job version's metrics, for its owner or an admin: JSON series, CSV, and new definitions. */
export function trainingJobMetricRoutes(metrics: MetricService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/training-jobs/:name/versions/:version/metrics',
      {
        schema: {
          tags,
          summary: 'Metrics read from the job log (definitions and name=value pairs) and its metrics.jsonl, per name and node',
          params: JobParams,
          response: { 200: JobMetrics, ...errors },
        },
      },
      async (req) => metrics.get(actorOf(req), req.params.name, req.params.version),
    );

    app.get(
      '/training-jobs/:name/versions/:version/metrics.csv',
      {
        schema: {
          tags,
          summary: 'The same metrics as CSV: name,node,step,at,value',
          params: JobParams,
          // No response schema: 200 is a text stream, and errors go through the error handler.
        },
      },
      async (req, reply) => {
        const { filename, body } = metrics.csv(actorOf(req), req.params.name, req.params.version);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${filename}"`)
          .send(Readable.from(body));
      },
    );

    app.put(
      '/training-jobs/:name/versions/:version/metric-definitions',
      {
        schema: {
          tags,
          summary: "Replace the version's metric definitions and read its stored log again with them (no rerun)",
          params: JobParams,
          body: PutMetricDefinitionsRequest,
          response: { 200: JobMetrics, ...errors },
        },
      },
      async (req) => metrics.define(actorOf(req), req.params.name, req.params.version, req.body.metrics),
    );
  };
}
