import { randomBytes } from 'node:crypto';
import { AppError, invalidField } from '../errors.js';
import { formatShanghai } from '../time.js';
import type { Logger } from '../log.js';
import type { Database, Tx } from '../store/sql.js';
import type { BookingStore } from '../store/bookings.js';
import type { SlotRow, SlotStore } from '../store/slots.js';
import { WaitlistStore, type EntryRow } from '../store/waitlist.js';
import type { Directory } from './directory.js';
import { checkKey, type Idempotency } from './idempotency.js';
import { maskPhone, newToken, openToken, sealToken, tokenDigest, tokenMatches, type Hasher } from './privacy.js';
import { bookingJson, cancelDeadline, type BookingJson } from './render.js';
import { checkRequest, realNameProblem, requestFingerprint, type BookingRequest } from './rules.js';
import { opensAt, type RuleBook, type VenueRules } from './policy.js';
import { openWith, sealKeyOf, sealTo, type DataKeys } from './sealed.js';
import type { Maker } from './create.js';
import { LimitStore } from '../store/limits.js';

/** A waitlist entry as the API answers it. */
export interface EntryJson {
  id: string;
  status: EntryRow['status'];
  /** While waiting: 1 for the next in line (among entries of the same kind). */
  position?: number;
  /** Why an entry ended without a booking: `cutoff`, `slot_closed`, or the rule that passed it over. */
  reason?: string;
  slot: { id: number; resource_id: string; start: string; end: string };
  kind: EntryRow['kind'];
  party_size: number;
  contact: { name: string; phone: string };
  /** Entries expire at the slot's cancellation cut-off. */
  expires_at: string;
  created_at: string;
  /** Once promoted: the booking, with its token and check-in code. */
  booking?: BookingJson;
  token?: string;
}

/** What a round of promotions did, for the metrics. */
export interface Promoted { promoted: number; skipped: Record<string, number>; expired: number }

/** Counts of the waitlist's outcomes (the HTTP layer turns them into Prometheus counters). */
export type WaitlistObserver = (event: 'promoted' | 'skipped' | 'expired', n: number, reason?: string) => void;

const HMAC_BYTES = 32;
const BATCH = 20;
const NO_TOKEN = Buffer.alloc(32);

/**
 * The waitlist (候补): a full slot takes entries in order; places that free up (a cancellation, a capacity
 * increase) promote the first entries that fit into bookings — through `Maker`, so under every rule —
 * inside the very transaction that freed them, so two processes never promote into the same place. An
 * entry a rule refuses is passed over (it ends, with the rule as its reason); entries expire at the slot's
 * cancellation cut-off.
 */
export class Waitlist {
  readonly store: WaitlistStore;
  private readonly limits: LimitStore;
  private readonly observers: WaitlistObserver[] = [];

  constructor(private readonly deps: {
    db: Database; slots: SlotStore; rows: BookingStore; rules: RuleBook; maker: Maker; keys: DataKeys; directory: Directory;
    hasher: Hasher; idempotency: Idempotency; clock: () => number; log?: Logger;
  }) {
    this.store = new WaitlistStore(deps.db);
    this.limits = new LimitStore(deps.db);
  }

  /** Calls `fn` with every promotion, skip and expiry counted in this process. */
  observe(fn: WaitlistObserver): void {
    this.observers.push(fn);
  }

  /** Reports what a committed round of promotions did. */
  report(p: Promoted): void {
    for (const fn of this.observers) {
      if (p.promoted) fn('promoted', p.promoted);
      if (p.expired) fn('expired', p.expired, 'cutoff');
      for (const [reason, n] of Object.entries(p.skipped)) fn('skipped', n, reason);
    }
  }

