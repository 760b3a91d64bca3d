import type { Sql, Tx } from './sql.js';
import type { Kind } from '../engine/params.js';

/** A stored booking with the times and resource of its slot. */
export interface BookingRow {
  id: string;
  slot_id: number;
  kind: Kind;
  party_size: number;
  status: 'confirmed' | 'cancelled' | 'cancelled_by_venue' | 'no_show';
  token_sha256: Buffer;
  contact_name: string;
  phone_masked: string;
  visitors: number;
  created_at: string;
  cancelled_at: string | null;
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
  visitors: number;
  createdAt: string;
}

const BOOKING = `SELECT b.id, b.slot_id, b.kind, b.party_size, b.status, b.token_sha256, b.contact_name,
  b.phone_masked, b.visitors, b.created_at, b.cancelled_at, s.resource_id, s.start_ms, s.end_ms
  FROM bookings b JOIN slots s ON s.id = b.slot_id`;

/** The `bookings` and `booking_visitors` tables (visitors as keyed hashes only). */
export class BookingStore {
  constructor(private readonly db: Sql) {}

  async insert(t: Tx, b: NewBooking): Promise<void> {
    await t.run(`INSERT INTO bookings (id, slot_id, kind, party_size, status, token_sha256, contact_name,
      phone_hmac, phone_masked, visitors, created_at) VALUES (?, ?, ?, ?, 'confirmed', ?, ?, ?, ?, ?, ?)`,
    [b.id, b.slotId, b.kind, b.partySize, b.tokenSha256, b.contactName, b.phoneHmac, b.phoneMasked, b.visitors, b.createdAt]);
  }

  async booking(id: string, t: Sql = this.db): Promise<BookingRow | undefined> {
    return t.get<BookingRow>(`${BOOKING} WHERE b.id = ?`, [id]);
  }

  /** Whether a token digest belongs to some booking (rate limits count a request against a valid token only). */
  async tokenExists(digest: Buffer): Promise<boolean> {
    return (await this.db.value('SELECT 1 FROM bookings WHERE token_sha256 = ? LIMIT 1', [digest])) !== undefined;
  }

  /** Marks a confirmed booking cancelled; false when it was not confirmed (already cancelled, or absent). */
  async cancel(t: Tx, id: string, at: string): Promise<boolean> {
    return (await t.run("UPDATE bookings SET status = 'cancelled', cancelled_at = ? WHERE id = ? AND status = 'confirmed'", [at, id])).changes === 1;
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

  /** Cancels bookings on the venue's side (`cancelled_by_venue`) and frees their visitors' days. */
  async cancelByVenue(t: Tx, ids: readonly string[], at: string): Promise<void> {
    for (const id of ids) {
      await t.run("UPDATE bookings SET status = 'cancelled_by_venue', cancelled_at = ? WHERE id = ? AND status = 'confirmed'", [at, id]);
      await this.releaseVisitors(t, id);
    }
  }

  /** Frees the visitors' days of a cancelled booking. */
  async releaseVisitors(t: Tx, bookingId: string): Promise<void> {
    await t.run('DELETE FROM booking_visitors WHERE booking_id = ?', [bookingId]);
  }
}
