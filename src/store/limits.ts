import type { Sql, Tx } from './sql.js';

/** The subject of a resource's group-batch counter (a phone's HMAC, the other subject, is 32 bytes). */
export const GROUP_BATCHES = Buffer.from('group');

/**
 * Per resource and day limits that must hold across processes: counters taken by one conditional UPDATE
 * (`day_counters`), and bans (`booking_bans`). Subjects are keyed hashes or fixed markers, never numbers.
 */
export class LimitStore {
  constructor(private readonly db: Sql) {}

  /**
   * Takes `n` of a day's counter if `used + n <= cap`; false when that would pass the cap. The row is created
   * first (empty), then tested and taken in one statement, so concurrent takers queue on the row.
   */
  async take(t: Tx, resourceId: string, day: string, subject: Buffer, n: number, cap: number): Promise<boolean> {
    await t.run('INSERT INTO day_counters (resource_id, day, subject, used) VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING', [resourceId, day, subject]);
    return (await t.run('UPDATE day_counters SET used = used + ? WHERE resource_id = ? AND day = ? AND subject = ? AND used + ? <= ?',
      [n, resourceId, day, subject, n, cap])).changes === 1;
  }

  /** Gives `n` back to a day's counter (never below zero). */
  async give(t: Tx, resourceId: string, day: string, subject: Buffer, n: number): Promise<void> {
    await t.run('UPDATE day_counters SET used = CASE WHEN used >= ? THEN used - ? ELSE 0 END WHERE resource_id = ? AND day = ? AND subject = ?',
      [n, n, resourceId, day, subject]);
  }

  /** The latest end (epoch ms) of a ban in force at `nowMs` on any of the subjects at a resource; undefined if none. */
  async bannedUntil(t: Sql, resourceId: string, subjects: readonly Buffer[], nowMs: number): Promise<number | undefined> {
    if (!subjects.length) return undefined;
    const row = await t.value<number | null>(`SELECT max(until_ms) FROM booking_bans WHERE resource_id = ? AND until_ms > ?
      AND subject IN (${subjects.map(() => '?').join(', ')})`, [resourceId, nowMs, ...subjects]);
    return row ?? undefined;
  }

  /** Bans a subject at a resource until `untilMs`, or longer if a longer ban already holds. */
  async ban(t: Tx, resourceId: string, subject: Buffer, untilMs: number): Promise<void> {
    await t.run(`INSERT INTO booking_bans (resource_id, subject, until_ms) VALUES (?, ?, ?)
      ON CONFLICT (resource_id, subject) DO UPDATE SET until_ms = CASE WHEN excluded.until_ms > booking_bans.until_ms
        THEN excluded.until_ms ELSE booking_bans.until_ms END`, [resourceId, subject, untilMs]);
  }

  /** No-shows of a phone (by HMAC) at a resource whose slots ended in (fromMs, toMs]. */
  async phoneNoShows(t: Sql, resourceId: string, phoneHmac: Buffer, fromMs: number, toMs: number): Promise<number> {
    return (await t.value<number>(`SELECT count(*) FROM bookings b JOIN slots s ON s.id = b.slot_id WHERE b.phone_hmac = ?
      AND s.resource_id = ? AND b.status = 'no_show' AND s.end_ms > ? AND s.end_ms <= ?`, [phoneHmac, resourceId, fromMs, toMs])) ?? 0;
  }

  /** No-shows of a visitor (by HMAC) at a resource whose slots ended in (fromMs, toMs]. */
  async visitorNoShows(t: Sql, resourceId: string, visitorHmac: Buffer, fromMs: number, toMs: number): Promise<number> {
    return (await t.value<number>(`SELECT count(*) FROM booking_visitors v JOIN bookings b ON b.id = v.booking_id
      JOIN slots s ON s.id = b.slot_id WHERE v.resource_id = ? AND v.visitor_hmac = ? AND b.status = 'no_show'
      AND s.end_ms > ? AND s.end_ms <= ?`, [resourceId, visitorHmac, fromMs, toMs])) ?? 0;
  }
}