  /**
   * `POST /v1/waitlist`: joins a full slot's waitlist under an Idempotency-Key (the booking body; the same
   * checks). A slot with room for the party is a 409 telling to book instead.
   */
  async join(body: BookingRequest, key: string | undefined): Promise<{ replayed: boolean; entry?: EntryJson; error?: AppError }> {
    const { slots, rules, hasher, idempotency, clock } = this.deps;
    const now = clock();
    const namespaced = `waitlist:${checkKey(key)}`;
    const slot = await slots.slot(body.slot_id);
    const venue = slot ? await rules.of(slot.resource_id) : undefined;
    const checked = checkRequest(body, venue, now);
    const fingerprint = `waitlist\0${requestFingerprint(body)}`;
    const ran = await idempotency.run(namespaced, hasher.request(fingerprint), now, async (t) => {
      // The slot's row locked first, so "full" stays true until the entry commits: a cancellation giving
      // places back waits, then promotes this entry too (or committed before, and this is a 409 to book).
      await slots.lock(t, body.slot_id);
      const current = await slots.slot(body.slot_id, t);
      if (!current || !venue) throw new AppError('not_found', `no slot ${body.slot_id}`, { errors: [{ path: 'body.slot_id', message: 'does not exist' }] });
      this.assertJoinable(current, venue, body, now);
      const visitors = checked.visitors.map((v) => hasher.visitor(v));
      const until = await this.limits.bannedUntil(t, current.resource_id, [hasher.phone(checked.phone), ...visitors], now);
      if (until !== undefined) throw new AppError('banned', `no booking can be made at this resource until ${formatShanghai(new Date(until))} (missed bookings)`, { extra: { until: formatShanghai(new Date(until)) } });
      const id = `wl_${randomBytes(12).toString('base64url')}`;
      const token = newToken();
      const row = await this.store.insert(t, {
        id, slot_id: current.id, kind: body.kind, party_size: body.party_size, token_sha256: tokenDigest(token), seal_key: sealKeyOf(token),
        contact_name: body.contact.name.trim(), phone_hmac: hasher.phone(checked.phone), phone_masked: maskPhone(checked.phone),
        phone_box: this.deps.keys.seal(checked.phone, id), phone_key: this.deps.keys.currentId, visitors: Buffer.concat(visitors),
        id_count: checked.idCount, org_code: checked.orgCode, expires_ms: cancelDeadline(current.start_ms, venue.cancelCutoffHours),
        created_at: formatShanghai(new Date(now)),
      });
      return { value: await this.json(row, current, t), token };
    }, (token) => sealToken(token, namespaced, fingerprint));
    if (ran.replayed) {
      const { booking, error } = ran.answer;
      if (error) return { replayed: true, error: new AppError(error.code, error.detail, { errors: error.errors, extra: error.extra }) };
      const token = ran.tokenBox ? openToken(ran.tokenBox, namespaced, fingerprint) : undefined;
      return { replayed: true, entry: { ...booking!, ...(token ? { token } : {}) } };
    }
    const { booking, error } = ran.answer;
    if (error) return { replayed: false, error: new AppError(error.code, error.detail, { errors: error.errors, extra: error.extra }) };
    return { replayed: false, entry: { ...booking!, token: ran.token } };
  }

  /** `GET /v1/waitlist/{id}`: the entry, for the holder of its token (a 404 for a wrong token or id alike). */
  async get(id: string, token: string): Promise<EntryJson> {
    const row = await this.owned(id, token);
    const json = await this.json(row, (await this.deps.slots.slot(row.slot_id))!);
    if (row.status !== 'promoted' || !row.booking_id) return json;
    const booking = (await this.deps.rows.booking(row.booking_id))!;
    const rules = await this.deps.rules.of(booking.resource_id);
    const bookingToken = row.booking_box ? openWith(token, row.booking_box) : undefined;
    const name = (await this.deps.directory.info(booking.resource_id))?.name ?? null;
    return { ...json, booking: { ...bookingJson(booking, name, rules.cancelCutoffHours, this.deps.clock()), ...(bookingToken ? { token: bookingToken } : {}) } };
  }

  /** `DELETE /v1/waitlist/{id}`: leaves the waitlist; leaving again (or after the end) answers the entry as it is. */
  async leave(id: string, token: string): Promise<EntryJson> {
    await this.owned(id, token);
    await this.deps.db.tx((t) => this.store.end(t, id, 'left', null, formatShanghai(new Date(this.deps.clock()))));
    return this.get(id, token);
  }

  /**
   * Promotes waiting entries of a slot into the places it has free, in order of joining, inside the caller's
   * transaction (the one that freed the places). Within a kind the order is strict: an entry whose party
   * does not fit stops that kind's round, so nobody behind it jumps ahead. An entry a rule refuses (its
   * visitor now booked that day, a ban, the contact's cap, real name …) ends with that rule as its reason.
   */
  async promote(t: Tx, slotId: number, nowMs: number): Promise<Promoted> {
    const out: Promoted = { promoted: 0, skipped: {}, expired: 0 };
    let slot = await this.deps.slots.slot(slotId, t);
    if (!slot || slot.closed_at !== null || slot.start_ms <= nowMs) return out;
    const rules = this.deps.rules.current(slot.resource_id);
    const at = formatShanghai(new Date(nowMs));
    const blocked = { individual: false, group: false };
    for (let after = 0; !(blocked.individual && blocked.group);) {
      const entries = await this.store.waiting(t, slotId, after, BATCH);
      for (const e of entries) {
        after = e.seq;
        if (blocked[e.kind]) continue;
        if (e.expires_ms <= nowMs) {
          if (await this.store.end(t, e.id, 'expired', 'cutoff', at)) out.expired++;
          continue;
        }
        const free = e.kind === 'group' ? slot.capacity_group - slot.taken_group : slot.capacity_individual - slot.taken_individual;
        if (free < e.party_size) {
          blocked[e.kind] = true;
          continue;
        }
        const why = await this.tryPromote(t, slot, e, rules, nowMs, at);
        if (why === 'slot_full') blocked[e.kind] = true;
        else if (why === null) out.promoted++;
        else if (await this.store.end(t, e.id, 'expired', why, at)) out.skipped[why] = (out.skipped[why] ?? 0) + 1;
        slot = (await this.deps.slots.slot(slotId, t))!;
      }
      if (entries.length < BATCH) break;
    }
    return out;
  }

