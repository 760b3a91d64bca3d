import type { Sql } from './sql.js';

/** A stored Idempotency-Key: `status` null while the first request is still in progress. */
export interface IdempotencyRow {
  request_hmac: Buffer;
  status: number | null;
  response: string | null;
  locked_until_ms: number | null;
  /** The created booking's token, sealed for the replaying client (see `booking/idempotency.ts`). */
  token_box: Buffer | null;
}

/**
 * The `idempotency_keys` table. A claim is owned: it holds while `locked_until_ms` is the claimant's value,
 * so a request that took over an abandoned claim cannot be overwritten by its first holder, nor the reverse.
 */
export class IdempotencyStore {
  constructor(private readonly db: Sql) {}

  async get(t: Sql, key: string): Promise<IdempotencyRow | undefined> {
    return t.get<IdempotencyRow>('SELECT request_hmac, status, response, locked_until_ms, token_box FROM idempotency_keys WHERE key = ?', [key]);
  }

  /**
   * Records a new key as in progress until `lockedUntilMs`; false when the key exists already (a concurrent
   * request with it committed first: under READ COMMITTED both may have found it absent).
   */
  async claim(t: Sql, key: string, requestHmac: Buffer, lockedUntilMs: number, nowMs: number): Promise<boolean> {
    return (await t.run(`INSERT INTO idempotency_keys (key, request_hmac, locked_until_ms, created_ms) VALUES (?, ?, ?, ?)
      ON CONFLICT (key) DO NOTHING`, [key, requestHmac, lockedUntilMs, nowMs])).changes === 1;
  }

  /** Takes over an in-progress key whose holder gave up; false when someone else took it over first. */
  async relock(t: Sql, key: string, lockedUntilMs: number, previousMs: number): Promise<boolean> {
    return (await t.run('UPDATE idempotency_keys SET locked_until_ms = ? WHERE key = ? AND status IS NULL AND locked_until_ms = ?',
      [lockedUntilMs, key, previousMs])).changes === 1;
  }

  /** Stores the first answer of a key, if the claim `lockedUntilMs` still holds it; false otherwise. */
  async finish(t: Sql, key: string, lockedUntilMs: number, status: number, response: string, tokenBox: Buffer | null): Promise<boolean> {
    return (await t.run(`UPDATE idempotency_keys SET status = ?, response = ?, token_box = ?, locked_until_ms = NULL
      WHERE key = ? AND status IS NULL AND locked_until_ms = ?`, [status, response, tokenBox, key, lockedUntilMs])).changes === 1;
  }

  /** Forgets an in-progress key claimed as `lockedUntilMs`, so that a retry runs again (after a failure). */
  async release(key: string, lockedUntilMs: number): Promise<void> {
    await this.db.run('DELETE FROM idempotency_keys WHERE key = ? AND status IS NULL AND locked_until_ms = ?', [key, lockedUntilMs]);
  }

  /** Deletes keys created before `beforeMs`; returns how many. */
  async purge(t: Sql, beforeMs: number): Promise<number> {
    return (await t.run('DELETE FROM idempotency_keys WHERE created_ms < ?', [beforeMs])).changes;
  }
}
