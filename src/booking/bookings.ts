import { AppError, ERRORS, invalidField, type ErrorCode, type FieldError } from '../errors.js';
import { formatShanghai } from '../time.js';
import type { Logger } from '../log.js';
import type { SnapshotHolder } from '../engine/holder.js';
import type { Snapshot } from '../engine/snapshot.js';
import { search } from '../engine/search.js';
import { indexOfId } from '../engine/render.js';
import { BookingStore, isBusy, type BookingRow, type Kind, type SlotRow } from '../store/bookings.js';
import type { Db } from '../store/db.js';
import { Availability, type FreeSlot } from './availability.js';
import {
  Hasher, maskPhone, newBookingId, normalizePhone, normalizeResidentId, tokenDigest, tokenMatches,
} from './privacy.js';
import { BOOKING_RULES, parseRange, parseSlots, shanghaiDay, slotJson, type SlotInput, type SlotJson } from './slots.js';
import { materialise, type ScheduleInput } from './schedule.js';
import { icsCalendar } from './ics.js';

/** A booking request as `POST /v1/bookings` takes it (shape already checked against the contract). */
export interface BookingRequest {
  slot_id: number;
  kind: Kind;
  party_size: number;
  contact: { name: string; phone: string };
  visitor_ids?: string[];
}

/** A booking as the API answers it. `token` only in the answer that created it (and its replays). */
export interface BookingJson {
  id: string;
  status: 'confirmed' | 'cancelled';
  slot: { id: number; resource_id: string; start: string; end: string };
  resource: { id: string; name: string | null };
  kind: Kind;
  party_size: number;
  contact: { name: string; phone: string };
  /** Number of visitor ID numbers recorded (the numbers themselves are never answered or stored). */
  visitors: number;
  created_at: string;
  /** Cancelling is possible until this time. */
  cancel_before: string;
  cancelled_at: string | null;
  token?: string;
}

/** What `book` did: a booking, or a known error; `replayed` when the Idempotency-Key had answered before. */
export type BookOutcome = { replayed: boolean } & ({ booking: BookingJson; error?: undefined } | { error: AppError; booking?: undefined });

/** Other places to try when a slot is full. */
export interface Alternatives {
  /** Other slots of the same resource with room, nearest in time first (within a week either side). */
  slots: SlotJson[];
  /** The nearest other resources with room on the same day, each with its earliest fitting slot. */
  resources: { id: string; name: string | null; distance_m: number; slot: FreeSlot }[];
}

/** Options of `Bookings`. */
export interface BookingOptions {
  /** See `Config.hashKey`. */
  hashKey: string;
  /** See `Config.cancelCutoffHours`. */
  cancelCutoffHours: number;
  /** Epoch ms now; tests move it. */
  clock?: () => number;
  log?: Logger;
}

interface StoredAnswer {
  booking?: BookingJson;
  error?: { code: ErrorCode; detail: string; errors?: FieldError[]; extra?: Record<string, unknown> };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** How far around a full slot its resource's other slots are offered, in ms. */
const ALTERNATIVE_SLOTS_MS = 7 * DAY_MS;
/** How far away other resources are offered for a full slot, in km. */
const ALTERNATIVE_RADIUS_KM = 30;
const ALTERNATIVES = 3;
/** How often expired Idempotency-Keys are deleted, in ms (by whichever request comes first). */
const PURGE_EVERY_MS = 60_000;
/** Resources whose name and address are kept per snapshot. */
const INFO_CACHE_SIZE = 10_000;

interface ResourceInfo { name: string; address: string | null; point: [number, number] }

/** How often, and how many times, a claim that could not be released is tried again (in ms). */
const RELEASE_RETRY_MS = 200;
const RELEASE_ATTEMPTS = 50;

function inProgress(): AppError {
  return new AppError('idempotency_in_progress', 'the first request with this Idempotency-Key is still being processed; retry in a moment',
    [{ path: 'header.idempotency-key', message: 'is in use by a request in progress' }]);
}

/** Compared against when a booking id is unknown. */
const NO_TOKEN = Buffer.alloc(32);

/**
 * What identifies a booking request for its Idempotency-Key: every field, in a fixed order (the contract
 * allows no others), so two bodies that differ only in key order are the same request.
 */
export function requestFingerprint(b: BookingRequest): string {
  return JSON.stringify([b.slot_id, b.kind, b.party_size, b.contact.name, b.contact.phone, b.visitor_ids ?? null]);
}

/**
 * The booking module: slots, schedules, bookings with Idempotency-Keys, cancellation, and the availability
 * index that search uses. The only module that writes capacity. Every rule that must hold across processes
 * (capacity, one booking per visitor per resource per day, one answer per key) is held by SQL inside
 * `BEGIN IMMEDIATE` transactions, not by this process's memory.
 */
export class Bookings {
  readonly store: BookingStore;
  readonly availability: Availability;
  private readonly hasher: Hasher;
  private readonly clock: () => number;
  private purgedAt = 0;
  private readonly infoCache = new WeakMap<Snapshot, Map<string, ResourceInfo | undefined>>();

