import { Router } from 'express';
import type { Crs } from '../../geo/crs.js';
import { changes } from '../../export/changes.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/changes`: the change feed of resources, in commit order, deletions included. */
export function changeRoutes({ contract, db }: AppDeps): Router {
  const router = Router();

  router.get('/v1/changes', async (req, res) => {
    const { query } = contract.input('listChanges', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await changes(db, query.after as string | undefined, (query.limit as number | undefined) ?? 100, (query.crs as Crs | undefined) ?? 'wgs84'));
  });

  return router;
}
