import { invalidFields, type FieldError } from '../errors.js';
import type { Kind } from '../engine/params.js';
import { normalizePhone, normalizeResidentId } from './privacy.js';
import { normalizeOrgCode } from './identity.js';
import { maxIndividual, type VenueRules } from './policy.js';

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
  /** A school group's organisation (统一社会信用代码) and leader (resident ID). */
  group?: { org_code?: string; leader_id?: string };
}

/** A booking request after the checks: the phone and ID numbers normalised (never echoed back). */
export interface CheckedRequest {
  body: BookingRequest;
  phone: string;
  /** The visitors' ID numbers, and for a group its leader's last. */
  visitors: string[];
  /** How many of `visitors` came from `visitor_ids` (the rest is the leader). */
  idCount: number;
  orgCode: string | null;
}

/** What a real-name rule needs of a request or a waitlist entry; null when it is met. */
export function realNameProblem(rules: VenueRules, r: { kind: Kind; partySize: number; idCount: number; orgCode: string | null; leader: boolean }): FieldError | null {
  if (r.kind === 'individual' && rules.realName && r.idCount !== r.partySize) {
    return { path: 'body.visitor_ids', message: `this venue books by real name: give the resident ID number of each of the ${r.partySize} visitors` };
  }
  if (r.kind === 'group' && (rules.realName || rules.group.orgCodeRequired) && !r.orgCode) {
    return { path: 'body.group.org_code', message: "this venue needs the group's unified social credit code (统一社会信用代码)" };
  }
  if (r.kind === 'group' && rules.realName && !r.leader) {
    return { path: 'body.group.leader_id', message: "this venue books by real name: give the group leader's resident ID number" };
  }
  return null;
}

/**
 * Checks what the contract cannot: party size per kind and venue, a mainland mobile number, resident ID
 * numbers (none repeated, no more than the party), a group's organisation code and leader, and what the
 * venue's real-name rule needs. A 400 naming every bad field, without the numbers themselves.
 */
export function checkRequest(body: BookingRequest, rules?: VenueRules, nowMs: number = Date.now()): CheckedRequest {
  const errors: FieldError[] = [];
  const most = rules ? maxIndividual(rules, BOOKING_RULES.individualMaxParty) : BOOKING_RULES.individualMaxParty;
  if (body.kind === 'individual' && body.party_size > most) {
    errors.push({ path: 'body.party_size', message: `must be at most ${most} for an individual booking here; book as a group` });
  }
  if (!body.contact.name.trim()) errors.push({ path: 'body.contact.name', message: 'must not be blank' });
  const phone = normalizePhone(body.contact.phone);
  if (!phone) errors.push({ path: 'body.contact.phone', message: 'must be a mainland mobile number such as 13812345678' });
  const visitors: string[] = [];
  const seen = new Map<string, number>();
  (body.visitor_ids ?? []).forEach((text, k) => {
    const id = normalizeResidentId(text, nowMs);
    if (!id) errors.push({ path: `body.visitor_ids[${k}]`, message: 'is not a valid 18-character resident ID number (region, birth date, check character)' });
    else if (seen.has(id)) errors.push({ path: `body.visitor_ids[${k}]`, message: `repeats body.visitor_ids[${seen.get(id)}]` });
    else seen.set(id, k);
    if (id) visitors.push(id);
  });
  if (visitors.length > body.party_size) errors.push({ path: 'body.visitor_ids', message: 'must not list more visitors than party_size' });
  const idCount = visitors.length;
  let orgCode: string | null = null;
  if (body.group && body.kind !== 'group') errors.push({ path: 'body.group', message: 'is for group bookings only' });
  if (body.group?.org_code !== undefined) {
    orgCode = normalizeOrgCode(body.group.org_code) ?? null;
    if (!orgCode) errors.push({ path: 'body.group.org_code', message: 'is not a valid 18-character unified social credit code (GB 32100-2015)' });
  }
  if (body.group?.leader_id !== undefined) {
    const leader = normalizeResidentId(body.group.leader_id, nowMs);
    if (!leader) errors.push({ path: 'body.group.leader_id', message: 'is not a valid 18-character resident ID number (region, birth date, check character)' });
    else if (seen.has(leader)) errors.push({ path: 'body.group.leader_id', message: `repeats body.visitor_ids[${seen.get(leader)}]` });
    else visitors.push(leader);
  }
  if (rules && !errors.length) {
    const problem = realNameProblem(rules, { kind: body.kind, partySize: body.party_size, idCount, orgCode, leader: visitors.length > idCount });
    if (problem) errors.push(problem);
  }
  if (errors.length) throw invalidFields(errors);
  return { body, phone: phone!, visitors, idCount, orgCode };
}

/**
 * What identifies a booking request for its Idempotency-Key: every field, in a fixed order (the contract
 * allows no others), so two bodies that differ only in key order are the same request.
 */
export function requestFingerprint(b: BookingRequest): string {
  // A group's fields are added only when given, so the fingerprints of earlier requests stay as they were.
  return JSON.stringify([b.slot_id, b.kind, b.party_size, b.contact.name, b.contact.phone, b.visitor_ids ?? null,
    ...(b.group ? [b.group.org_code ?? null, b.group.leader_id ?? null] : [])]);
}
