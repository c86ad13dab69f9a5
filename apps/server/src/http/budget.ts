import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError, Budget, BudgetJobsQuery, JobConsumptionList } from '@tc/contracts';
import type { BudgetService } from '../budget/budget-service.js';

export function budgetRoutes(budget: BudgetService): FastifyPluginAsyncZod {
  return async (app) => {
    const tags = ['budget'];
    app.get(
      '/budget',
      {
        schema: {
          tags,
          summary: 'The core-hour budget: limit, used, balance (at or below 0: in arrears, no new jobs), top consumers',
          response: { 200: Budget },
        },
      },
      async () => budget.summary(),
    );
    app.get(
      '/budget/jobs',
      {
        schema: {
          tags,
          summary: 'What each job run has consumed, newest start first (deleted jobs included)',
          querystring: BudgetJobsQuery,
          response: { 200: JobConsumptionList, 400: ApiError },
        },
      },
      async (req) => budget.jobs(req.query),
    );
  };
}
