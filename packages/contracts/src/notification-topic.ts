import { z } from 'zod';
import { FailureClass, JobName, JobVersion, NotificationEvent } from './training-job.js';
import { Timestamp } from './timestamp.js';
import { cleanText, textProblem } from './text.js';

/** A topic's name is its id: what a job's `notification.topic` names and what URLs carry. */
export const NotificationTopicName = z
  .string({ error: (iss) => (iss.input === undefined ? 'Topic name is required' : 'Topic name must be text') })
  .min(1, { error: 'Topic name is required' })
  .max(64, { error: 'Topic name must be at most 64 characters' })
  .regex(/^$|^[A-Za-z][A-Za-z0-9_-]*$/, {
    error: 'Topic name may contain only letters, digits, "-" and "_", and must start with a letter',
  });
export type NotificationTopicName = z.infer<typeof NotificationTopicName>;

export const NotificationTopicDescription = cleanText(
  z.string().max(256, { error: 'Description must be at most 256 characters' }),
  'Description',
  {
    multiline: true,
  },
);

function webhookProblem(s: string): string | null {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'URL must be an absolute http:// or https:// URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'URL must start with http:// or https://';
  // Responses show the URL, so a password in it would leak; receivers verify the signature instead.
  if (u.username || u.password) return 'URL must not contain a user name or password; verify the signature instead';
  if (u.hash) return 'URL must not contain a #fragment';
  return null;
}

export const WebhookUrl = cleanText(
  z
    .string({ error: (iss) => (iss.input === undefined ? 'URL is required' : 'URL must be text') })
    .min(1, { error: 'URL is required' })
    .max(2048, { error: 'URL must be at most 2048 characters' }),
  'URL',
).superRefine((s, ctx) => {
  // One message per problem: text rules first (above), the URL's shape only for clean text.
  if (s === '' || textProblem(s)) return;
  const problem = webhookProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const NotificationSubscription = z.object({
  id: z.string(),
  url: z.string(),
  createdAt: Timestamp,
});
export type NotificationSubscription = z.infer<typeof NotificationSubscription>;

/** Never carries the secret: it is shown once, by create and by rotate. */
export const NotificationTopic = z.object({
  name: NotificationTopicName,
  description: z.string().nullable(),
  subscriptions: z.array(NotificationSubscription),
  createdAt: Timestamp,
  secretRotatedAt: Timestamp,
});
export type NotificationTopic = z.infer<typeof NotificationTopic>;

export const NotificationTopicSecret = z.object({
  /** The HMAC-SHA256 key for `X-TC-Signature`; this is the only time it is shown. */
  secret: z.string(),
  secretRotatedAt: Timestamp,
});
export type NotificationTopicSecret = z.infer<typeof NotificationTopicSecret>;

export const CreatedNotificationTopic = NotificationTopic.extend({ secret: z.string() });
export type CreatedNotificationTopic = z.infer<typeof CreatedNotificationTopic>;

export const NotificationTopicList = z.object({
  items: z.array(NotificationTopic),
  total: z.int().min(0),
});
export type NotificationTopicList = z.infer<typeof NotificationTopicList>;

export const CreateNotificationTopicRequest = z.object({
  name: NotificationTopicName,
  description: NotificationTopicDescription.optional(),
  /** Optional first subscriptions, so one request makes a usable topic. */
  subscriptions: z
    .array(z.object({ url: WebhookUrl }))
    .max(20, { error: 'at most 20 subscriptions per topic' })
    .optional(),
});
export type CreateNotificationTopicRequest = z.infer<typeof CreateNotificationTopicRequest>;

export const UpdateNotificationTopicRequest = z.object({
  description: NotificationTopicDescription.optional(),
});
export type UpdateNotificationTopicRequest = z.infer<typeof UpdateNotificationTopicRequest>;

export const AddSubscriptionRequest = z.object({ url: WebhookUrl });
export type AddSubscriptionRequest = z.infer<typeof AddSubscriptionRequest>;

/** `name` is a substring filter. */
export const ListNotificationTopicsQuery = z.object({
  name: z.string().max(64).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListNotificationTopicsQuery = z.infer<typeof ListNotificationTopicsQuery>;

export const NotificationTopicParams = z.object({ name: NotificationTopicName });
export const NotificationSubscriptionParams = z.object({
  name: NotificationTopicName,
  id: z.string().regex(/^\d{1,15}$/, { error: 'Subscription id must be a number' }),
});

export const DELIVERY_STATES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
export const DeliveryState = z.enum(DELIVERY_STATES, { error: `State must be one of: ${DELIVERY_STATES.join(', ')}` });
export type DeliveryState = z.infer<typeof DeliveryState>;

export const DeliveryAttempt = z.object({
  attempt: z.int().min(1),
  at: Timestamp,
  /** The receiver's answer; null when there was none (connection refused, timeout). */
  httpStatus: z.int().nullable(),
  error: z.string().nullable(),
  durationMs: z.int().min(0),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

/** One message to one subscription, with every attempt made. */
export const NotificationDelivery = z.object({
  id: z.string(),
  /** The same for every subscription of one event; receivers deduplicate on it (`X-TC-Message-Id`). */
  messageId: z.string(),
  event: NotificationEvent,
  job: z.object({ name: JobName, version: JobVersion }),
  url: z.string(),
  state: DeliveryState,
  attempts: z.array(DeliveryAttempt),
  /** When the next attempt is due; null once delivered, failed or cancelled. */
  nextAttemptAt: Timestamp.nullable(),
  createdAt: Timestamp,
});
export type NotificationDelivery = z.infer<typeof NotificationDelivery>;

export const NotificationDeliveryList = z.object({
  items: z.array(NotificationDelivery),
  total: z.int().min(0),
});
export type NotificationDeliveryList = z.infer<typeof NotificationDeliveryList>;

export const ListDeliveriesQuery = z.object({
  state: DeliveryState.optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuery>;

/** The body POSTed to every subscription. */
export const NotificationMessage = z.object({
  messageId: z.string(),
  event: NotificationEvent,
  topic: NotificationTopicName,
  job: z.object({
    name: JobName,
    version: JobVersion,
    status: z.string(),
    reason: z.string().nullable(),
    /** platform, resources, user, stopped or max-runtime once the run failed or was stopped; null otherwise. */
    failureClass: FailureClass.nullable(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    endedAt: Timestamp.nullable(),
    /** Which attempt of the job this is about (1 for the first run; more after automatic retries). */
    attempt: z.int().min(1).optional(),
    /** How many attempts its retry policy allows in all (1 without one). */
    maxAttempts: z.int().min(1).optional(),
    /** The job's page in the console, from PUBLIC_URL. */
    url: z.string(),
  }),
  /** When the status change was observed. */
  occurredAt: Timestamp,
});
export type NotificationMessage = z.infer<typeof NotificationMessage>;
