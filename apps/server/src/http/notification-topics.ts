import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AddSubscriptionRequest,
  ApiError,
  CreateNotificationTopicRequest,
  CreatedNotificationTopic,
  ListDeliveriesQuery,
  ListNotificationTopicsQuery,
  NotificationDeliveryList,
  NotificationSubscription,
  NotificationSubscriptionParams,
  NotificationTopic,
  NotificationTopicList,
  NotificationTopicParams,
  NotificationTopicSecret,
  UpdateNotificationTopicRequest,
} from '@tc/contracts';
import { actorOf } from './authenticate.js';
import type { NotificationService } from '../notifications/notification-service.js';

const tags = ['notification topics'];
const errors = { 400: ApiError, 404: ApiError };

export function notificationTopicRoutes(topics: NotificationService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/notification-topics',
      {
        schema: {
          tags,
          summary: 'List notification topics, newest first',
          querystring: ListNotificationTopicsQuery,
          response: { 200: NotificationTopicList, 400: ApiError },
        },
      },
      async (req) => topics.list(actorOf(req), req.query),
    );

    app.post(
      '/notification-topics',
      {
        schema: {
          tags,
          summary: 'Create a topic; the answer carries its signing secret, shown this once',
          body: CreateNotificationTopicRequest,
          response: { 201: CreatedNotificationTopic, 400: ApiError, 409: ApiError },
        },
      },
      async (req, reply) => reply.status(201).send(await topics.create(actorOf(req), req.body)),
    );

    app.get(
      '/notification-topics/:name',
      {
        schema: {
          tags,
          summary: 'One topic with its subscriptions',
          params: NotificationTopicParams,
          response: { 200: NotificationTopic, ...errors },
        },
      },
      async (req) => topics.get(actorOf(req), req.params.name),
    );

    app.put(
      '/notification-topics/:name',
      {
        schema: {
          tags,
          summary: 'Replace the description of a topic',
          params: NotificationTopicParams,
          body: UpdateNotificationTopicRequest,
          response: { 200: NotificationTopic, ...errors },
        },
      },
      async (req) => topics.update(actorOf(req), req.params.name, req.body),
    );

    app.delete(
      '/notification-topics/:name',
      {
        schema: {
          tags,
          summary: 'Delete a topic, its subscriptions and its delivery history',
          params: NotificationTopicParams,
          response: { 204: z.null(), ...errors },
        },
      },
      async (req, reply) => {
        topics.delete(actorOf(req), req.params.name);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/notification-topics/:name/secret',
      {
        schema: {
          tags,
          summary: 'Rotate the signing secret; the answer carries the new one, shown this once',
          params: NotificationTopicParams,
          response: { 200: NotificationTopicSecret, ...errors },
        },
      },
      async (req) => topics.rotateSecret(actorOf(req), req.params.name),
    );

    app.post(
      '/notification-topics/:name/subscriptions',
      {
        schema: {
          tags,
          summary: 'Subscribe an HTTP(S) webhook to the topic; internal addresses are a 400 unless WEBHOOK_ALLOW_HOSTS lists them',
          params: NotificationTopicParams,
          body: AddSubscriptionRequest,
          response: { 201: NotificationSubscription, ...errors, 409: ApiError },
        },
      },
      async (req, reply) => reply.status(201).send(await topics.addSubscription(actorOf(req), req.params.name, req.body)),
    );

    app.delete(
      '/notification-topics/:name/subscriptions/:id',
      {
        schema: {
          tags,
          summary: 'Remove a subscription; its pending deliveries are cancelled',
          params: NotificationSubscriptionParams,
          response: { 204: z.null(), ...errors },
        },
      },
      async (req, reply) => {
        topics.removeSubscription(actorOf(req), req.params.name, req.params.id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/notification-topics/:name/deliveries',
      {
        schema: {
          tags,
          summary: 'Deliveries of the topic, newest first, with every attempt',
          params: NotificationTopicParams,
          querystring: ListDeliveriesQuery,
          response: { 200: NotificationDeliveryList, ...errors },
        },
      },
      async (req) => topics.deliveries(actorOf(req), req.params.name, req.query),
    );
  };
}
