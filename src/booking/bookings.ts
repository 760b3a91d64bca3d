import { AppError } from '../errors.js';
import { formatShanghai } from '../time.js';
import type { Logger } from '../log.js';
import type { SnapshotHolder } from '../engine/holder.js';
import type { Database } from '../store/sql.js';
import { BookingStore, type BookingRow } from '../store/bookings.js';
import { SlotStore } from '../store/slots.js';
import { LimitStore } from '../store/limits.js';
import { Availability } from './availability.js';
import { alternatives } from './alternatives.js';
import { Directory } from './directory.js';
import { checkKey, Idempotency, type StoredAnswer } from './idempotency.js';
import { Hasher, maskPhone, openToken, sealToken, tokenDigest, tokenMatches } from './privacy.js';
import { asOf, bookingJson, cancelDeadline, showCode, type BookingJson } from './render.js';
import { checkRequest, requestFingerprint, type BookingRequest, type CheckedRequest } from './rules.js';
import type { SlotInput, SlotJson } from './slots.js';
import type { ScheduleInput } from './schedule.js';
import type { ScheduleOutcome } from './slot-admin.js';
import { icsCalendar } from './ics.js';
import { RuleBook } from './policy.js';
import { DataKeys } from './sealed.js';
import { Maker, type Applicant } from './create.js';
import { SlotAdmin } from './slot-admin.js';
import { Waitlist } from './waitlist.js';
import { VenueDesk } from './venue.js';
import { NoShows } from './noshows.js';
import type { Audit } from '../access/audit.js';
import type { Principal } from '../access/keys.js';

export type { BookingRequest } from './rules.js';
export type { ScheduleOutcome } from './slot-admin.js';
export type { BookingJson } from './render.js';

/** What `book` did: a booking, or a known error; `replayed` when the Idempotency-Key had answered before. */
export type BookOutcome = { replayed: boolean } & ({ booking: BookingJson; error?: undefined } | { error: AppError; booking?: undefined });

/** Options of `Bookings`. */
export interface BookingOptions {
  /** See `Config.hashKey`. */
  hashKey: string;
  /** See `Config.dataKey`; a random key when absent (tests that never read a phone back). */
  dataKey?: Buffer;
  /** See `Config.dataKeysOld`: keys that still open older boxes. */
  dataKeysOld?: readonly Buffer[];
  /** See `Config.cancelCutoffHours`: the cut-off of resources whose rules name none. */
  cancelCutoffHours: number;
  /** Epoch ms now; tests move it. */
  clock?: () => number;
  log?: Logger;
}

/** Compared against when a booking id is unknown. */
const NO_TOKEN = Buffer.alloc(32);

/**
 * The booking module: slots, bookings with Idempotency-Keys, cancellation, the venue's side (rules, slots,
 * roster, check-in, no-shows) and the waitlist, and the availability index that search uses. The only
 * module that writes capacity. Every rule that must hold across processes (capacity, one booking per
 * visitor per resource per day, per-day caps, one answer per key, one promotion per seat) is held by the
 * store's statements and constraints inside write transactions, not by this process's memory.
 */
export class Bookings {
  readonly slots: SlotStore;
  readonly rows: BookingStore;
  readonly limits: LimitStore;
  readonly availability: Availability;
  readonly idempotency: Idempotency;
  readonly directory: Directory;
  readonly rules: RuleBook;
  readonly keys: DataKeys;
  readonly maker: Maker;
  readonly admin: SlotAdmin;
  readonly waitlist: Waitlist;
  readonly venue: VenueDesk;
  readonly noShows: NoShows;
  readonly hasher: Hasher;
  private readonly clock: () => number;

