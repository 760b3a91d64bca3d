import { AppError, ERRORS, invalidField } from '../errors.js';
import { formatShanghai } from '../time.js';
import type { Logger } from '../log.js';
import type { SnapshotHolder } from '../engine/holder.js';
import type { Database, Tx } from '../store/sql.js';
import { StoreBusy } from '../store/sql.js';
import { BookingStore, type BookingRow } from '../store/bookings.js';
import { SlotStore, type SlotRow } from '../store/slots.js';
import { Availability } from './availability.js';
import { alternatives } from './alternatives.js';
import { Directory } from './directory.js';
import { checkKey, Idempotency, inProgress, type StoredAnswer } from './idempotency.js';
import { Hasher, maskPhone, newBookingId, newToken, openToken, sealToken, tokenDigest, tokenMatches } from './privacy.js';
import { asOf, bookingJson, cancelDeadline, type BookingJson } from './render.js';
import { checkRequest, requestFingerprint, type BookingRequest, type CheckedRequest } from './rules.js';
import { parseRange, parseSlots, shanghaiDay, slotJson, type SlotInput, type SlotJson } from './slots.js';
import { materialise, type Materialised, type ScheduleInput } from './schedule.js';
import { icsCalendar } from './ics.js';
import type { Audit } from '../access/audit.js';
import type { Principal } from '../access/keys.js';
import { assertSeats } from '../access/scope.js';

export type { BookingRequest } from './rules.js';
export type { BookingJson } from './render.js';

/** What `book` did: a booking, or a known error; `replayed` when the Idempotency-Key had answered before. */
export type BookOutcome = { replayed: boolean } & ({ booking: BookingJson; error?: undefined } | { error: AppError; booking?: undefined });

/** What a schedule did: the slots created, how many were there already, and what the schedule reports. */
export type ScheduleOutcome = { created: SlotJson[]; unchanged: number } & Omit<Materialised, 'slots'>;

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

/** Compared against when a booking id is unknown. */
const NO_TOKEN = Buffer.alloc(32);

/**
 * The booking module: slots, schedules, bookings with Idempotency-Keys, cancellation, and the availability
 * index that search uses. The only module that writes capacity. Every rule that must hold across processes
 * (capacity, one booking per visitor per resource per day, one answer per key) is held by the store's
 * statements and constraints inside write transactions, not by this process's memory.
 */
export class Bookings {
  readonly slots: SlotStore;
  readonly rows: BookingStore;
  readonly availability: Availability;
  readonly idempotency: Idempotency;
  readonly directory: Directory;
  private readonly hasher: Hasher;
  private readonly clock: () => number;

  constructor(private readonly db: Database, holder: SnapshotHolder, private readonly audit: Audit, private readonly options: BookingOptions) {
    this.slots = new SlotStore(db);
    this.rows = new BookingStore(db);
    this.clock = options.clock ?? Date.now;
    this.availability = new Availability(this.slots, this.clock);
    this.idempotency = new Idempotency(db, options.log);
    this.directory = new Directory(holder);
    this.hasher = new Hasher(options.hashKey);
  }

  /**
   * Creates slots of a resource (all or none), for a principal who runs its seats. Overlapping each other or
   * a stored slot is a 409 naming the slot.
   */
  async createSlots(resourceId: string, inputs: readonly SlotInput[], by: Principal): Promise<SlotJson[]> {
    assertSeats(by, await this.directory.resource(resourceId));
    const slots = parseSlots(resourceId, inputs, this.clock());
    return this.db.tx(async (t) => {
      for (const [k, s] of slots.entries()) {
        const [clash] = await this.slots.overlapping(t, resourceId, s.startMs, s.endMs);
        if (clash) {
          throw new AppError('slot_overlap', `body.slots[${k}] overlaps slot ${clash.id} (${range(clash)})`,
            { errors: [{ path: `body.slots[${k}]`, message: `overlaps slot ${clash.id} (${range(clash)})` }] });
        }
      }
      const made = (await this.slots.insert(t, slots, formatShanghai(new Date(this.clock())))).map(slotJson);
      await this.audit.record(t, by, 'slots.create', resourceId, { slots: made.length });
      return made;
    });
  }

