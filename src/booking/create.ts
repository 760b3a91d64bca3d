import { AppError, invalidField } from '../errors.js';
import { formatShanghai } from '../time.js';
import type { Tx } from '../store/sql.js';
import { ConstraintViolation } from '../store/sql.js';
import type { Kind } from '../engine/params.js';
import type { BookingRow, BookingStore } from '../store/bookings.js';
import type { SlotRow, SlotStore } from '../store/slots.js';
import { GROUP_BATCHES, type LimitStore } from '../store/limits.js';
import { newBookingId, newToken, tokenDigest } from './privacy.js';
import { newCheckinCode } from './render.js';
import { opensAt, type VenueRules } from './policy.js';
import type { DataKeys } from './sealed.js';
import { shanghaiDay } from './slots.js';

/** Who a booking is for, as the checks left it: numbers hashed, the phone also in clear for its box. */
export interface Applicant {
  kind: Kind;
  partySize: number;
  contactName: string;
  phone: string;
  phoneHmac: Buffer;
  phoneMasked: string;
  /** HMACs of the visitors' ID numbers (a group's leader included). */
  visitors: Buffer[];
  orgCode: string | null;
}

/** Bits of `bookings.counted`. */
const CONTACT = 1;
const BATCH = 2;

/**
 * The one path by which a booking is made — booked directly or promoted from the waitlist — so that every
 * rule holds for both: the slot open and released, the group's size, bans, seats (one conditional UPDATE),
 * the contact's daily cap and the day's group batches (counter rows taken by conditional UPDATEs), one
 * booking per visitor per day (a primary key). Runs inside the caller's savepoint: a thrown AppError
 * undoes all of it.
 */
export class Maker {
  constructor(private readonly deps: { slots: SlotStore; rows: BookingStore; limits: LimitStore; keys: DataKeys }) {}

  async make(t: Tx, slot: SlotRow, a: Applicant, rules: VenueRules, nowMs: number): Promise<{ row: BookingRow; token: string }> {
    const { slots, rows, limits } = this.deps;
    if (slot.closed_at !== null) throw new AppError('slot_closed', `slot ${slot.id} was closed by the venue`, { errors: [{ path: 'body.slot_id', message: 'is closed' }] });
    if (slot.start_ms <= nowMs) {
      throw new AppError('slot_closed', `slot ${slot.id} started at ${formatShanghai(new Date(slot.start_ms))}; choose a later one`,
        { errors: [{ path: 'body.slot_id', message: 'has started' }] });
    }
    const opens = opensAt(rules, slot.start_ms);
    if (nowMs < opens) {
      throw new AppError('not_yet_open', `slot ${slot.id} opens for booking at ${formatShanghai(new Date(opens))}`,
        { errors: [{ path: 'body.slot_id', message: 'is not open for booking yet' }], extra: { opens_at: formatShanghai(new Date(opens)) } });
    }
    if (a.kind === 'group') {
      const min = Math.max(slot.group_min, rules.group.min ?? 0);
      const max = Math.min(slot.group_max, rules.group.max ?? Infinity);
      if (slot.capacity_group > 0 && (a.partySize < min || a.partySize > max)) throw invalidField('body.party_size', `a group in this slot must be ${min}–${max} people`);
    }
    const until = await limits.bannedUntil(t, slot.resource_id, [a.phoneHmac, ...a.visitors], nowMs);
    if (until !== undefined) {
      // Which visitor or phone, and which bookings, is not said.
      throw new AppError('banned', `this booking cannot be made at this resource until ${formatShanghai(new Date(until))} (missed bookings)`,
        { extra: { until: formatShanghai(new Date(until)) } });
    }
    if (!(await slots.take(t, slot.id, a.kind, a.partySize))) {
      const left = a.kind === 'group' ? slot.capacity_group - slot.taken_group : slot.capacity_individual - slot.taken_individual;
      throw new AppError('slot_full', `slot ${slot.id} has ${left} ${a.kind} places left; ${a.partySize} asked`, {
        errors: [{ path: 'body.slot_id', message: 'has not enough places left' }],
        extra: { remaining: { individual: slot.capacity_individual - slot.taken_individual, group: slot.capacity_group - slot.taken_group } },
      });
    }
    const day = shanghaiDay(slot.start_ms);
    let counted = 0;
    if (a.kind === 'individual' && rules.perContactDaily !== null) {
      if (!(await limits.take(t, slot.resource_id, day, a.phoneHmac, a.partySize, rules.perContactDaily))) {
        throw new AppError('contact_limit', `one contact may book at most ${rules.perContactDaily} people a day at this resource`,
          { errors: [{ path: 'body.contact.phone', message: `has reached ${rules.perContactDaily} people at this resource on ${day}` }] });
      }
      counted |= CONTACT;
    }
    if (a.kind === 'group' && rules.group.batchesPerDay !== null) {
      if (!(await limits.take(t, slot.resource_id, day, GROUP_BATCHES, 1, rules.group.batchesPerDay))) {
        throw new AppError('group_batches_full', `this resource takes ${rules.group.batchesPerDay} group bookings a day, all taken on ${day}`,
          { errors: [{ path: 'body.slot_id', message: `has no group batch left on ${day}` }] });
      }
      counted |= BATCH;
    }
    const token = newToken();
    const id = await this.insert(t, slot, a, token, counted, nowMs);
    for (const visitor of a.visitors) {
      if (!(await rows.addVisitor(t, slot.resource_id, day, visitor, id))) {
        // Which visitor, and which booking, is not said: that would tell anyone who knows a child's ID number
        // where the child is booked.
        throw new AppError('visitor_already_booked', `one of the visitors cannot be booked at this resource on ${day}`,
          { errors: [{ path: 'body.visitor_ids', message: `one of them cannot be booked at this resource on ${day}` }] });
      }
    }
    return { row: (await rows.booking(id, t))!, token };
  }

  /**
   * What a cancelled booking (by its holder or its venue) gives back: its visitors' days, its share of the
   * day counters, and (unless the slot is being closed) its places.
   */
  async unmake(t: Tx, row: BookingRow, options: { seats: boolean }): Promise<void> {
    const { slots, rows, limits } = this.deps;
    if (options.seats) await slots.give(t, row.slot_id, row.kind, row.party_size);
    await rows.releaseVisitors(t, row.id);
    const day = shanghaiDay(row.start_ms);
    if (row.counted & CONTACT) await limits.give(t, row.resource_id, day, row.phone_hmac, row.party_size);
    if (row.counted & BATCH) await limits.give(t, row.resource_id, day, GROUP_BATCHES, 1);
  }

  /** Inserts the booking row; a new id and code on the (rare) collision of either. */
  private async insert(t: Tx, slot: SlotRow, a: Applicant, token: string, counted: number, nowMs: number): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const id = newBookingId();
      try {
        await t.savepoint((inner) => this.deps.rows.insert(inner, {
          id, slotId: slot.id, kind: a.kind, partySize: a.partySize, tokenSha256: tokenDigest(token), contactName: a.contactName,
          phoneHmac: a.phoneHmac, phoneMasked: a.phoneMasked, phoneBox: this.deps.keys.seal(a.phone, id), phoneKey: this.deps.keys.currentId,
          visitors: a.visitors.length, checkinCode: newCheckinCode(), orgCode: a.orgCode, counted, createdAt: formatShanghai(new Date(nowMs)),
        }));
        return id;
      } catch (e) {
        if (!(e instanceof ConstraintViolation && e.kind === 'unique') || attempt >= 3) throw e;
      }
    }
  }
}