  constructor(private readonly db: Database, holder: SnapshotHolder, audit: Audit, private readonly options: BookingOptions) {
    this.clock = options.clock ?? Date.now;
    this.slots = new SlotStore(db);
    this.rows = new BookingStore(db);
    this.limits = new LimitStore(db);
    this.directory = new Directory(holder);
    this.rules = new RuleBook(db, { directory: this.directory, audit, cancelCutoffHours: options.cancelCutoffHours, clock: this.clock });
    this.availability = new Availability(this.slots, this.clock, this.rules);
    this.idempotency = new Idempotency(db, options.log);
    this.hasher = new Hasher(options.hashKey);
    this.keys = new DataKeys(options.dataKey?.length === 32 ? options.dataKey : Buffer.from(tokenDigest(options.hashKey)), options.dataKeysOld);
    this.maker = new Maker({ slots: this.slots, rows: this.rows, limits: this.limits, keys: this.keys });
    const parts = { db, slots: this.slots, rows: this.rows, rules: this.rules, maker: this.maker, keys: this.keys, directory: this.directory,
      audit, hasher: this.hasher, idempotency: this.idempotency, clock: this.clock, log: options.log };
    this.waitlist = new Waitlist(parts);
    this.admin = new SlotAdmin({ ...parts, waitlist: this.waitlist, json: (row) => this.json(row) });
    this.venue = new VenueDesk({ ...parts, json: (row) => this.json(row) });
    this.noShows = new NoShows({ ...parts, limits: this.limits, waitlist: this.waitlist });
  }

  /** Creates slots of a resource (all or none), for a principal who runs its seats (see `SlotAdmin`). */
  createSlots(resourceId: string, inputs: readonly SlotInput[], by: Principal): Promise<SlotJson[]> {
    return this.admin.create(resourceId, inputs, by);
  }

  /** Materialises a weekly schedule into slots (see `SlotAdmin`). */
  schedule(resourceId: string, input: ScheduleInput, by: Principal): Promise<ScheduleOutcome> {
    return this.admin.schedule(resourceId, input, by);
  }

  /** Slots of a resource starting in [from, to) (default: the coming 7 days). */
  listSlots(resourceId: string, from?: string, to?: string): Promise<SlotJson[]> {
    return this.admin.list(resourceId, from, to);
  }

  /**
   * Books places under an Idempotency-Key (see `Idempotency.run`): the booking itself — every rule of the
   * venue (`Maker`), the answer stored under the key — is one transaction after the claim's. Malformed
   * input (a 400, the venue's real-name rule included) is not stored under the key. `afterClaim` is a test hook.
   */
  async book(body: BookingRequest, key: string | undefined, hooks: { afterClaim?: () => Promise<void> | void } = {}): Promise<BookOutcome> {
    const now = this.clock();
    const idempotencyKey = checkKey(key);
    // The slot, its rules and its resource's name are read before the transaction, which must not wait on other reads.
    const slot = await this.slots.slot(body.slot_id);
    const rules = slot ? await this.rules.of(slot.resource_id) : undefined;
    const checked = checkRequest(body, rules, now);
    const fingerprint = requestFingerprint(body);
    const name = slot ? (await this.directory.info(slot.resource_id))?.name ?? null : null;
    const ran = await this.idempotency.run(idempotencyKey, this.hasher.request(fingerprint), now, async (t) => {
      const current = await this.slots.slot(body.slot_id, t);
      if (!current || !rules) throw new AppError('not_found', `no slot ${body.slot_id}`, { errors: [{ path: 'body.slot_id', message: 'does not exist' }] });
      const { row, token } = await this.maker.make(t, current, this.applicant(checked), rules, now);
      return { value: bookingJson(row, name, rules.cancelCutoffHours, now), token };
    }, (token) => sealToken(token, idempotencyKey, fingerprint), hooks.afterClaim);
    if (ran.replayed) return this.replay(ran.answer, ran.tokenBox, idempotencyKey, fingerprint, body);
    if (ran.answer.booking) {
      const b = ran.answer.booking;
      this.options.log?.info({ booking_id: b.id, slot_id: b.slot.id, kind: b.kind, party_size: b.party_size }, 'booking confirmed');
      return { replayed: false, booking: { ...b, token: ran.token } };
    }
    return { replayed: false, error: await this.errorOf(ran.answer.error!, body) };
  }