  /**
   * Materialises a weekly schedule into slots (see `materialise`). A slot identical (same start and end) to a stored one is
   * left as it is, so re-running a schedule each week only adds the new days; one that overlaps a stored
   * slot otherwise is a 409 and nothing is written.
   */
  async schedule(resourceId: string, input: ScheduleInput, by: Principal): Promise<ScheduleOutcome> {
    const resource = await this.directory.resource(resourceId);
    assertSeats(by, resource);
    const { slots, ...report } = materialise(resourceId, input, resource.hours, resource.calendar, this.clock());
    const written = await this.db.tx(async (t) => {
      const fresh = [];
      let unchanged = 0;
      for (const s of slots) {
        const clashes = await this.slots.overlapping(t, resourceId, s.startMs, s.endMs, 2);
        if (clashes.length === 1 && clashes[0].start_ms === s.startMs && clashes[0].end_ms === s.endMs) unchanged++;
        else if (clashes.length) {
          const when = `${formatShanghai(new Date(s.startMs))}/${formatShanghai(new Date(s.endMs))}`;
          throw new AppError('slot_overlap', `the schedule's slot ${when} overlaps slot ${clashes[0].id} (${range(clashes[0])})`,
            { errors: [{ path: 'body.hours', message: `gives ${when}, which overlaps slot ${clashes[0].id}` }] });
        } else fresh.push(s);
      }
      const created = (await this.slots.insert(t, fresh, formatShanghai(new Date(this.clock())))).map(slotJson);
      await this.audit.record(t, by, 'slots.schedule', resourceId, { created: created.length, unchanged });
      return { created, unchanged };
    });
    return { ...written, ...report };
  }

  /** Slots of a resource starting in [from, to) (default: the coming 7 days). */
  async listSlots(resourceId: string, from?: string, to?: string): Promise<SlotJson[]> {
    await this.directory.resource(resourceId);
    const { fromMs, toMs } = parseRange(from, to, this.clock());
    return (await this.slots.slotsOf(resourceId, fromMs, toMs)).map(slotJson);
  }

  /**
   * Books places under an Idempotency-Key (see `Idempotency`). The booking itself — capacity taken in one
   * UPDATE, the visitors' days recorded, the answer stored under the key — is one transaction after the
   * claim's. Malformed input is a 400 and is not stored under the key. `afterClaim` is a test hook.
   */
  async book(body: BookingRequest, key: string | undefined, hooks: { afterClaim?: () => Promise<void> | void } = {}): Promise<BookOutcome> {
    const now = this.clock();
    const idempotencyKey = checkKey(key);
    const checked = checkRequest(body);
    const fingerprint = requestFingerprint(body);
    const claim = await this.busyAsRetry(() => this.idempotency.claim(idempotencyKey, this.hasher.request(fingerprint), now));
    if (claim.answered) return this.replay(claim.answered, claim.tokenBox, idempotencyKey, fingerprint, body);

    const lease = claim.lease;
    let token = '';
    let answer: StoredAnswer;
    try {
      await hooks.afterClaim?.();
      // The resource's name is looked up before the transaction, which must not wait on other reads.
      const slot = await this.slots.slot(body.slot_id);
      const name = slot ? (await this.directory.info(slot.resource_id))?.name ?? null : null;
      answer = await this.db.tx(async (t) => {
        let result: StoredAnswer;
        try {
          const booking = await t.savepoint((inner) => this.take(inner, checked, now, name));
          token = booking.token;
          result = { booking: booking.json };
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          result = { error: { code: e.code, detail: e.message, errors: e.errors, extra: e.extra } };
        }
        // Stored together with the booking, and only by the claim's holder: otherwise neither is.
        const status = result.booking ? 201 : ERRORS[result.error!.code].status;
        const box = result.booking ? sealToken(token, idempotencyKey, fingerprint) : null;
        if (!(await this.idempotency.store.finish(t, idempotencyKey, lease, status, JSON.stringify(result), box))) throw inProgress();
        return result;
      });
    } catch (e) {
      this.idempotency.releaseSoon(idempotencyKey, lease); // nothing was booked: let a retry run
      if (e instanceof StoreBusy) throw busy(e);
      throw e;
    }
    if (answer.booking) {
      this.options.log?.info({ booking_id: answer.booking.id, slot_id: answer.booking.slot.id, kind: answer.booking.kind,
        party_size: answer.booking.party_size }, 'booking confirmed');
      return { replayed: false, booking: { ...answer.booking, token } };
    }
    return { replayed: false, error: await this.errorOf(answer.error!, body) };
  }

