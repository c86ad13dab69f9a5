import { z } from 'zod';
import { Timestamp } from './timestamp.js';

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export const LogStream = z.enum(LOG_STREAMS);
export type LogStream = z.infer<typeof LogStream>;

/** `system` lines are the platform's own (image check, downloads, uploads), shown inline with the job's output. */
export const LogLine = z.object({
  seq: z.int().min(0),
  at: Timestamp,
  stream: LogStream,
  text: z.string(),
});
export type LogLine = z.infer<typeof LogLine>;

/**
 * `nextCursor` is opaque to clients: pass it back as `cursor` to get the lines after this page.
 * `complete` is true once the job has ended and no line is left, so a follower can stop polling.
 */
export const LogPage = z.object({
  lines: z.array(LogLine),
  nextCursor: z.string(),
  complete: z.boolean(),
});
export type LogPage = z.infer<typeof LogPage>;

// Query strings arrive as text, hence coerce; defaults keep `?` alone a valid request.
export const LogsQuery = z.object({
  node: z.coerce.number().int().min(0).default(0),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
  /** Which attempt's lines (see TrainingJob.attempts); absent: the latest attempt's. */
  attempt: z.coerce.number().int().min(1).optional(),
});
export type LogsQuery = z.infer<typeof LogsQuery>;

/**
 * The live log as server-sent events (`…/logs/stream`): `cursor` is the logs API's, and a
 * `Last-Event-ID` header, which a browser's EventSource sends when it reconnects, takes its place.
 * Each `message` event's data is a LogPage of the lines after the previous event, its `id` that
 * page's `nextCursor`; `end` (a LogPage with `complete: true`) comes once the job has ended and
 * every line has been sent, and then the server closes the stream.
 */
export const LogStreamQuery = z.object({
  node: LogsQuery.shape.node,
  cursor: LogsQuery.shape.cursor,
});
export type LogStreamQuery = z.infer<typeof LogStreamQuery>;

export const LogStreamHeaders = z.looseObject({ 'last-event-id': z.string().max(64).optional() });

/** The event that closes a stream whose job has ended; a client must not reconnect after it. */
export const LOG_STREAM_END_EVENT = 'end';