  /** A booking, for the holder of its token; a 404 for an unknown id and for a wrong token alike. */
  async get(id: string, token: string): Promise<BookingJson> {
    return this.json(await this.owned(id, token));
  }

  /**
   * Cancels a booking and gives its places (and its visitors' days, its counters) back; the waitlist is
   * promoted into them in the same transaction. Cancelling again answers the cancelled booking; after the
   * cut-off (slot start minus the venue's `cancel_cutoff_hours`) it is a 409.
   */
  async cancel(id: string, token: string): Promise<BookingJson> {
    const row = await this.owned(id, token);
    if (row.status !== 'confirmed') return this.json(row);
    const now = this.clock();
    const rules = await this.rules.of(row.resource_id);
    const cutoff = cancelDeadline(row.start_ms, rules.cancelCutoffHours);
    if (now >= cutoff) {
      throw new AppError('cancellation_closed', `bookings of this slot could be cancelled until ${formatShanghai(new Date(cutoff))}`,
        { extra: { cancel_before: formatShanghai(new Date(cutoff)) } });
    }
    const promoted = await this.db.tx(async (t) => {
      // Only the transaction that flips the status gives places back, whichever process gets there first.
      if (!(await this.rows.cancel(t, id, formatShanghai(new Date(now))))) return undefined;
      await this.maker.unmake(t, row, { seats: true });
      return this.waitlist.promote(t, row.slot_id, now);
    });
    if (promoted) this.waitlist.report(promoted);
    this.options.log?.info({ booking_id: id, slot_id: row.slot_id }, 'booking cancelled');
    return this.json((await this.rows.booking(id))!);
  }

  /** The booking as an iCalendar document (text/calendar), with its check-in code. */
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
      description: `${what}. 预约号 booking ${row.id}. 核销码 check-in code ${showCode(row.checkin_code)}. ${formatShanghai(new Date(row.start_ms))}`,
      location: info?.address ?? info?.name ?? undefined,
      point: info ? info.point : undefined,
      cancelled: row.status === 'cancelled' || row.status === 'cancelled_by_venue',
    });
  }

  /** The check-in code of a booking, for the holder of its token (the QR code encodes it). */
  async checkinCode(id: string, token: string): Promise<string> {
    return showCode((await this.owned(id, token)).checkin_code);
  }

  /** Whether a bearer token belongs to some booking (for rate limits). */
  async isToken(token: string): Promise<boolean> {
    return this.rows.tokenExists(tokenDigest(token));
  }

  /** Stops the background jobs. */
  stop(): void {
    this.noShows.stop();
  }

  /** A checked request as the applicant `Maker` books: numbers hashed, the phone kept for its box. */
  applicant({ body, phone, visitors, orgCode }: CheckedRequest): Applicant {
    return {
      kind: body.kind, partySize: body.party_size, contactName: body.contact.name.trim(), phone, phoneHmac: this.hasher.phone(phone),
      phoneMasked: maskPhone(phone), visitors: visitors.map((v) => this.hasher.visitor(v)), orgCode,
    };
  }

  /** The stored first answer again: a booking with its token (opened for this very request), or the same error. */
  private async replay(answer: StoredAnswer, box: Buffer | null, key: string, fingerprint: string, body: BookingRequest): Promise<BookOutcome> {
    if (answer.booking) {
      const token = box ? openToken(box, key, fingerprint) : undefined;
      // `cancellable` says what holds now: the cut-off may have passed since the first answer.
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

  /** A stored booking as JSON, with its resource's name and cut-off. */
  async json(row: BookingRow): Promise<BookingJson> {
    const rules = await this.rules.of(row.resource_id);
    return bookingJson(row, (await this.directory.info(row.resource_id))?.name ?? null, rules.cancelCutoffHours, this.clock());
  }
}
