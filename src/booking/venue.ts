import { AppError } from '../errors.js';
import { formatShanghai } from '../time.js';
import type { Database } from '../store/sql.js';
import type { BookingRow, BookingStore } from '../store/bookings.js';
import type { SlotStore } from '../store/slots.js';
import type { Audit } from '../access/audit.js';
import type { Principal } from '../access/keys.js';
import { assertSeats } from '../access/scope.js';
import type { Directory } from './directory.js';
import { normalizeCode, type BookingJson } from './render.js';
import { slotJson, type SlotJson } from './slots.js';
import type { DataKeys } from './sealed.js';

/** Check-in opens this long before a slot starts, in minutes, and closes when the slot ends. */
export const CHECKIN_OPENS_MINUTES = 60;

/** One line of a slot's roster: who booked, how many, and whether they came (the phone masked). */
export interface RosterLine {
  id: string;
  status: BookingRow['status'];
  kind: BookingRow['kind'];
  party_size: number;
  contact: { name: string; phone: string };
  visitors: number;
  org_code: string | null;
  created_at: string;
  checked_in_at: string | null;
}

/**
 * The venue's desk (venue keys of the resource, district keys of its district, operators): the day's roster,
 * a contact's phone when the venue must call (each reveal audited), and check-in at the gate (核销).
 */
export class VenueDesk {
  constructor(private readonly deps: {
    db: Database; slots: SlotStore; rows: BookingStore; directory: Directory; audit: Audit; keys: DataKeys; clock: () => number;
    json: (row: BookingRow) => Promise<BookingJson>;
  }) {}

  /**
   * `GET /v1/slots/{id}/roster`: every booking of a slot, oldest first. The roster shows contacts' names, so
   * each listing is audited as `roster.read` (the slot and how many bookings it showed, no name).
   */
  async roster(slotId: number, by: Principal): Promise<{ slot: SlotJson; count: number; items: RosterLine[] }> {
    const slot = await this.deps.slots.slot(slotId);
    if (!slot) throw new AppError('not_found', `no slot ${slotId}`);
    assertSeats(by, await this.deps.directory.resource(slot.resource_id));
    const items = (await this.deps.rows.ofSlot(slotId)).map((r) => ({
      id: r.id, status: r.status, kind: r.kind, party_size: r.party_size, contact: { name: r.contact_name, phone: r.phone_masked },
      visitors: r.visitors, org_code: r.org_code, created_at: r.created_at, checked_in_at: r.checked_in_at,
    }));
    await this.deps.db.tx((t) => this.deps.audit.record(t, by, 'roster.read', String(slotId), { resource: slot.resource_id, bookings: items.length }));
    return { slot: slotJson(slot), count: items.length, items };
  }

  /**
   * `GET /v1/bookings/{id}/contact`: the contact's name and phone in clear, audited as `contact.reveal` (the
   * number itself never in the log). A booking made before phones were kept answers the masked number.
   */
  async contact(id: string, by: Principal): Promise<{ booking_id: string; name: string; phone: string; revealed: boolean }> {
    const row = await this.deps.rows.booking(id);
    if (!row) throw new AppError('not_found', `no booking '${id}'`);
    assertSeats(by, await this.deps.directory.resource(row.resource_id));
    const phone = row.phone_box ? this.deps.keys.open(row.phone_box, row.id) : undefined;
    await this.deps.db.tx((t) => this.deps.audit.record(t, by, 'contact.reveal', id, { revealed: phone !== undefined }));
    return { booking_id: id, name: row.contact_name, phone: phone ?? row.phone_masked, revealed: phone !== undefined };
  }

  /**
   * `POST /v1/checkins`: checks a booking in by its code, for a key of its resource. Another resource's key
   * is a 403; a second check-in a 409 `already_checked_in`; before the window opens (an hour before the
   * start) a 409 `checkin_not_open`, after the slot a 409 `checkin_closed`. Audited.
   */
  async checkIn(code: string, by: Principal): Promise<BookingJson> {
    const row = await this.deps.rows.byCode(normalizeCode(code));
    if (!row) throw new AppError('not_found', 'no booking has this check-in code', { errors: [{ path: 'body.code', message: 'is not a check-in code of a booking' }] });
    assertSeats(by, await this.deps.directory.resource(row.resource_id));
    const now = this.deps.clock();
    const opens = row.start_ms - CHECKIN_OPENS_MINUTES * 60_000;
    if (row.checked_in_at) {
      throw new AppError('already_checked_in', `booking ${row.id} was checked in at ${row.checked_in_at}`, { extra: { checked_in_at: row.checked_in_at } });
    }
    if (row.status !== 'confirmed') throw new AppError('booking_not_confirmed', `booking ${row.id} is ${row.status}`, { extra: { booking_status: row.status } });
    if (now < opens) {
      throw new AppError('checkin_not_open', `check-in opens at ${formatShanghai(new Date(opens))}, ${CHECKIN_OPENS_MINUTES} minutes before the slot`,
        { extra: { opens_at: formatShanghai(new Date(opens)) } });
    }
    if (now >= row.end_ms) {
      throw new AppError('checkin_closed', `check-in closed at ${formatShanghai(new Date(row.end_ms))}, when the slot ended`,
        { extra: { closed_at: formatShanghai(new Date(row.end_ms)) } });
    }
    const done = await this.deps.db.tx(async (t) => {
      if (!(await this.deps.rows.checkIn(t, row.id, formatShanghai(new Date(now))))) return false;
      await this.deps.audit.record(t, by, 'booking.checkin', row.id);
      return true;
    });
    const after = (await this.deps.rows.booking(row.id))!;
    // Two gates scanning the same code at once: the second finds it checked in.
    if (!done) throw new AppError('already_checked_in', `booking ${row.id} was checked in at ${after.checked_in_at}`, { extra: { checked_in_at: after.checked_in_at } });
    return this.deps.json(after);
  }
}
