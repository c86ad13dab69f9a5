import { PassThrough, Readable, Transform } from 'node:stream';
import { errorCodes } from 'fastify';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError, ImageCheckResult, ImageList, ImageRefRequest, LoadedImages, type PullEvent } from '@tc/contracts';
import type { ImageService } from '../images/image-service.js';
import { InvalidInputError } from '../errors.js';
import { actorOf } from './authenticate.js';

/** Image tarballs are large; this route alone lifts the 1 MiB body limit. */
export const IMAGE_UPLOAD_LIMIT = 20 * 1024 ** 3;

const TAR_TYPES = ['application/x-tar', 'application/gzip', 'application/x-gzip'];

/**
 * Fastify does not count the bytes of a body its parser hands over as a stream, so the limit is
 * enforced here, on the way to the engine.
 */
function limitBytes(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      else cb(null, chunk);
    },
  });
}

export function imageRoutes(images: ImageService): FastifyPluginAsyncZod {
  return async (app) => {
    const tags = ['images'];
    // Scoped to this plugin: the raw request stream goes to the route, unread.
    app.addContentTypeParser(TAR_TYPES, (_req, payload, done) => done(null, payload));

    app.get(
      '/images',
      {
        schema: { tags, summary: 'The engine’s images, newest first, each with its UID 1101 check verdict', response: { 200: ImageList } },
      },
      async () => ({ items: await images.list() }),
    );
    app.post(
      '/images/check',
      {
        schema: {
          tags,
          summary: 'Check an image the engine has now: its default user must be UID 1101, not in group 0',
          body: ImageRefRequest,
          response: { 200: ImageCheckResult, 400: ApiError, 404: ApiError },
        },
      },
      async (req) => images.check(req.body.ref),
    );
    app.post(
      '/images/pull',
      {
        schema: {
          tags,
          summary: 'Pull an image by reference, then check it',
          description:
            'Answers 200 with application/x-ndjson: one PullEvent per line, `progress` lines, then one `done` (with the image and its verdict) or `error` line. An image already on the engine is not downloaded again. A bad body is a 400 (ApiError) before anything starts; a tag that belongs to another user or to the console (only admins may move those) is a 409 (ApiError), before anything is pulled.',
          body: ImageRefRequest,
          // The 200 body is a stream, which the serializer never sees; the refusals are JSON.
          response: { 200: z.unknown().describe('application/x-ndjson: one PullEvent per line'), 400: ApiError, 409: ApiError },
        },
      },
      async (req, reply) => {
        const actor = actorOf(req);
        const claims = await images.mayMoveTag(actor, req.body.ref);
        const out = new PassThrough();
        // A client that goes away destroys the stream; the pull still finishes on the engine.
        out.on('error', () => undefined);
        const emit = (e: PullEvent): void => {
          if (!out.destroyed && !out.writableEnded) out.write(`${JSON.stringify(e)}\n`);
        };
        void images.pull(actor, req.body.ref, claims, emit).finally(() => out.end());
        return (
          reply
            .header('content-type', 'application/x-ndjson; charset=utf-8')
            .header('cache-control', 'no-store')
            // Proxies that buffer would hold the progress back until the end.
            .header('x-accel-buffering', 'no')
            .send(out)
        );
      },
    );
    app.post(
      '/images/load',
      {
        bodyLimit: IMAGE_UPLOAD_LIMIT,
        schema: {
          tags,
          summary: 'Upload an image tarball (docker save format) as the raw request body; it is streamed to the engine, then checked',
          description:
            'Plain or gzip-compressed. A tag the archive names that belongs to another user or to the console (only admins may move those) is a 409 (ApiError): the engine never applies it.',
          consumes: TAR_TYPES,
          response: { 200: LoadedImages, 400: ApiError, 409: ApiError, 413: ApiError, 415: ApiError },
        },
      },
      async (req, reply) => {
        const body = req.body;
        if (!(body instanceof Readable)) {
          throw new InvalidInputError([
            { path: 'body', message: `send the tarball as the request body with content-type ${TAR_TYPES[0]}` },
          ]);
        }
        const length = req.headers['content-length'];
        if (length !== undefined && Number(length) > IMAGE_UPLOAD_LIMIT) {
          reply.header('connection', 'close');
          throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
        }
        if (length === '0') throw new InvalidInputError([{ path: 'body', message: 'the request body is empty; send the image tarball' }]);
        const limited = limitBytes(IMAGE_UPLOAD_LIMIT);
        body.on('error', (err) => limited.destroy(err));
        try {
          return await images.load(actorOf(req), body.pipe(limited));
        } catch (err) {
          // Whatever the client has not sent yet is not worth reading.
          if (!body.readableEnded) reply.header('connection', 'close');
          // Cut off at the limit, the engine only saw a broken upload; the limit is the cause.
          if (limited.errored instanceof errorCodes.FST_ERR_CTP_BODY_TOO_LARGE) throw limited.errored;
          // The uploader went away: no one reads this answer, and it is no server fault to log.
          if (body.errored) throw new InvalidInputError([{ path: 'body', message: 'the upload broke off before its end' }]);
          throw err;
        }
      },
    );
  };
}
