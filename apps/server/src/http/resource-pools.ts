import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ResourcePoolList, type ResourcePool } from '@tc/contracts';

export function resourcePoolRoutes(list: () => Promise<ResourcePool[]>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/resource-pools',
      { schema: { tags: ['resource pools'], summary: 'Pools with their flavors and free capacity', response: { 200: ResourcePoolList } } },
      async () => ({ items: await list() }),
    );
  };
}
