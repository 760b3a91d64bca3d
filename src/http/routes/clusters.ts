import { Router } from 'express';
import type { Crs } from '../../geo/crs.js';
import { fromWgs84, roundCoord } from '../../geo/crs.js';
import { clusters, DOMAINS, primaryDomainsOf } from '../../engine/clusters.js';
import { compileSearch, type SearchParams } from '../../engine/request.js';
import { parseNeed } from '../../booking/availability.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/clusters`: the markers of a map view, clustered by zoom, over the same filters as the search. */
export function clusterRoutes({ contract, holder, bookings }: AppDeps): Router {
  const router = Router();

  router.get('/v1/clusters', (req, res) => {
    const { query } = contract.input('getClusters', req);
    const { zoom, ...params } = query as unknown as SearchParams & { zoom: number; bbox: string };
    const snap = holder.current;
    const compiled = compileSearch(snap, params);
    // Free seats in a window: the same predicate as the search, so the map shows what the list can book.
    const need = parseNeed(params);
    if (need) compiled.accept = bookings.availability.acceptFor(snap, need);
    const crs: Crs = params.crs ?? 'wgs84';
    const result = clusters(snap, compiled, compiled.bbox!, zoom);
    const primary = primaryDomainsOf(snap);
    const items = result.items.map((c) => {
      const [lng, lat] = fromWgs84([c.lng, c.lat], crs).map(roundCoord);
      if (c.index < 0) {
        const domains: Record<string, number> = {};
        c.domains.forEach((n, k) => {
          if (n) domains[DOMAINS[k] ?? 'none'] = n;
        });
        return { kind: 'cluster', id: `c${c.clusterId}`, count: c.count, lng, lat, expansion_zoom: c.expansionZoom, domains };
      }
      const doc = JSON.parse(snap.reader.doc(snap.seqs[c.index]) ?? '{}') as { name?: string; name_en?: string | null };
      return {
        kind: 'resource', id: snap.ids[c.index], count: 1, lng, lat,
        name: doc.name ?? snap.ids[c.index], name_en: doc.name_en ?? null,
        type: snap.types[snap.typeCode[c.index]] ?? null, domain: DOMAINS[primary[c.index]] ?? null,
      };
    });
    res.json({ crs, zoom, total: result.total, count: items.length, items });
  });

  return router;
}
