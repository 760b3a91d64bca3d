/**
 * The one interface the rest of the service speaks to a database through. Store modules write portable
 * SQL against it; `sqlite.ts` (embedded, the default) implements it, and a server database can implement it
 * too. The conventions that keep the SQL portable:
 *
 * - positional `?` placeholders only;
 * - INTEGER / REAL / TEXT / BLOB columns (booleans as 0/1, instants as epoch ms or ISO 8601 text);
 * - `coalesce`, `ON CONFLICT (…) DO …`, `RETURNING`, `LIMIT`, `||` — nothing only one engine knows;
 * - a rule that must hold under concurrency is one conditional statement or a constraint, never a read
 *   followed by a write (a write transaction takes the write lock before its first statement, but a
 *   server database may run it under READ COMMITTED).
 *
 * Failures that callers must tell apart are thrown as the classes below, never as a driver's own errors.
 * On PostgreSQL a failed statement aborts its whole transaction: a statement whose failure the caller
 * handles and goes on from (a unique key taken) runs in `t.savepoint()`, which works the same on both.
 */

/** A value bound to a placeholder. */
export type SqlValue = string | number | bigint | Buffer | null;

/** What a statement that writes did. */
export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/** Statements, outside or inside a transaction. */
export interface Sql {
  readonly dialect: 'sqlite' | 'postgres';
  /** Every row of a query, as objects keyed by column name. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** The first column of the first row, or undefined. */
  value<T = unknown>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that writes. */
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

/** Statements inside one transaction. */
export interface Tx extends Sql {
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /** Runs `fn` in a savepoint: a throw undoes what it wrote, and the transaction goes on. */
  savepoint<T>(fn: (t: Tx) => Promise<T>): Promise<T>;
}

/** A database connection (or pool). */
export interface Database extends Sql {
  /** Where it is, for messages (a file path, or a URL without its password). */
  readonly location: string;
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. A write transaction
   * takes the write lock first, so every read inside it sees what its writes will be checked against; a
   * read transaction sees one consistent state. `fn` must use `t`, never the database itself.
   */
  tx<T>(fn: (t: Tx) => Promise<T>, mode?: 'write' | 'read'): Promise<T>;
  /**
   * Resolves when the database answers a trivial query within `timeoutMs` (default 2000); else throws
   * StoreUnavailable naming where it is. For readiness probes: it never waits behind the service's own work.
   */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The database stayed locked (or the transaction met a conflict) for longer than allowed: retry later. */
export class StoreBusy extends Error {
  override readonly name = 'StoreBusy';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A constraint refused a write: a unique key taken, a CHECK failed, a reference missing. */
export class ConstraintViolation extends Error {
  override readonly name = 'ConstraintViolation';
  constructor(readonly kind: 'unique' | 'check' | 'foreign_key' | 'other', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The database cannot be opened or reached; the message names where it is and why. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * What a bulk writer (an import's staging, the maintenance chunks) waits between two of its write
 * transactions. SQLite's lock is not a queue: a writer that takes it again at once starves other processes
 * trying for it (a booking in the server waited 5 s behind a CLI import, and was refused `busy`), so it is
 * left free a few ms, longer than those processes' pause between tries. PostgreSQL queues lock waiters: a
 * turn of the event loop is enough there.
 */
export function bulkGap(db: Pick<Database, 'dialect'>): Promise<void> {
  return new Promise((resolve) => (db.dialect === 'sqlite' ? setTimeout(resolve, BULK_GAP_MS) : setImmediate(resolve)));
}

/** See `bulkGap`; above the longest pause of `SqliteDatabase` between two tries for the lock. */
export const BULK_GAP_MS = 3;

/** `?, ?, ?` for a list of `n` values (an `IN (…)` list). */
export function placeholders(n: number): string {
  return new Array(n).fill('?').join(', ');
}
