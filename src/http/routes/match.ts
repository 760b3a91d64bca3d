import { Router } from 'express';
import { roundCoord } from '../../geo/crs.js';
import { match, SCORING, type MatchRequest } from '../../match/match.js';
import { resourcesJson } from '../../engine/render.js';
import { jsonBody } from '../body.js';
import { matchNeed } from '../../booking/availability.js';
import type { Kind } from '../../store/bookings.js';
import type { AppDeps } from '../app.js';

/** `POST /v1/match`: one-click matching from one or several origins. */
export function matchRoutes({ contract, holder, bookings }: AppDeps): Router {
  const router = Router();

  router.post('/v1/match', jsonBody('16kb'), (req, res) => {
    const { body } = contract.input('match', req);
    const request = body as MatchRequest & { needs?: { party?: { seats: number; kind?: Kind } } };
    const snap = holder.current;
    const crs = request.crs ?? 'wgs84';
    // Seats are a hard filter inside the kNN scan (the booking module's availability index).
    const need = matchNeed(request.needs?.party, request.needs?.time, Date.now());
    const result = match(snap, request, need ? { accept: bookings.availability.acceptFor(snap, need) } : {});
    const resources = resourcesJson(snap, result.items.map((item) => item.index), crs);
    const items = result.items.map((item, k) => {
      const resource = resources[k];
      const { index: _index, ...rest } = item;
      const slot = need ? `,"slot":${JSON.stringify(bookings.availability.firstFit(snap.ids[item.index], need) ?? null)}` : '';
      return `{"rank":${k + 1},"resource":${resource},${JSON.stringify(rest).slice(1, -1)}${slot}}`;
    });
    const origins = request.origins.map((o, k) => ({ label: o.label ?? (k === 0 ? 'origin' : `origin ${k + 1}`), lng: roundCoord(o.lng), lat: roundCoord(o.lat), weight: o.weight ?? 1 }));
    res.type('application/json').send(`{"crs":"${crs}","combine":"${result.combine}","scoring":${JSON.stringify(SCORING)},` +
      `"origins":${JSON.stringify(origins)},"count":${items.length},"items":[${items.join(',')}]}`);
  });

  return router;
}