  /** Ends the waiting entries of a slot being closed; returns how many. */
  endAll(t: Tx, slotId: number): Promise<number> {
    return this.store.endAll(t, slotId, 'slot_closed', formatShanghai(new Date(this.deps.clock())));
  }

  /** Expires every entry past its cut-off (any process may run it; each entry ends once). */
  async expire(nowMs: number): Promise<number> {
    const n = await this.deps.db.tx((t) => this.store.expire(t, nowMs, formatShanghai(new Date(nowMs))));
    if (n) this.report({ promoted: 0, skipped: {}, expired: n });
    return n;
  }

  /** One promotion in a savepoint: null when made, else the code of the rule that refused it. */
  private async tryPromote(t: Tx, slot: SlotRow, e: EntryRow, rules: VenueRules, nowMs: number, at: string): Promise<string | null> {
    const visitors: Buffer[] = [];
    for (let k = 0; k < e.visitors.length; k += HMAC_BYTES) visitors.push(e.visitors.subarray(k, k + HMAC_BYTES));
    if (realNameProblem(rules, { kind: e.kind, partySize: e.party_size, idCount: e.id_count, orgCode: e.org_code, leader: visitors.length > e.id_count })) return 'real_name';
    const phone = this.deps.keys.open(e.phone_box, e.id);
    if (phone === undefined) return 'data_key';
    try {
      await t.savepoint(async (inner) => {
        const { row, token } = await this.deps.maker.make(inner, slot, {
          kind: e.kind, partySize: e.party_size, contactName: e.contact_name, phone, phoneHmac: e.phone_hmac, phoneMasked: e.phone_masked,
          visitors, orgCode: e.org_code,
        }, rules, nowMs);
        // Another process may have promoted this entry meanwhile (a server database under READ COMMITTED): then undo.
        if (!(await this.store.promote(inner, e.id, row.id, sealTo(e.seal_key, token), at))) throw new AppError('conflict', 'promoted elsewhere');
      });
      this.deps.log?.info({ entry_id: e.id, slot_id: slot.id }, 'waitlist entry promoted');
      return null;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return err.code;
    }
  }

  private assertJoinable(slot: SlotRow, rules: VenueRules, body: BookingRequest, now: number): void {
    if (slot.closed_at !== null || slot.start_ms <= now) throw new AppError('slot_closed', `slot ${slot.id} is closed for booking`, { errors: [{ path: 'body.slot_id', message: 'is closed' }] });
    const opens = opensAt(rules, slot.start_ms);
    if (now < opens) throw new AppError('not_yet_open', `slot ${slot.id} opens for booking at ${formatShanghai(new Date(opens))}`, { extra: { opens_at: formatShanghai(new Date(opens)) } });
    const cutoff = cancelDeadline(slot.start_ms, rules.cancelCutoffHours);
    if (now >= cutoff) throw new AppError('waitlist_closed', `the waitlist of slot ${slot.id} closed at ${formatShanghai(new Date(cutoff))}, its cancellation cut-off`);
    if (body.kind === 'group') {
      const min = Math.max(slot.group_min, rules.group.min ?? 0);
      const max = Math.min(slot.group_max, rules.group.max ?? Infinity);
      if (body.party_size < min || body.party_size > max) throw invalidField('body.party_size', `a group in this slot must be ${min}–${max} people`);
    }
    const free = body.kind === 'group' ? slot.capacity_group - slot.taken_group : slot.capacity_individual - slot.taken_individual;
    if (free >= body.party_size) {
      throw new AppError('slot_has_room', `slot ${slot.id} has ${free} ${body.kind} places left: book it (POST /v1/bookings) instead`, { extra: { remaining: free } });
    }
  }

  private async owned(id: string, token: string): Promise<EntryRow> {
    const row = await this.store.entry(id);
    if (!tokenMatches(token, row?.token_sha256 ?? NO_TOKEN) || !row) throw new AppError('not_found', `no waitlist entry '${id}' for this token`);
    return row;
  }

  private async json(row: EntryRow, slot: SlotRow, t?: Tx): Promise<EntryJson> {
    const now = this.deps.clock();
    const lapsed = row.status === 'waiting' && row.expires_ms <= now;
    const status = lapsed ? 'expired' : row.status;
    const reason = lapsed ? 'cutoff' : row.reason;
    return {
      id: row.id, status,
      ...(status === 'waiting' ? { position: await this.store.position(row.slot_id, row.kind, row.seq, t) } : {}),
      ...(reason ? { reason } : {}),
      slot: { id: slot.id, resource_id: slot.resource_id, start: formatShanghai(new Date(slot.start_ms)), end: formatShanghai(new Date(slot.end_ms)) },
      kind: row.kind, party_size: row.party_size, contact: { name: row.contact_name, phone: row.phone_masked },
      expires_at: formatShanghai(new Date(row.expires_ms)), created_at: row.created_at,
    };
  }
}
