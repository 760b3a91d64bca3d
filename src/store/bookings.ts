import type { Sql, Tx } from './sql.js';
import type { Kind } from '../engine/params.js';

/** What a booking can be: confirmed; cancelled by its holder or by the venue; not come (after its slot). */
export type BookingStatus = 'confirmed' | 'cancelled' | 'cancelled_by_venue' | 'no_show';

/** A stored booking with the times and resource of its slot. */
export interface BookingRow {
  id: string;
  slot_id: number;
  kind: Kind;
  party_size: number;
  status: BookingStatus;
  token_sha256: Buffer;
  contact_name: string;
  phone_hmac: Buffer;
  phone_masked: string;
  /** The phone, encrypted (`booking/sealed.ts`); null for bookings made before phones were kept. */
  phone_box: Buffer | null;
  phone_key: string | null;
  visitors: number;
  checkin_code: string;
  org_code: string | null;
  /** Bit 1: holds places of its contact's day counter; bit 2: one of its resource's group batches that day. */
  counted: number;
  created_at: string;
  cancelled_at: string | null;
  checked_in_at: string | null;
  resource_id: string;
  start_ms: number;
  end_ms: number;
}

/** A booking to insert; no clear phone number or ID number ever reaches this module. */
export interface NewBooking {
  id: string;
  slotId: number;
  kind: Kind;
  partySize: number;
  tokenSha256: Buffer;
  contactName: string;
  phoneHmac: Buffer;
  phoneMasked: string;
  phoneBox: Buffer;
  phoneKey: string;
  visitors: number;
  checkinCode: string;
  orgCode: string | null;
  counted: number;
  createdAt: string;
}

const BOOKING = `SELECT b.id, b.slot_id, b.kind, b.party_size, b.status, b.token_sha256, b.contact_name, b.phone_hmac,
  b.phone_masked, b.phone_box, b.phone_key, b.visitors, b.checkin_code, b.org_code, b.counted, b.created_at, b.cancelled_at,
  b.checked_in_at, s.resource_id, s.start_ms, s.end_ms
  FROM bookings b JOIN slots s ON s.id = b.slot_id`;

/** The `bookings` and `booking_visitors` tables (visitors as keyed hashes only). */
export class BookingStore {
  constructor(private readonly db: Sql) {}

