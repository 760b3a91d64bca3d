import { Router, type Request } from 'express';
import QRCode from 'qrcode';
import { AppError } from '../../errors.js';
import type { RulesInput } from '../../booking/policy.js';
import type { SlotPatch } from '../../booking/slot-admin.js';
import { authenticator, bearer } from '../auth.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../app.js';

const SMALL_BODY_LIMIT = '16kb';

/**
 * The venue's side (keys of the resource, its district, operators): booking rules, a slot's capacity and
 * closing, the roster, a contact's phone, check-in; and a booking's QR code for its holder.
 */
export function venueRoutes({ contract, bookings, keys }: AppDeps): Router {
  const router = Router();
  const auth = authenticator(keys);

  // Public (a family reads the rules before booking); a key sent must run the resource's seats.
  router.get('/v1/resources/:id/booking-rules', async (req, res) => {
    const by = req.headers.authorization === undefined ? undefined : await auth(req);
    const { params } = contract.input('getBookingRules', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.rules.get(params.id, by));
  });

  router.put('/v1/resources/:id/booking-rules', jsonBody(SMALL_BODY_LIMIT), async (req, res) => {
    const by = await auth(req);
    const { params, body } = contract.input('putBookingRules', req);
    res.json(await bookings.rules.put(params.id, body as RulesInput, by));
  });

  router.patch('/v1/slots/:id', jsonBody(SMALL_BODY_LIMIT), async (req, res) => {
    const by = await auth(req);
    const { params, body } = contract.input('patchSlot', req);
    res.json(await bookings.admin.patch(Number(params.id), body as SlotPatch, by));
  });

  router.delete('/v1/slots/:id', async (req, res) => {
    const by = await auth(req);
    const { params } = contract.input('closeSlot', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.admin.close(Number(params.id), by));
  });

  router.get('/v1/slots/:id/roster', async (req, res) => {
    const by = await auth(req);
    const { params } = contract.input('getRoster', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.venue.roster(Number(params.id), by));
  });

  router.get('/v1/bookings/:id/contact', async (req, res) => {
    const by = await auth(req);
    const { params } = contract.input('revealContact', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.venue.contact(params.id, by));
  });

  router.post('/v1/checkins', jsonBody(SMALL_BODY_LIMIT), async (req, res) => {
    const by = await auth(req);
    const { body } = contract.input('checkIn', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.venue.checkIn((body as { code: string }).code, by));
  });

  router.get('/v1/bookings/:id/qr.svg', async (req, res) => {
    const { params } = contract.input('getBookingQr', req);
    const token = bearer(req);
    if (!token) throw new AppError('unauthorized', 'send Authorization: Bearer <booking token> (the token of the booking answer)');
    const code = await bookings.checkinCode(params.id, token);
    res.setHeader('Cache-Control', 'no-store');
    res.type('image/svg+xml').send(await QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
  });

  return router;
}

/** The waitlist (候补): join a full slot, read an entry, leave. */
export function waitlistRoutes({ contract, bookings }: AppDeps): Router {
  const router = Router();
  router.post('/v1/waitlist', jsonBody(SMALL_BODY_LIMIT), async (req, res) => {
    const { body } = contract.input('joinWaitlist', req);
    const outcome = await bookings.waitlist.join(body as never, req.get('idempotency-key'));
    res.setHeader('Idempotent-Replayed', String(outcome.replayed));
    res.setHeader('Cache-Control', 'no-store');
    if (outcome.error) throw outcome.error;
    res.status(201).location(`/v1/waitlist/${outcome.entry!.id}`).json(outcome.entry);
  });

  router.get('/v1/waitlist/:id', async (req, res) => {
    const { params } = contract.input('getWaitlistEntry', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.waitlist.get(params.id, entryToken(req)));
  });

  router.delete('/v1/waitlist/:id', async (req, res) => {
    const { params } = contract.input('leaveWaitlist', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await bookings.waitlist.leave(params.id, entryToken(req)));
  });
  return router;
}

function entryToken(req: Request): string {
  const token = bearer(req);
  if (!token) throw new AppError('unauthorized', 'send Authorization: Bearer <entry token> (the token of the waitlist answer)');
  return token;
}
