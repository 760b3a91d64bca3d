import type { Sql, Tx } from './sql.js';
import type { Kind } from '../engine/params.js';

/** Where an entry is: waiting for seats, promoted into a booking, expired (or passed over by a rule), or left. */
export type EntryStatus = 'waiting' | 'promoted' | 'expired' | 'left';

/** A stored waitlist entry. */
export interface EntryRow {
  seq: number;
  id: string;
  slot_id: number;
  kind: Kind;
  party_size: number;
  status: EntryStatus;
  reason: string | null;
  token_sha256: Buffer;
  seal_key: Buffer;
  contact_name: string;
  phone_hmac: Buffer;
  phone_masked: string;
  phone_box: Buffer;
  phone_key: string;
  visitors: Buffer;
  id_count: number;
  org_code: string | null;
  booking_id: string | null;
  booking_box: Buffer | null;
  expires_ms: number;
  created_at: string;
  ended_at: string | null;
}

/** An entry to insert. */
export type NewEntry = Omit<EntryRow, 'seq' | 'status' | 'reason' | 'booking_id' | 'booking_box' | 'ended_at'>;

const COLUMNS = `seq, id, slot_id, kind, party_size, status, reason, token_sha256, seal_key, contact_name, phone_hmac, phone_masked,
  phone_box, phone_key, visitors, id_count, org_code, booking_id, booking_box, expires_ms, created_at, ended_at`;

/** The `waitlist` table. Every change of an entry's status is one conditional UPDATE from `waiting`. */
export class WaitlistStore {
  constructor(private readonly db: Sql) {}

  async insert(t: Tx, e: NewEntry): Promise<EntryRow> {
    return (await t.get<EntryRow>(`INSERT INTO waitlist (id, slot_id, kind, party_size, status, token_sha256, seal_key, contact_name,
      phone_hmac, phone_masked, phone_box, phone_key, visitors, id_count, org_code, expires_ms, created_at)
      VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    [e.id, e.slot_id, e.kind, e.party_size, e.token_sha256, e.seal_key, e.contact_name, e.phone_hmac, e.phone_masked, e.phone_box,
      e.phone_key, e.visitors, e.id_count, e.org_code, e.expires_ms, e.created_at]))!;
  }

  async entry(id: string, t: Sql = this.db): Promise<EntryRow | undefined> {
    return t.get<EntryRow>(`SELECT ${COLUMNS} FROM waitlist WHERE id = ?`, [id]);
  }

  /** Waiting entries of a slot in order of joining, after `afterSeq`, at most `limit`. */
  async waiting(t: Sql, slotId: number, afterSeq: number, limit: number): Promise<EntryRow[]> {
    return t.all<EntryRow>(`SELECT ${COLUMNS} FROM waitlist WHERE slot_id = ? AND status = 'waiting' AND seq > ? ORDER BY seq LIMIT ?`,
      [slotId, afterSeq, limit]);
  }

  /** 1 + the waiting entries of the same slot and kind that joined before `seq`. */
  async position(slotId: number, kind: Kind, seq: number, t: Sql = this.db): Promise<number> {
    return 1 + ((await t.value<number>("SELECT count(*) FROM waitlist WHERE slot_id = ? AND kind = ? AND status = 'waiting' AND seq < ?",
      [slotId, kind, seq])) ?? 0);
  }

  /** Marks a waiting entry promoted into `bookingId`; false when it was no longer waiting (another process got it). */
  async promote(t: Tx, id: string, bookingId: string, box: Buffer, at: string): Promise<boolean> {
    return (await t.run("UPDATE waitlist SET status = 'promoted', booking_id = ?, booking_box = ?, ended_at = ? WHERE id = ? AND status = 'waiting'",
      [bookingId, box, at, id])).changes === 1;
  }

  /** Ends a waiting entry without a booking (`expired` with a reason, or `left`); false when it was not waiting. */
  async end(t: Tx, id: string, status: 'expired' | 'left', reason: string | null, at: string): Promise<boolean> {
    return (await t.run("UPDATE waitlist SET status = ?, reason = ?, ended_at = ? WHERE id = ? AND status = 'waiting'",
      [status, reason, at, id])).changes === 1;
  }

  /** Ends every waiting entry of a slot (closed by its venue); returns how many. */
  async endAll(t: Tx, slotId: number, reason: string, at: string): Promise<number> {
    return (await t.run("UPDATE waitlist SET status = 'expired', reason = ?, ended_at = ? WHERE slot_id = ? AND status = 'waiting'",
      [reason, at, slotId])).changes;
  }

  /** Expires the waiting entries whose cut-off has passed; returns how many (one statement, safe in any process). */
  async expire(t: Tx, nowMs: number, at: string): Promise<number> {
    return (await t.run("UPDATE waitlist SET status = 'expired', reason = 'cutoff', ended_at = ? WHERE status = 'waiting' AND expires_ms <= ?",
      [at, nowMs])).changes;
  }

  /** Up to `limit` entries whose phone box is sealed under another key than `notKey`, after seq `afterSeq`. */
  async sealedUnder(notKey: string, afterSeq: number, limit: number): Promise<{ seq: number; id: string; phone_box: Buffer; phone_key: string }[]> {
    return this.db.all('SELECT seq, id, phone_box, phone_key FROM waitlist WHERE phone_key <> ? AND seq > ? ORDER BY seq LIMIT ?', [notKey, afterSeq, limit]);
  }

  /** Replaces the phone box of an entry sealed under `fromKey`; false if it changed meanwhile. */
  async reseal(t: Tx, id: string, fromKey: string, box: Buffer, key: string): Promise<boolean> {
    return (await t.run('UPDATE waitlist SET phone_box = ?, phone_key = ? WHERE id = ? AND phone_key = ?', [box, key, id, fromKey])).changes === 1;
  }
}
