import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ResourcePoolList } from '@tc/contracts';
import type { ResourcePools } from '../engine/resource-pools.js';

export function resourcePoolRoutes(pools: ResourcePools): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/resource-pools',
      { schema: { tags: ['resource pools'], summary: 'Pools with their flavors and free capacity', response: { 200: ResourcePoolList } } },
      async () => ({ items: await pools.list() }),
    );
  };
}
