import { Router, type Request } from 'express';
import { AppError } from '../../errors.js';
import type { BookingRequest } from '../../booking/bookings.js';
import type { SlotInput } from '../../booking/slots.js';
import type { ScheduleInput } from '../../booking/schedule.js';
import { authenticator, bearer } from '../auth.js';
import { jsonBody } from '../body.js';
import type { AppDeps, HttpParts } from '../app.js';
import { addressKey } from '../guards.js';

/** Largest JSON body of a booking request, and of a slot or schedule upload. */
const BOOKING_BODY_LIMIT = '16kb';
const SLOTS_BODY_LIMIT = '512kb';

/**
 * Slots (`GET`/`POST /v1/resources/{id}/slots`, `POST /v1/resources/{id}/schedule`) and bookings
 * (`POST /v1/bookings`, `GET`/`DELETE /v1/bookings/{id}`, `GET /v1/bookings/{id}.ics`).
 */
export function bookingRoutes({ contract, bookings, keys }: AppDeps, { conflicts }: HttpParts): Router {
  const router = Router();
  const auth = authenticator(keys);

  router.get('/v1/resources/:id/slots', async (req, res) => {
    const { query, params } = contract.input('listSlots', req);
    const items = await bookings.listSlots(params.id, query.from as string | undefined, query.to as string | undefined);
    res.json({ resource_id: params.id, count: items.length, items });
  });

  router.post('/v1/resources/:id/slots', jsonBody(SLOTS_BODY_LIMIT), async (req, res) => {
    const by = await auth(req);
    const { params, body } = contract.input('createSlots', req);
    const items = await bookings.createSlots(params.id, (body as { slots: SlotInput[] }).slots, by);
    res.status(201).json({ resource_id: params.id, count: items.length, items });
  });

  router.post('/v1/resources/:id/schedule', jsonBody(SLOTS_BODY_LIMIT), async (req, res) => {
    const by = await auth(req);
    const { params, body } = contract.input('scheduleSlots', req);
    const { created, unchanged, ...report } = await bookings.schedule(params.id, body as ScheduleInput, by);
    res.status(201).json({ resource_id: params.id, created: created.length, unchanged, items: created, ...report });
  });

  router.post('/v1/bookings', jsonBody(BOOKING_BODY_LIMIT), async (req, res) => {
    const { body } = contract.input('createBooking', req);
    const request = body as BookingRequest;
    // Visitor conflicts are budgeted per client address: a made-up token must not buy a fresh budget, and
    // a booking carries no credential of its own.
    const client = addressKey(req);
    if (request.visitor_ids?.length) await conflicts.check(client, res);
    const outcome = await bookings.book(request, req.get('idempotency-key'));
    res.setHeader('Idempotent-Replayed', String(outcome.replayed));
    res.setHeader('Cache-Control', 'no-store');
    if (outcome.error?.code === 'visitor_already_booked') await conflicts.record(client);
    if (outcome.error) throw outcome.error;
    res.status(201).location(`/v1/bookings/${outcome.booking.id}`).json(outcome.booking);
  });

  // Before `/v1/bookings/:id`, which would take `bk_….ics` as an id.
  router.get('/v1/bookings/:id.ics', async (req, res) => {
    const { params } = contract.input('getBookingCalendar', req);
    const text = await bookings.ics(params.id, bookingToken(req));
    res.setHeader('Cache-Control', 'no-store');
    res.type('text/calendar; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${params.id}.ics"`);
    res.send(text);
  });

  router.get('/v1/bookings/:id', async (req, res) => {
    const { params } = contract.input('getBooking', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.get(params.id, bookingToken(req)));
  });

  router.delete('/v1/bookings/:id', async (req, res) => {
    const { params } = contract.input('cancelBooking', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.cancel(params.id, bookingToken(req)));
  });

  return router;
}

/** The bearer token of a booking, or a 401. */
function bookingToken(req: Request): string {
  const token = bearer(req);
  if (!token) throw new AppError('unauthorized', 'send Authorization: Bearer <booking token> (the token of the booking answer)');
  return token;
}
