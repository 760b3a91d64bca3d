import { Router } from 'express';
import type { Crs } from '../../geo/crs.js';
import type { SearchRequest } from '../../engine/query.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/resources` (search) and `GET /v1/resources/{id}`. */
export function resourceRoutes({ contract, queries }: AppDeps): Router {
  const router = Router();

  router.get('/v1/resources', async (req, res) => {
    const { query } = contract.input('searchResources', req);
    const answer = await queries.search(query as SearchRequest);
    res.type(answer.type).send(answer.body);
  });

  router.get('/v1/resources/:id', async (req, res) => {
    const { query, params } = contract.input('getResource', req);
    const answer = await queries.resource(params.id, query.crs as Crs | undefined);
    res.type(answer.type).send(answer.body);
  });

  return router;
}
