import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CreateJobFromConfigRequest,
  CreateTrainingJobConfigRequest,
  ListTrainingJobConfigsQuery,
  TrainingJob,
  TrainingJobConfig,
  TrainingJobConfigList,
  TrainingJobConfigParams,
  UpdateTrainingJobConfigRequest,
} from '@tc/contracts';
import type { ParameterSetService } from '../job-parameters/parameter-set-service.js';
import { actorOf } from './authenticate.js';

const tags = ['job parameters'];

export function trainingJobConfigRoutes(parameterSets: ParameterSetService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/training-job-configs',
      {
        schema: {
          tags,
          summary: 'List saved job parameter configurations, newest first',
          querystring: ListTrainingJobConfigsQuery,
          response: { 200: TrainingJobConfigList, 400: ApiError },
        },
      },
      async (req) => parameterSets.list(actorOf(req), req.query),
    );

    app.post(
      '/training-job-configs',
      {
        schema: {
          tags,
          summary: 'Save a job parameter configuration',
          body: CreateTrainingJobConfigRequest,
          response: { 201: TrainingJobConfig, 400: ApiError, 409: ApiError },
        },
      },
      async (req, reply) => reply.status(201).send(parameterSets.create(actorOf(req), req.body)),
    );

    app.get(
      '/training-job-configs/:name',
      {
        schema: {
          tags,
          summary: 'One saved job parameter configuration',
          params: TrainingJobConfigParams,
          response: { 200: TrainingJobConfig, 400: ApiError, 404: ApiError },
        },
      },
      async (req) => parameterSets.get(actorOf(req), req.params.name),
    );

    app.put(
      '/training-job-configs/:name',
      {
        schema: {
          tags,
          summary: 'Replace the description and parameters of a configuration (its name stays)',
          params: TrainingJobConfigParams,
          body: UpdateTrainingJobConfigRequest,
          response: { 200: TrainingJobConfig, 400: ApiError, 404: ApiError },
        },
      },
      async (req) => parameterSets.update(actorOf(req), req.params.name, req.body),
    );

    app.delete(
      '/training-job-configs/:name',
      {
        schema: {
          tags,
          summary: 'Delete a configuration (jobs created from it are not affected)',
          params: TrainingJobConfigParams,
          response: { 204: z.null(), 400: ApiError, 404: ApiError },
        },
      },
      async (req, reply) => {
        parameterSets.delete(actorOf(req), req.params.name);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/training-job-configs/:name/jobs',
      {
        schema: {
          tags,
          summary: 'Create a training job from a saved configuration',
          params: TrainingJobConfigParams,
          body: CreateJobFromConfigRequest,
          response: { 201: TrainingJob, 400: ApiError, 402: ApiError, 404: ApiError, 409: ApiError, 503: ApiError },
        },
      },
      async (req, reply) => reply.status(201).send(await parameterSets.createJob(actorOf(req), req.params.name, req.body)),
    );
  };
}
