import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CreateDatasetRequest,
  Dataset,
  DatasetFilePage,
  DatasetFilesQuery,
  DatasetList,
  DatasetParams,
  DatasetVersionParams,
} from '@tc/contracts';
import { actorOf } from './authenticate.js';
import type { DatasetService } from '../datasets/dataset-service.js';

const ListQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});

export function datasetRoutes(datasets: DatasetService): FastifyPluginAsyncZod {
  return async (app) => {
    const tags = ['datasets'];
    app.post(
      '/datasets',
      {
        schema: {
          tags,
          summary: 'Create a dataset over an object-storage folder',
          body: CreateDatasetRequest,
          response: { 201: Dataset, 400: ApiError, 409: ApiError, 503: ApiError },
        },
      },
      async (req, reply) => reply.status(201).send(await datasets.create(actorOf(req), req.body)),
    );
    app.get(
      '/datasets',
      {
        schema: {
          tags,
          summary: 'Datasets, newest first, with their versions',
          querystring: ListQuery,
          response: { 200: DatasetList, 400: ApiError },
        },
      },
      async (req) => datasets.list(actorOf(req), req.query.page, req.query.pageSize),
    );
    app.get(
      '/datasets/:name',
      {
        schema: {
          tags,
          summary: 'One dataset with its versions',
          params: DatasetParams,
          response: { 200: Dataset, 400: ApiError, 404: ApiError },
        },
      },
      async (req) => datasets.get(actorOf(req), req.params.name),
    );
    app.delete(
      '/datasets/:name',
      {
        schema: {
          tags,
          summary: 'Delete a dataset and its versions (the files in storage stay)',
          params: DatasetParams,
          response: { 204: z.null(), 404: ApiError },
        },
      },
      async (req, reply) => {
        datasets.delete(actorOf(req), req.params.name);
        return reply.status(204).send(null);
      },
    );
    app.post(
      '/datasets/:name/versions',
      {
        schema: {
          tags,
          summary: 'Publish the next version: pins the folder’s current files (key, size, ETag)',
          params: DatasetParams,
          response: { 201: Dataset, 400: ApiError, 404: ApiError, 503: ApiError },
        },
      },
      async (req, reply) => reply.status(201).send(await datasets.publish(actorOf(req), req.params.name)),
    );
    app.get(
      '/datasets/:name/versions/:version/files',
      {
        schema: {
          tags,
          summary: 'The files a version pins, in key order, a page at a time',
          params: DatasetVersionParams,
          querystring: DatasetFilesQuery,
          response: { 200: DatasetFilePage, 400: ApiError, 404: ApiError },
        },
      },
      async (req) => datasets.files(actorOf(req), req.params.name, req.params.version, req.query.after, req.query.limit),
    );
  };
}