  constructor(db: Db, private readonly holder: SnapshotHolder, private readonly options: BookingOptions) {
    this.store = new BookingStore(db);
    this.clock = options.clock ?? Date.now;
    this.availability = new Availability(this.store, this.clock);
    this.hasher = new Hasher(options.hashKey);
  }

  /** Creates slots of a resource (all or none). Overlapping each other or a stored slot is a 409 naming the slot. */
  createSlots(resourceId: string, inputs: readonly SlotInput[]): SlotJson[] {
    this.resource(resourceId);
    const slots = parseSlots(resourceId, inputs, this.clock());
    return this.write(() => {
      slots.forEach((s, k) => {
        const [clash] = this.store.overlapping(resourceId, s.startMs, s.endMs);
        if (clash) {
          throw new AppError('slot_overlap', `body.slots[${k}] overlaps slot ${clash.id} (${range(clash)})`,
            [{ path: `body.slots[${k}]`, message: `overlaps slot ${clash.id} (${range(clash)})` }]);
        }
      });
      return this.store.insertSlots(slots, formatShanghai(new Date(this.clock()))).map(slotJson);
    });
  }

  /**
   * Materialises a weekly schedule into slots. A slot identical (same start and end) to a stored one is
   * left as it is, so re-running a schedule each week only adds the new days; one that overlaps a stored
   * slot otherwise is a 409 and nothing is written.
   */
  schedule(resourceId: string, input: ScheduleInput): { created: SlotJson[]; unchanged: number } {
    const { hours } = this.resource(resourceId);
    const slots = materialise(resourceId, input, hours, this.clock());
    return this.write(() => {
      const fresh = [];
      let unchanged = 0;
      for (const s of slots) {
        const clashes = this.store.overlapping(resourceId, s.startMs, s.endMs, 2);
        if (clashes.length === 1 && clashes[0].start_ms === s.startMs && clashes[0].end_ms === s.endMs) unchanged++;
        else if (clashes.length) {
          const when = `${formatShanghai(new Date(s.startMs))}/${formatShanghai(new Date(s.endMs))}`;
          throw new AppError('slot_overlap', `the schedule's slot ${when} overlaps slot ${clashes[0].id} (${range(clashes[0])})`,
            [{ path: 'body.hours', message: `gives ${when}, which overlaps slot ${clashes[0].id}` }]);
        } else fresh.push(s);
      }
      return { created: this.store.insertSlots(fresh, formatShanghai(new Date(this.clock()))).map(slotJson), unchanged };
    });
  }

  /** Slots of a resource starting in [from, to) (default: the coming 7 days). */
  listSlots(resourceId: string, from?: string, to?: string): SlotJson[] {
    this.resource(resourceId);
    const { fromMs, toMs } = parseRange(from, to, this.clock());
    return this.store.slotsOf(resourceId, fromMs, toMs).map(slotJson);
  }

