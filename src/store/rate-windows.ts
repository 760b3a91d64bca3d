import type { Sql } from './sql.js';

/** A bucket's window as counted: hits so far and when the window ends (epoch ms). */
export interface WindowCount {
  hits: number;
  resetMs: number;
}

/**
 * The `rate_windows` table: request budgets that every process of a store spends together (the rate limits
 * of replicas on one PostgreSQL database). A fixed window per key; a request counts by one upsert that
 * starts a new window when the stored one has ended, so concurrent requests on any replica queue on the
 * row and none is lost. Instants come from the caller's clock (replicas' clocks agree to NTP's precision,
 * which moves a window's end by milliseconds, never a count).
 */
export class RateWindows {
  constructor(private readonly db: Sql) {}

  /** Counts one hit of `key` in its window of `windowMs` at `nowMs`; answers the count with this hit and the window's end. */
  async hit(key: string, windowMs: number, nowMs: number): Promise<WindowCount> {
    const row = await this.db.get<{ hits: number; reset_ms: number }>(`INSERT INTO rate_windows (key, hits, reset_ms) VALUES (?, 1, ?)
      ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN rate_windows.reset_ms <= ? THEN 1 ELSE rate_windows.hits + 1 END,
        reset_ms = CASE WHEN rate_windows.reset_ms <= ? THEN excluded.reset_ms ELSE rate_windows.reset_ms END
      RETURNING hits, reset_ms`, [key, nowMs + windowMs, nowMs, nowMs]);
    return { hits: Number(row!.hits), resetMs: Number(row!.reset_ms) };
  }

  /** The window of `key` in force at `nowMs`, or undefined when none is. */
  async get(key: string, nowMs: number): Promise<WindowCount | undefined> {
    const row = await this.db.get<{ hits: number; reset_ms: number }>('SELECT hits, reset_ms FROM rate_windows WHERE key = ? AND reset_ms > ?', [key, nowMs]);
    return row && { hits: Number(row.hits), resetMs: Number(row.reset_ms) };
  }

  /** Gives one hit back to the window in force (never below zero). */
  async unhit(key: string, nowMs: number): Promise<void> {
    await this.db.run('UPDATE rate_windows SET hits = hits - 1 WHERE key = ? AND reset_ms > ? AND hits > 0', [key, nowMs]);
  }

  /** Forgets `key`'s window. */
  async reset(key: string): Promise<void> {
    await this.db.run('DELETE FROM rate_windows WHERE key = ?', [key]);
  }

  /** Deletes the windows that ended by `nowMs`; answers how many. */
  async sweep(nowMs: number): Promise<number> {
    return (await this.db.run('DELETE FROM rate_windows WHERE reset_ms <= ?', [nowMs])).changes;
  }
}