  /** A booking, for the holder of its token; a 404 for an unknown id and for a wrong token alike. */
  async get(id: string, token: string): Promise<BookingJson> {
    return this.json(await this.owned(id, token));
  }

  /**
   * Cancels a booking and gives its places (and its visitors' days) back. Cancelling again answers the
   * cancelled booking; after the cut-off (slot start minus `cancelCutoffHours`) it is a 409.
   */
  async cancel(id: string, token: string): Promise<BookingJson> {
    const row = await this.owned(id, token);
    if (row.status === 'cancelled') return this.json(row);
    const now = this.clock();
    const cutoff = cancelDeadline(row.start_ms, this.options.cancelCutoffHours);
    if (now >= cutoff) {
      throw new AppError('cancellation_closed', `bookings of this slot could be cancelled until ${formatShanghai(new Date(cutoff))}`,
        { extra: { cancel_before: formatShanghai(new Date(cutoff)) } });
    }
    await this.db.tx(async (t) => {
      // Only the transaction that flips the status gives places back, whichever process gets there first.
      if (!(await this.rows.cancel(t, id, formatShanghai(new Date(now))))) return;
      await this.slots.give(t, row.slot_id, row.kind, row.party_size);
      await this.rows.releaseVisitors(t, id);
    });
    this.options.log?.info({ booking_id: id, slot_id: row.slot_id }, 'booking cancelled');
    return this.json((await this.rows.booking(id))!);
  }