  /**
   * Books places with Stripe's Idempotency-Key semantics: the first request with a key claims it (in its own
   * transaction); a second one with the same key and body replays the first answer, with another body is a
   * 422, and while the first is still in progress is a 409. The booking itself — capacity taken in one
   * UPDATE, the visitors' days recorded, the answer stored under the key — is one more transaction.
   * Malformed input is a 400 and is not stored under the key. `afterClaim` is a test hook.
   */
  book(body: BookingRequest, key: string | undefined, hooks: { afterClaim?: () => void } = {}): BookOutcome {
    const now = this.clock();
    if (key === undefined) throw invalidField('header.idempotency-key', 'is required: send a unique key (a UUID) per booking, the same on retries');
    if (!KEY_PATTERN.test(key)) throw invalidField('header.idempotency-key', 'must be 1–255 printable ASCII characters');
    const checked = this.check(body);
    const requestHmac = this.hasher.request(requestFingerprint(body));

    // The claim is ours while the key's `locked_until_ms` is this value: a request that takes over an
    // abandoned claim writes its own, so an old holder can neither store its answer nor release the key.
    const lease = now + BOOKING_RULES.keyLeaseMs;
    const first = this.write(() => {
      if (now - this.purgedAt > PURGE_EVERY_MS) {
        this.store.purgeKeys(now - BOOKING_RULES.keyTtlHours * HOUR_MS);
        this.purgedAt = now;
      }
      const stored = this.store.idempotencyKey(key);
      if (!stored) {
        this.store.claimKey(key, requestHmac, lease, now);
        return undefined;
      }
      if (!stored.request_hmac.equals(requestHmac)) {
        throw new AppError('idempotency_mismatch', 'this Idempotency-Key was used with another request body; use a new key for a new booking',
          [{ path: 'header.idempotency-key', message: 'was used with another body' }]);
      }
      if (stored.status === null) {
        if ((stored.locked_until_ms ?? 0) > now || lease === stored.locked_until_ms) throw inProgress();
        this.store.relockKey(key, lease, stored.locked_until_ms!); // its first holder died; carry on in its place
        return undefined;
      }
      return JSON.parse(stored.response!) as StoredAnswer;
    });
    if (first) return this.replay(first, body);

    hooks.afterClaim?.();
    let answer: StoredAnswer;
    let token = '';
    try {
      answer = this.store.immediate(() => {
        let result: StoredAnswer;
        try {
          const { token: made, ...booking } = this.store.immediate(() => this.take(checked, now));
          token = made;
          result = { booking };
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          result = { error: { code: e.code, detail: e.message, errors: e.errors, extra: e.extra } };
        }
        // Stored together with the booking, and only by the claim's holder: otherwise neither is.
        if (!this.store.finishKey(key, lease, result.booking ? 201 : ERRORS[result.error!.code].status, JSON.stringify(result))) {
          throw inProgress();
        }
        return result;
      });
    } catch (e) {
      this.releaseSoon(key, lease); // nothing was booked: let a retry run
      if (isBusy(e)) throw new AppError('busy', 'the database stayed locked too long; retry with the same Idempotency-Key');
      throw e;
    }
    if (answer.booking) {
      this.options.log?.info({ booking_id: answer.booking.id, slot_id: answer.booking.slot.id, kind: answer.booking.kind,
        party_size: answer.booking.party_size }, 'booking confirmed');
      return { replayed: false, booking: { ...answer.booking, token } };
    }
    return { replayed: false, error: this.errorOf(answer.error!, body) };
  }

  /**
   * Forgets our claim of a key, so that a retry runs again. The database may be what failed (busy): then
   * it tries again in the background for a while, and after that the claim's lease runs out.
   */
  private releaseSoon(key: string, lease: number, attempt = 0): void {
    try {
      this.store.releaseKey(key, lease);
    } catch (e) {
      if (!isBusy(e) || attempt >= RELEASE_ATTEMPTS) {
        this.options.log?.warn({ err: e }, 'could not release an Idempotency-Key claim; its lease will run out');
        return;
      }
      setTimeout(() => this.releaseSoon(key, lease, attempt + 1), RELEASE_RETRY_MS).unref();
    }
  }

  /** A booking, for the holder of its token; a 404 for an unknown id and for a wrong token alike. */
  get(id: string, token: string): BookingJson {
    return this.json(this.owned(id, token));
  }

  /**
   * Cancels a booking and gives its places (and its visitors' days) back. Cancelling again answers the
   * cancelled booking; after the cut-off (slot start minus `cancelCutoffHours`) it is a 409.
   */
  cancel(id: string, token: string): BookingJson {
    const row = this.owned(id, token);
    if (row.status === 'cancelled') return this.json(row);
    const now = this.clock();
    const cutoff = row.start_ms - this.options.cancelCutoffHours * HOUR_MS;
    if (now >= cutoff) {
      throw new AppError('cancellation_closed', `bookings of this slot could be cancelled until ${formatShanghai(new Date(cutoff))}`,
        undefined, { cancel_before: formatShanghai(new Date(cutoff)) });
    }
    this.write(() => {
      // Only the transaction that flips the status gives places back, whichever process gets there first.
      if (!this.store.cancel(id, formatShanghai(new Date(now)))) return;
      this.store.give(row.slot_id, row.kind, row.party_size);
      this.store.releaseVisitors(id);
    });
    this.options.log?.info({ booking_id: id, slot_id: row.slot_id }, 'booking cancelled');
    return this.json(this.store.booking(id)!);
  }

