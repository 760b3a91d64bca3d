import express, { Router } from 'express';
import { AppError } from '../../errors.js';
import type { Crs } from '../../geo/crs.js';
import { authenticator } from '../auth.js';
import type { AppDeps } from '../app.js';

/** Largest GeoJSON upload of areas: school district outlines can be detailed. */
const AREAS_BODY_LIMIT = '16mb';

/** `POST /v1/areas` (school districts as GeoJSON) and `DELETE /v1/areas/{id}`. */
export function areaEditRoutes({ contract, keys, areaEdits }: AppDeps): Router {
  const router = Router();
  const auth = authenticator(keys);
  const geojson = express.json({ limit: AREAS_BODY_LIMIT, strict: true, type: ['application/geo+json', 'application/json'] });

  router.post('/v1/areas', (req, _res, next) => {
    if (!req.is('application/geo+json') && !req.is('application/json')) {
      next(new AppError('unsupported_media_type', 'send a GeoJSON FeatureCollection with Content-Type: application/geo+json'));
      return;
    }
    next();
  }, geojson, async (req, res) => {
    const by = await auth(req);
    const { query, body } = contract.input('uploadAreas', req);
    const report = await areaEdits.upload(body as { features: unknown[] }, (query.crs as Crs | undefined) ?? 'wgs84', by);
    res.json({ crs: query.crs ?? 'wgs84', ...report });
  });

  router.delete('/v1/areas/:id', async (req, res) => {
    const by = await auth(req);
    const { params } = contract.input('deleteArea', req);
    await areaEdits.remove(params.id, by);
    res.status(204).end();
  });

  return router;
}
