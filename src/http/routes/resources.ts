import { Router } from 'express';
import { AppError } from '../../errors.js';
import type { Crs } from '../../geo/crs.js';
import { search } from '../../engine/search.js';
import { compileSearch, encodeCursor, type SearchParams } from '../../engine/request.js';
import { indexOfId, resourceFeatures, resourceJson, resourcesJson } from '../../engine/render.js';
import { parseNeed } from '../../booking/availability.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/resources` (search) and `GET /v1/resources/{id}`. */
export function resourceRoutes({ contract, holder, bookings }: AppDeps): Router {
  const router = Router();

  router.get('/v1/resources', (req, res) => {
    const { query } = contract.input('searchResources', req);
    const params = query as unknown as SearchParams & { format: 'json' | 'geojson' };
    const snap = holder.current;
    const compiled = compileSearch(snap, params);
    // "Nearest with N free seats in the window": availability is a predicate inside the kNN scan.
    const need = parseNeed(params);
    if (need) compiled.accept = bookings.availability.acceptFor(snap, need);
    const result = search(snap, compiled);
    const crs = params.crs ?? 'wgs84';
    const last = result.indices.length - 1;
    const next = result.more
      ? encodeCursor(params, { id: snap.ids[result.indices[last]], distanceKm: result.distancesKm?.[last] })
      : null;
    const render = params.format === 'geojson' ? resourceFeatures : resourcesJson;
    const items = render(snap, result.indices, crs, result.distancesKm).map((text, k) => {
      const i = result.indices[k];
      if (!need) return text;
      // The earliest slot that fits, inside the record (the feature's properties for GeoJSON).
      const slot = `,"slot":${JSON.stringify(bookings.availability.firstFit(snap.ids[i], need) ?? null)}}`;
      return params.format === 'geojson' ? `${text.slice(0, -2)}${slot}}` : `${text.slice(0, -1)}${slot}`;
    }).join(',');
    if (params.format === 'geojson') {
      res.type('application/geo+json').send(
        `{"type":"FeatureCollection","crs":"${crs}","count":${result.indices.length},"next_cursor":${JSON.stringify(next)},"features":[${items}]}`);
    } else {
      res.type('application/json').send(
        `{"crs":"${crs}","count":${result.indices.length},"items":[${items}],"next_cursor":${JSON.stringify(next)}}`);
    }
  });

  router.get('/v1/resources/:id', (req, res) => {
    const { query, params } = contract.input('getResource', req);
    const snap = holder.current;
    const i = indexOfId(snap, params.id);
    if (i < 0) throw new AppError('not_found', `no resource '${params.id}'`);
    const crs = (query.crs as Crs | undefined) ?? 'wgs84';
    res.type('application/json').send(`${resourceJson(snap, i, crs).slice(0, -1)},"crs":"${crs}"}`);
  });

  return router;
}