  /** The booking as an iCalendar document (text/calendar). */
  ics(id: string, token: string): string {
    const row = this.owned(id, token);
    const info = this.resourceInfo(row.resource_id);
    const what = row.kind === 'group' ? `团体 ${row.party_size} 人 (group of ${row.party_size})` : `${row.party_size} 人 (${row.party_size} people)`;
    return icsCalendar({
      uid: `${row.id}@edumap`,
      start: new Date(row.start_ms),
      end: new Date(row.end_ms),
      stamp: new Date(this.clock()),
      summary: `${info?.name ?? row.resource_id} — 预约 booking`,
      description: `${what}. 预约号 booking ${row.id}. ${formatShanghai(new Date(row.start_ms))}`,
      location: info?.address ?? info?.name ?? undefined,
      point: info ? info.point : undefined,
      cancelled: row.status === 'cancelled',
    });
  }

  /**
   * Where else there is room: other slots of the resource near in time, and the nearest other resources
   * with a slot that day (through the availability index, inside the kNN scan).
   */
  alternatives(slotId: number, kind: Kind, seats: number): Alternatives {
    const slot = this.store.slot(slotId);
    if (!slot) return { slots: [], resources: [] };
    const now = this.clock();
    const slots = this.store.roomySlots({
      resourceId: slot.resource_id, exceptId: slot.id, kind, n: seats, nowMs: now,
      fromMs: slot.start_ms - ALTERNATIVE_SLOTS_MS, toMs: slot.start_ms + ALTERNATIVE_SLOTS_MS, aroundMs: slot.start_ms, limit: ALTERNATIVES,
    }).map(slotJson);
    const snap = this.holder.current;
    const self = indexOfId(snap, slot.resource_id);
    if (self < 0) return { slots, resources: [] };
    const dayStart = Date.parse(`${shanghaiDay(slot.start_ms)}T00:00:00+08:00`);
    const need = { fromMs: dayStart, toMs: dayStart + DAY_MS, seats, kind };
    const fits = this.availability.acceptFor(snap, need);
    const found = search(snap, {
      near: [snap.lng[self], snap.lat[self]], radiusKm: ALTERNATIVE_RADIUS_KM, limit: ALTERNATIVES,
      accept: (i) => i !== self && fits(i),
    });
    const resources = found.indices.map((i, k) => ({
      id: snap.ids[i],
      name: this.resourceInfo(snap.ids[i])?.name ?? null,
      distance_m: Math.round(found.distancesKm![k] * 1000),
      slot: this.availability.firstFit(snap.ids[i], need)!,
    }));
    return { slots, resources };
  }

