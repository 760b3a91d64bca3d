import { Router } from 'express';
import type { ClusterRequest } from '../../engine/query.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/clusters`: the markers of a map view, clustered by zoom, over the same filters as the search. */
export function clusterRoutes({ contract, queries }: AppDeps): Router {
  const router = Router();

  router.get('/v1/clusters', async (req, res) => {
    const { query } = contract.input('getClusters', req);
    const answer = await queries.clusters(query as unknown as ClusterRequest);
    res.type(answer.type).send(answer.body);
  });

  return router;
}
