import { invalidFields, type FieldError } from '../errors.js';
import type { Kind } from '../engine/params.js';
import { normalizePhone, normalizeResidentId } from './privacy.js';

/** Booking rules that are not configuration, in one place. */
export const BOOKING_RULES = {
  /** A class books 15–200 places: the group size range of a slot that names none. */
  groupSize: { min: 15, max: 200 },
  /** Largest party of an individual (family) booking. */
  individualMaxParty: 10,
  /** Most slots one request may create (a list, or a schedule materialised), as `POST …/slots` allows. */
  maxSlotsPerRequest: 1000,
  /** Longest slot, in hours: a slot is an entry window within a day (or a daily cap). */
  maxSlotHours: 24,
  /** How far ahead slots may be created, in days. */
  horizonDays: 366,
  /** Widest `from`–`to` range of a slot listing, in days. */
  maxListDays: 92,
  /** Default `from`–`to` range of a slot listing, in days. */
  listDays: 7,
  /** Idempotency-Keys are kept this long, in hours (as Stripe does). */
  keyTtlHours: 24,
  /** A request that claimed a key and then vanished (its process died) holds it at most this long, in ms. */
  keyLeaseMs: 30_000,
} as const;

/** A booking request as `POST /v1/bookings` takes it (shape already checked against the contract). */
export interface BookingRequest {
  slot_id: number;
  kind: Kind;
  party_size: number;
  contact: { name: string; phone: string };
  visitor_ids?: string[];
}

/** A booking request after the checks: the phone and ID numbers normalised (never echoed back). */
export interface CheckedRequest {
  body: BookingRequest;
  phone: string;
  visitors: string[];
}

/**
 * Checks what the contract cannot: party size per kind, a mainland mobile number, resident ID numbers
 * (none repeated, no more than the party). A 400 naming every bad field, without the numbers themselves.
 */
export function checkRequest(body: BookingRequest): CheckedRequest {
  const errors: FieldError[] = [];
  if (body.kind === 'individual' && body.party_size > BOOKING_RULES.individualMaxParty) {
    errors.push({ path: 'body.party_size', message: `must be at most ${BOOKING_RULES.individualMaxParty} for an individual booking; book as a group` });
  }
  if (!body.contact.name.trim()) errors.push({ path: 'body.contact.name', message: 'must not be blank' });
  const phone = normalizePhone(body.contact.phone);
  if (!phone) errors.push({ path: 'body.contact.phone', message: 'must be a mainland mobile number such as 13812345678' });
  const visitors: string[] = [];
  const seen = new Map<string, number>();
  (body.visitor_ids ?? []).forEach((text, k) => {
    const id = normalizeResidentId(text);
    if (!id) errors.push({ path: `body.visitor_ids[${k}]`, message: 'is not a valid 18-character resident ID number' });
    else if (seen.has(id)) errors.push({ path: `body.visitor_ids[${k}]`, message: `repeats body.visitor_ids[${seen.get(id)}]` });
    else seen.set(id, k);
    if (id) visitors.push(id);
  });
  if (visitors.length > body.party_size) errors.push({ path: 'body.visitor_ids', message: 'must not list more visitors than party_size' });
  if (errors.length) throw invalidFields(errors);
  return { body, phone: phone!, visitors };
}

/**
 * What identifies a booking request for its Idempotency-Key: every field, in a fixed order (the contract
 * allows no others), so two bodies that differ only in key order are the same request.
 */
export function requestFingerprint(b: BookingRequest): string {
  return JSON.stringify([b.slot_id, b.kind, b.party_size, b.contact.name, b.contact.phone, b.visitor_ids ?? null]);
}