  /** Validates what the contract cannot: party size per kind, phone and ID numbers (never echoed back). */
  private check(body: BookingRequest): { body: BookingRequest; phone: string; visitors: string[] } {
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
    if (errors.length) throw new AppError('invalid_request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
    return { body, phone: phone!, visitors };
  }

  /** The booking transaction's work (inside a savepoint, so a thrown AppError undoes all of it). */
  private take({ body, phone, visitors }: ReturnType<Bookings['check']>, now: number): BookingJson & { token: string } {
    const slot = this.store.slot(body.slot_id);
    if (!slot) throw new AppError('not_found', `no slot ${body.slot_id}`, [{ path: 'body.slot_id', message: 'does not exist' }]);
    if (slot.start_ms <= now) {
      throw new AppError('slot_closed', `slot ${slot.id} started at ${formatShanghai(new Date(slot.start_ms))}; choose a later one`,
        [{ path: 'body.slot_id', message: 'has started' }]);
    }
    if (body.kind === 'group' && slot.capacity_group > 0 && (body.party_size < slot.group_min || body.party_size > slot.group_max)) {
      throw invalidField('body.party_size', `a group in this slot must be ${slot.group_min}–${slot.group_max} people`);
    }
    if (!this.store.take(slot.id, body.kind, body.party_size)) {
      const left = body.kind === 'group' ? slot.capacity_group - slot.taken_group : slot.capacity_individual - slot.taken_individual;
      throw new AppError('slot_full', `slot ${slot.id} has ${left} ${body.kind} places left; ${body.party_size} asked`,
        [{ path: 'body.slot_id', message: 'has not enough places left' }],
        { remaining: { individual: slot.capacity_individual - slot.taken_individual, group: slot.capacity_group - slot.taken_group } });
    }
    const id = newBookingId();
    const token = this.hasher.token(id);
    this.store.insertBooking({
      id, slotId: slot.id, kind: body.kind, partySize: body.party_size, tokenSha256: tokenDigest(token),
      contactName: body.contact.name.trim(), phoneHmac: this.hasher.phone(phone), phoneMasked: maskPhone(phone),
      visitors: visitors.length, createdAt: formatShanghai(new Date(now)),
    });
    const day = shanghaiDay(slot.start_ms);
    visitors.forEach((visitor, k) => {
      if (!this.store.addVisitor(slot.resource_id, day, this.hasher.visitor(visitor), id)) {
        throw new AppError('visitor_already_booked', `body.visitor_ids[${k}] already has a booking at this resource on ${day}`,
          [{ path: `body.visitor_ids[${k}]`, message: `already has a booking at this resource on ${day}` }]);
      }
    });
    return { ...this.json(this.store.booking(id)!), token };
  }

  /** The stored first answer again: a booking with its (derived) token, or the same error. */
  private replay(answer: StoredAnswer, body: BookingRequest): BookOutcome {
    if (answer.booking) return { replayed: true, booking: { ...answer.booking, token: this.hasher.token(answer.booking.id) } };
    return { replayed: true, error: this.errorOf(answer.error!, body) };
  }

  /** A stored error as an AppError; a full slot's alternatives are looked up now, so they are current. */
  private errorOf(e: NonNullable<StoredAnswer['error']>, body: BookingRequest): AppError {
    const extra = e.code === 'slot_full' ? { ...e.extra, alternatives: this.alternatives(body.slot_id, body.kind, body.party_size) } : e.extra;
    return new AppError(e.code, e.detail, e.errors, extra);
  }

  private owned(id: string, token: string): BookingRow {
    const row = this.store.booking(id);
    // The token is compared (in constant time) even for an unknown id, so timing tells the two cases no more apart than the answer.
    if (!tokenMatches(token, row?.token_sha256 ?? NO_TOKEN) || !row) throw new AppError('not_found', `no booking '${id}' for this token`);
    return row;
  }

  private json(row: BookingRow): BookingJson {
    return {
      id: row.id,
      status: row.status,
      slot: { id: row.slot_id, resource_id: row.resource_id, start: formatShanghai(new Date(row.start_ms)), end: formatShanghai(new Date(row.end_ms)) },
      resource: { id: row.resource_id, name: this.resourceInfo(row.resource_id)?.name ?? null },
      kind: row.kind,
      party_size: row.party_size,
      contact: { name: row.contact_name, phone: row.phone_masked },
      visitors: row.visitors,
      created_at: row.created_at,
      cancel_before: formatShanghai(new Date(row.start_ms - this.options.cancelCutoffHours * HOUR_MS)),
      cancelled_at: row.cancelled_at,
    };
  }

  /** A current resource's opening hours, or a 404. Looks again after a refresh when another process may have added it. */
  private resource(id: string): { hours: string | null } {
    let snap = this.holder.current;
    let i = indexOfId(snap, id);
    if (i < 0 && this.holder.refreshIfChanged()) {
      snap = this.holder.current;
      i = indexOfId(snap, id);
    }
    if (i < 0) throw new AppError('not_found', `no resource '${id}'`);
    const code = snap.hoursCode[i];
    return { hours: code >= 0 ? snap.hoursText[code] : null };
  }

  /** Name, address and point of a current resource, read once per snapshot (bookings repeat the same few). */
  private resourceInfo(id: string): ResourceInfo | undefined {
    const snap = this.holder.current;
    let cache = this.infoCache.get(snap);
    if (!cache) this.infoCache.set(snap, (cache = new Map()));
    if (cache.has(id)) return cache.get(id);
    const i = indexOfId(snap, id);
    const doc = i < 0 ? undefined : snap.reader.doc(snap.seqs[i]);
    let info: ResourceInfo | undefined;
    if (doc) {
      const { name, address } = JSON.parse(doc) as { name: string; address?: string | null };
      info = { name, address: address ?? null, point: [snap.lng[i], snap.lat[i]] };
    }
    if (cache.size >= INFO_CACHE_SIZE) cache.clear();
    cache.set(id, info);
    return info;
  }

  /** A write transaction; a busy database is a 503. */
  private write<T>(fn: () => T): T {
    try {
      return this.store.immediate(fn);
    } catch (e) {
      if (isBusy(e)) throw new AppError('busy', 'the database stayed locked too long; retry');
      throw e;
    }
  }
}

function range(s: SlotRow): string {
  return `${formatShanghai(new Date(s.start_ms))}/${formatShanghai(new Date(s.end_ms))}`;
}