  async insert(t: Tx, b: NewBooking): Promise<void> {
    await t.run(`INSERT INTO bookings (id, slot_id, kind, party_size, status, token_sha256, contact_name, phone_hmac, phone_masked,
      phone_box, phone_key, visitors, checkin_code, org_code, counted, created_at) VALUES (?, ?, ?, ?, 'confirmed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [b.id, b.slotId, b.kind, b.partySize, b.tokenSha256, b.contactName, b.phoneHmac, b.phoneMasked, b.phoneBox, b.phoneKey, b.visitors,
      b.checkinCode, b.orgCode, b.counted, b.createdAt]);
  }

  async booking(id: string, t: Sql = this.db): Promise<BookingRow | undefined> {
    return t.get<BookingRow>(`${BOOKING} WHERE b.id = ?`, [id]);
  }

  /** The booking with a check-in code (normalised), or undefined. */
  async byCode(code: string, t: Sql = this.db): Promise<BookingRow | undefined> {
    return t.get<BookingRow>(`${BOOKING} WHERE b.checkin_code = ?`, [code]);
  }

  /** Every booking of a slot, oldest first (the roster). */
  async ofSlot(slotId: number, t: Sql = this.db): Promise<BookingRow[]> {
    return t.all<BookingRow>(`${BOOKING} WHERE b.slot_id = ? ORDER BY b.created_at, b.id`, [slotId]);
  }

  /** Whether a token digest belongs to some booking (rate limits count a request against a valid token only). */
  async tokenExists(digest: Buffer): Promise<boolean> {
    return (await this.db.value('SELECT 1 FROM bookings WHERE token_sha256 = ? LIMIT 1', [digest])) !== undefined;
  }

  /** Marks a confirmed booking cancelled (by its holder or its venue); false when it was not confirmed. */
  async cancel(t: Tx, id: string, at: string, status: 'cancelled' | 'cancelled_by_venue' = 'cancelled'): Promise<boolean> {
    return (await t.run('UPDATE bookings SET status = ?, cancelled_at = ? WHERE id = ? AND status = \'confirmed\'', [status, at, id])).changes === 1;
  }

  /** Checks a confirmed booking in; false when it was not confirmed or was checked in already. */
  async checkIn(t: Tx, id: string, at: string): Promise<boolean> {
    return (await t.run("UPDATE bookings SET checked_in_at = ? WHERE id = ? AND status = 'confirmed' AND checked_in_at IS NULL", [at, id])).changes === 1;
  }

  /**
   * Marks as no-shows the confirmed bookings not checked in of slots that ended in (sinceMs, nowMs] at
   * resources with rules of their own. One conditional statement: whichever process runs it first marks a
   * booking, and only it gets the booking back to count.
   */
  async markNoShows(t: Tx, sinceMs: number, nowMs: number): Promise<{ id: string; phone_hmac: Buffer; slot_id: number }[]> {
    return t.all(`UPDATE bookings SET status = 'no_show' WHERE status = 'confirmed' AND checked_in_at IS NULL AND slot_id IN (
      SELECT s.id FROM slots s JOIN booking_rules r ON r.resource_id = s.resource_id WHERE s.end_ms > ? AND s.end_ms <= ?)
      RETURNING id, phone_hmac, slot_id`, [sinceMs, nowMs]);
  }

  /** Replaces the phone box of a booking sealed under key `fromKey` (re-encryption); false if it changed meanwhile. */
  async reseal(t: Tx, id: string, fromKey: string, box: Buffer, key: string): Promise<boolean> {
    return (await t.run('UPDATE bookings SET phone_box = ?, phone_key = ? WHERE id = ? AND phone_key = ?', [box, key, id, fromKey])).changes === 1;
  }

  /** Up to `limit` bookings whose phone box is sealed under another key than `key`, after id `afterId`. */
  async sealedUnder(notKey: string, afterId: string, limit: number): Promise<{ id: string; phone_box: Buffer; phone_key: string }[]> {
    return this.db.all(`SELECT id, phone_box, phone_key FROM bookings WHERE phone_box IS NOT NULL AND phone_key <> ? AND id > ?
      ORDER BY id LIMIT ?`, [notKey, afterId, limit]);
  }

  /** Records a visitor's day at a resource; false when that visitor already has a booking there that day. */
  async addVisitor(t: Tx, resourceId: string, day: string, visitorHmac: Buffer, bookingId: string): Promise<boolean> {
    return (await t.run(`INSERT INTO booking_visitors (resource_id, day, visitor_hmac, booking_id) VALUES (?, ?, ?, ?)
      ON CONFLICT DO NOTHING`, [resourceId, day, visitorHmac, bookingId])).changes === 1;
  }

  /** The confirmed bookings of a resource's slots that start after `nowMs`. */
  async futureOf(t: Sql, resourceId: string, nowMs: number): Promise<string[]> {
    return (await t.all<{ id: string }>(`SELECT b.id FROM bookings b JOIN slots s ON s.id = b.slot_id
      WHERE s.resource_id = ? AND s.start_ms > ? AND b.status = 'confirmed' ORDER BY b.id`, [resourceId, nowMs])).map((r) => r.id);
  }

  /** The visitor hashes of a booking. */
  async visitorsOf(t: Sql, bookingId: string): Promise<Buffer[]> {
    return (await t.all<{ visitor_hmac: Buffer }>('SELECT visitor_hmac FROM booking_visitors WHERE booking_id = ?', [bookingId])).map((r) => r.visitor_hmac);
  }

  /** Frees the visitors' days of a cancelled booking. */
  async releaseVisitors(t: Tx, bookingId: string): Promise<void> {
    await t.run('DELETE FROM booking_visitors WHERE booking_id = ?', [bookingId]);
  }
}
