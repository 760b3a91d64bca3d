import { Router } from 'express';
import { roundCoord } from '../../geo/crs.js';
import { match, SCORING, type MatchRequest } from '../../match/match.js';
import { resourceJson } from '../../engine/render.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../app.js';

/** `POST /v1/match`: one-click matching from one or several origins. */
export function matchRoutes({ contract, holder }: AppDeps): Router {
  const router = Router();

  router.post('/v1/match', jsonBody('16kb'), (req, res) => {
    const { body } = contract.input('match', req);
    const request = body as MatchRequest;
    const snap = holder.current;
    const crs = request.crs ?? 'wgs84';
    const result = match(snap, request);
    const items = result.items.map((item, k) => {
      const resource = resourceJson(snap, item.index, crs);
      const { index: _index, ...rest } = item;
      return `{"rank":${k + 1},"resource":${resource},${JSON.stringify(rest).slice(1, -1)}}`;
    });
    const origins = request.origins.map((o, k) => ({ label: o.label ?? (k === 0 ? 'origin' : `origin ${k + 1}`), lng: roundCoord(o.lng), lat: roundCoord(o.lat), weight: o.weight ?? 1 }));
    res.type('application/json').send(`{"crs":"${crs}","combine":"${result.combine}","scoring":${JSON.stringify(SCORING)},` +
      `"origins":${JSON.stringify(origins)},"count":${items.length},"items":[${items.join(',')}]}`);
  });

  return router;
}


