import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CreateTrainingJobHeaders,
  CreateTrainingJobRequest,
  JobParams,
  ListTrainingJobsQuery,
  LogPage,
  LogsQuery,
  LogStreamHeaders,
  LogStreamQuery,
  TrainingJob,
  TrainingJobList,
} from '@tc/contracts';
import { Readable } from 'node:stream';
import type { JobService } from '../jobs/job-service.js';
import { actorOf } from './authenticate.js';

const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError };
const conflict = { ...errors, 409: ApiError };

export function trainingJobRoutes(jobs: JobService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/training-jobs',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'Create a training job (the next version of its name)',
          body: CreateTrainingJobRequest,
          headers: CreateTrainingJobHeaders,
          response: { 201: TrainingJob, 400: ApiError, 402: ApiError, 409: ApiError, 503: ApiError },
        },
      },
      async (req, reply) => reply.status(201).send(await jobs.create(actorOf(req), req.body, req.headers['idempotency-key'])),
    );

    app.post(
      '/training-jobs/:name/versions/:version/stop',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'Stop a job: SIGTERM, then SIGKILL after the grace period; outputs and logs are still uploaded',
          params: JobParams,
          response: { 200: TrainingJob, ...conflict },
        },
      },
      async (req) => jobs.stop(actorOf(req), req.params.name, req.params.version),
    );

    app.delete(
      '/training-jobs/:name/versions/:version',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'Delete a job that has ended (its files in object storage stay)',
          params: JobParams,
          response: { 204: z.null(), ...conflict },
        },
      },
      async (req, reply) => {
        jobs.delete(actorOf(req), req.params.name, req.params.version);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/training-jobs',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'List training jobs, newest first',
          querystring: ListTrainingJobsQuery,
          response: { 200: TrainingJobList, 400: ApiError },
        },
      },
      async (req) => jobs.list(actorOf(req), req.query),
    );

    app.get(
      '/training-jobs/:name/versions/:version',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'One version of a training job',
          params: JobParams,
          response: { 200: TrainingJob, ...errors },
        },
      },
      async (req) => jobs.get(actorOf(req), req.params.name, req.params.version),
    );

    app.get(
      '/training-jobs/:name/versions/:version/logs',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'Log lines of one node after a cursor',
          params: JobParams,
          querystring: LogsQuery,
          response: { 200: LogPage, ...errors },
        },
      },
      async (req) => jobs.logs(actorOf(req), req.params.name, req.params.version, req.query),
    );

    app.get(
      '/training-jobs/:name/versions/:version/logs/stream',
      {
        // Fastify answers HEAD by draining the body: that would follow the log until the job ends, for nobody.
        exposeHeadRoute: false,
        schema: {
          tags: ['training jobs'],
          summary: 'Follow the log of one node live, as server-sent events',
          description:
            "A text/event-stream. Each event is a LogPage of the lines after the previous one, with the page's nextCursor as its " +
            'id; a Last-Event-ID header (an EventSource sends it when it reconnects) takes the place of `cursor`, so nothing is ' +
            'lost or repeated. Once the job has ended and every line is sent comes an `end` event, and the stream closes. ' +
            'A comment every 15 s keeps a quiet stream open. At most 20 streams per user (429).',
          params: JobParams,
          querystring: LogStreamQuery,
          headers: LogStreamHeaders,
          // No response schema: 200 is an event stream, and errors (401, 404, 429) go through the error handler.
        },
      },
      async (req, reply) => {
        const stream = jobs.logStream(actorOf(req), req.params.name, req.params.version, req.query, req.headers['last-event-id']);
        return (
          reply
            .type('text/event-stream; charset=utf-8')
            // no-transform: a compressing proxy would hold events back to fill its buffers.
            .header('cache-control', 'no-cache, no-transform')
            .header('x-accel-buffering', 'no')
            .send(stream)
        );
      },
    );

    app.get(
      '/training-jobs/:name/versions/:version/logs/download',
      {
        schema: {
          tags: ['training jobs'],
          summary: 'The whole log of one node as a text file (every attempt, or the one `attempt` names)',
          params: JobParams,
          querystring: z.object({ node: LogsQuery.shape.node, attempt: LogsQuery.shape.attempt }),
          // No response schema: 200 is a text stream, and errors go through the error handler.
        },
      },
      async (req, reply) => {
        const { filename, body } = jobs.logText(actorOf(req), req.params.name, req.params.version, req.query.node, req.query.attempt);
        return reply
          .type('text/plain; charset=utf-8')
          .header('content-disposition', `attachment; filename="${filename}"`)
          .send(Readable.from(body));
      },
    );
  };
}
