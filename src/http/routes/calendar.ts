import { Router } from 'express';
import { calendarListing } from '../../calendar/listing.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/calendar`: China's public holidays and make-up working days, as `PH` in opening_hours reads them. */
export function calendarRoutes({ contract, holder }: AppDeps): Router {
  const router = Router();

  router.get('/v1/calendar', (req, res) => {
    const { query } = contract.input('getCalendar', req);
    res.json(calendarListing(holder.current.calendar, query as { from?: string; to?: string }, Date.now()));
  });

  return router;
}