  /** The booking as an iCalendar document (text/calendar). */
  async ics(id: string, token: string): Promise<string> {
    const row = await this.owned(id, token);
    const info = await this.directory.info(row.resource_id);
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

  /** Whether a bearer token belongs to some booking (for rate limits). */
  async isToken(token: string): Promise<boolean> {
    return this.rows.tokenExists(tokenDigest(token));
  }

  /** The booking transaction's work (inside a savepoint, so a thrown AppError undoes all of it). */
  private async take(t: Tx, { body, phone, visitors }: CheckedRequest, now: number, name: string | null): Promise<{ json: BookingJson; token: string }> {
    const slot = await this.slots.slot(body.slot_id, t);
    if (!slot) throw new AppError('not_found', `no slot ${body.slot_id}`, { errors: [{ path: 'body.slot_id', message: 'does not exist' }] });
    if (slot.start_ms <= now) {
      throw new AppError('slot_closed', `slot ${slot.id} started at ${formatShanghai(new Date(slot.start_ms))}; choose a later one`,
        { errors: [{ path: 'body.slot_id', message: 'has started' }] });
    }
    if (body.kind === 'group' && slot.capacity_group > 0 && (body.party_size < slot.group_min || body.party_size > slot.group_max)) {
      throw invalidField('body.party_size', `a group in this slot must be ${slot.group_min}–${slot.group_max} people`);
    }
    if (!(await this.slots.take(t, slot.id, body.kind, body.party_size))) {
      const left = body.kind === 'group' ? slot.capacity_group - slot.taken_group : slot.capacity_individual - slot.taken_individual;
      throw new AppError('slot_full', `slot ${slot.id} has ${left} ${body.kind} places left; ${body.party_size} asked`, {
        errors: [{ path: 'body.slot_id', message: 'has not enough places left' }],
        extra: { remaining: { individual: slot.capacity_individual - slot.taken_individual, group: slot.capacity_group - slot.taken_group } },
      });
    }
    const id = newBookingId();
    const token = newToken();
    await this.rows.insert(t, {
      id, slotId: slot.id, kind: body.kind, partySize: body.party_size, tokenSha256: tokenDigest(token),
      contactName: body.contact.name.trim(), phoneHmac: this.hasher.phone(phone), phoneMasked: maskPhone(phone),
      visitors: visitors.length, createdAt: formatShanghai(new Date(now)),
    });
    const day = shanghaiDay(slot.start_ms);
    for (const visitor of visitors) {
      if (!(await this.rows.addVisitor(t, slot.resource_id, day, this.hasher.visitor(visitor), id))) {
        // Which visitor, and which booking, is not said: that would tell anyone who knows a child's ID number
        // where the child is booked.
        throw new AppError('visitor_already_booked', `one of the visitors cannot be booked at this resource on ${day}`,
          { errors: [{ path: 'body.visitor_ids', message: `one of them cannot be booked at this resource on ${day}` }] });
      }
    }
    return { json: bookingJson((await this.rows.booking(id, t))!, name, this.options.cancelCutoffHours, now), token };
  }

  /**
   * The stored first answer again: a booking with its token (opened for this very request), or the same
   * error. `cancellable` says what holds now (the cut-off may have passed since; answers stored before it
   * existed lack it).
   */
  private async replay(answer: StoredAnswer, box: Buffer | null, key: string, fingerprint: string, body: BookingRequest): Promise<BookOutcome> {
    if (answer.booking) {
      const token = box ? openToken(box, key, fingerprint) : undefined;
      const booking = asOf(answer.booking, this.clock());
      return { replayed: true, booking: token ? { ...booking, token } : booking };
    }
    return { replayed: true, error: await this.errorOf(answer.error!, body) };
  }

  /** A stored error as an AppError; a full slot's alternatives are looked up now, so they are current. */
  private async errorOf(e: NonNullable<StoredAnswer['error']>, body: BookingRequest): Promise<AppError> {
    const extra = e.code === 'slot_full'
      ? { ...e.extra, alternatives: await alternatives(
        { slots: this.slots, availability: this.availability, directory: this.directory, nowMs: this.clock() }, body.slot_id, body.kind, body.party_size) }
      : e.extra;
    return new AppError(e.code, e.detail, { errors: e.errors, extra });
  }

  private async owned(id: string, token: string): Promise<BookingRow> {
    const row = await this.rows.booking(id);
    // The token is compared (in constant time) even for an unknown id, so timing tells the two cases no more apart than the answer.
    if (!tokenMatches(token, row?.token_sha256 ?? NO_TOKEN) || !row) throw new AppError('not_found', `no booking '${id}' for this token`);
    return row;
  }

  private async json(row: BookingRow): Promise<BookingJson> {
    return bookingJson(row, (await this.directory.info(row.resource_id))?.name ?? null, this.options.cancelCutoffHours, this.clock());
  }

  /** A busy database during the claim is a 503 whose detail says to retry with the same key. */
  private async busyAsRetry<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw e instanceof StoreBusy ? busy(e) : e;
    }
  }
}

function busy(cause: StoreBusy): AppError {
  return new AppError('busy', 'the database stayed locked too long; retry with the same Idempotency-Key', { cause });
}

function range(s: SlotRow): string {
  return `${formatShanghai(new Date(s.start_ms))}/${formatShanghai(new Date(s.end_ms))}`;
}
