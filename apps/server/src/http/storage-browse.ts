import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApiError,
  CreateFolderRequest,
  StorageBucketList,
  StorageBucketParams,
  StorageFolder,
  StorageListQuery,
  StorageListing,
  formatObjectPath,
} from '@tc/contracts';
import { lastSegment } from '../engine/paths.js';
import { NotFoundError } from '../errors.js';
import { ObjectStoreError, type ObjectStore } from '../storage/object-store.js';

const tags = ['object storage'];
const errors = { 400: ApiError, 404: ApiError, 503: ApiError };

type Browser = Pick<ObjectStore, 'listBuckets' | 'listFolder' | 'upload'>;

/** The store's "no such bucket" becomes the API's 404; anything else stays an error of the store. */
async function inBucket<T>(bucket: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ObjectStoreError && err.kind === 'not_found') throw new NotFoundError(`bucket ${bucket} does not exist`);
    throw err;
  }
}

async function requireBucket(store: Browser, bucket: string): Promise<void> {
  // PutObject into a missing bucket is refused by most stores, but some create it on the fly.
  if (!(await store.listBuckets()).includes(bucket)) throw new NotFoundError(`bucket ${bucket} does not exist`);
}

function folder(bucket: string, prefix: string): StorageFolder {
  return { name: lastSegment(prefix), prefix, path: formatObjectPath(bucket, prefix) };
}

/** Browsing buckets for the wizard's Select dialogs: one level at a time, and "create folder". */
export function storageBrowseRoutes(store: Browser): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/storage/buckets',
      { schema: { tags, summary: 'Buckets these credentials can see', response: { 200: StorageBucketList, 503: ApiError } } },
      async () => ({ items: (await store.listBuckets()).sort().map((name) => ({ name })) }),
    );

    app.get(
      '/storage/buckets/:bucket/objects',
      {
        schema: {
          tags,
          summary: 'One level of a bucket below a prefix: folders and objects',
          params: StorageBucketParams,
          querystring: StorageListQuery,
          response: { 200: StorageListing, ...errors },
        },
      },
      async (req) => {
        const { bucket } = req.params;
        const { prefix } = req.query;
        const level = await inBucket(bucket, () => store.listFolder(bucket, prefix));
        return {
          bucket,
          prefix,
          path: formatObjectPath(bucket, prefix),
          folders: level.folders.sort().map((p) => folder(bucket, p)),
          objects: level.objects
            .map((o) => ({ name: o.key.slice(prefix.length), key: o.key, size: o.size }))
            .sort((a, b) => a.name.localeCompare(b.name)),
        };
      },
    );

    app.post(
      '/storage/buckets/:bucket/folders',
      {
        schema: {
          tags,
          summary: 'Create a folder (a zero-byte "dir/" marker); creating an existing one is harmless',
          params: StorageBucketParams,
          body: CreateFolderRequest,
          response: { 201: StorageFolder, ...errors },
        },
      },
      async (req, reply) => {
        const { bucket } = req.params;
        const { prefix } = req.body;
        await requireBucket(store, bucket);
        await inBucket(bucket, () => store.upload(bucket, prefix, Buffer.alloc(0), 'application/x-directory'));
        return reply.status(201).send(folder(bucket, prefix));
      },
    );
  };
}
