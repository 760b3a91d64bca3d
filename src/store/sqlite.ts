import { AsyncLocalStorage } from 'node:async_hooks';
import { dirname, resolve } from 'node:path';
import BetterSqlite3, { type Statement } from 'better-sqlite3';
import { ensureDirectory } from '../paths.js';
import { Checkpointer, type CheckpointOptions } from './checkpointer.js';
import { ConstraintViolation, StoreBusy, StoreUnavailable, type Database, type RunResult, type SqlValue, type Tx } from './sql.js';

/** Statements kept prepared per connection; past this the cache starts again (dynamic IN lists vary). */
const STATEMENT_CACHE = 512;

/** The pauses between asynchronous tries for a lock, in ms; the last one repeats (below `BULK_GAP_MS`). */
const BACKOFF_MS = [1, 1, 1, 1, 2];

/**
 * One SQLite connection (better-sqlite3) behind the `Database` interface. better-sqlite3 is synchronous,
 * so a statement runs at once and its promise is already settled; a transaction holds the connection
 * (other callers of this process queue behind it) from `BEGIN` to `COMMIT`. Across processes, `BEGIN
 * IMMEDIATE` takes SQLite's write lock. While another process holds it, the wait is asynchronous: SQLite's
 * busy handler would sleep on the thread, stalling every request of this process, so it is off (a busy
 * timeout of 0); the statement is tried again after pauses of 1–2 ms (`retrying`), until `patienceMs` have passed.
 */
export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Statement>();
  private readonly gate = new Gate();
  private readonly inside = new AsyncLocalStorage<symbol>();
  private current: symbol | null = null;
  private savepoints = 0;

  private constructor(
    readonly raw: BetterSqlite3.Database,
    readonly location: string,
    /** The longest wait for a lock before StoreBusy, in ms. */
    public patienceMs: number,
    /** Present when the WAL is checkpointed in a thread of its own rather than by this connection's commits. */
    readonly checkpointer?: Checkpointer,
  ) {}

  /**
   * Opens (creating if needed) the database file: WAL, foreign keys on, a busy timeout so that several
   * processes can share the file. `:memory:` is a private in-memory database. `readonly` opens an existing
   * file for reading only (a snapshot build worker's connection). `checkpoint`: the WAL is checkpointed in a
   * thread (`Checkpointer`), never inside this connection's commits (a server's connection: see there).
   * Throws StoreUnavailable naming the path and the cause.
   */
  static open(path: string, options: { busyTimeoutMs?: number; readonly?: boolean; checkpoint?: CheckpointOptions } = {}): SqliteDatabase {
    const location = path === ':memory:' ? path : resolve(path);
    let raw: BetterSqlite3.Database;
    try {
      if (options.readonly) {
        raw = new BetterSqlite3(location, { readonly: true, fileMustExist: true });
      } else {
        if (path !== ':memory:') ensureDirectory(dirname(location));
        raw = new BetterSqlite3(location);
        raw.pragma('journal_mode = WAL');
      }
    } catch (e) {
      throw new StoreUnavailable(`cannot open the SQLite database ${location}: ${reason(e)}`, { cause: e });
    }
    if (!options.readonly) raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    const patienceMs = options.busyTimeoutMs ?? 5000;
    // A serving connection waits in `retrying`, off the thread; a read-only one (a build thread's) may block.
    raw.pragma(`busy_timeout = ${options.readonly ? patienceMs : 0}`);
    raw.pragma('temp_store = FILE');
    raw.pragma('cache_size = -32768'); // 32 MiB: bulk imports touch several large B-trees
    const checkpointed = options.checkpoint && !options.readonly && path !== ':memory:';
    if (checkpointed) raw.pragma('wal_autocheckpoint = 0');
    return new SqliteDatabase(raw, location, patienceMs, checkpointed ? new Checkpointer(location, options.checkpoint) : undefined);
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.outside(() => this.statement(sql).all(...params) as T[]);
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.outside(() => this.statement(sql).get(...params) as T | undefined);
  }

  value<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.outside(() => firstColumn<T>(this.statement(sql).raw(true).get(...params) as unknown[] | undefined));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.outside(() => ({ changes: this.statement(sql).run(...params).changes }));
  }

  async tx<T>(fn: (t: Tx) => Promise<T>, mode: 'write' | 'read' = 'write'): Promise<T> {
    this.assertOutside();
    await this.begin(mode === 'write' ? 'BEGIN IMMEDIATE' : 'BEGIN');
    const token = Symbol('tx');
    this.current = token;
    try {
      const result = await this.inside.run(token, () => fn(this.handle()));
      guard(() => this.raw.exec('COMMIT'));
      return result;
    } catch (e) {
      if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
      throw e;
    } finally {
      this.current = null;
      this.gate.leave();
    }
  }

  /**
   * Runs `fn` with the raw better-sqlite3 connection while no transaction of this process is open: for
   * the few dialect-specific reads (a snapshot's bulk scan) that the portable interface would make slow.
   */
  async exclusive<T>(fn: (raw: BetterSqlite3.Database) => T): Promise<T> {
    this.assertOutside();
    await this.gate.enter();
    try {
      return guard(() => fn(this.raw));
    } finally {
      this.gate.leave();
    }
  }

  /** The file answers while it is open (an embedded database has no server to lose). */
  async ping(): Promise<void> {
    if (!this.raw.open) throw new StoreUnavailable(`the SQLite database ${this.location} is closed`);
  }

  /** Closes the connection once the open transaction (if any) ends; closing again does nothing. */
  async close(): Promise<void> {
    if (!this.raw.open) return;
    await this.checkpointer?.stop();
    await this.gate.enter();
    try {
      if (this.raw.open) this.raw.close();
    } finally {
      this.gate.leave();
    }
  }

  /** The statements of the open transaction. */
  private handle(): Tx {
    const run = <T>(work: () => T): Promise<T> => {
      try {
        return Promise.resolve(guard(work));
      } catch (e) {
        return Promise.reject(e);
      }
    };
    const t: Tx = {
      dialect: 'sqlite',
      all: <T>(sql: string, params: readonly SqlValue[] = []) => run(() => this.statement(sql).all(...params) as T[]),
      get: <T>(sql: string, params: readonly SqlValue[] = []) => run(() => this.statement(sql).get(...params) as T | undefined),
      value: <T>(sql: string, params: readonly SqlValue[] = []) =>
        run(() => firstColumn<T>(this.statement(sql).raw(true).get(...params) as unknown[] | undefined)),
      run: (sql: string, params: readonly SqlValue[] = []) => run(() => ({ changes: this.statement(sql).run(...params).changes })),
      exec: (script: string) => run(() => void this.raw.exec(script)),
      savepoint: async <T>(fn: (inner: Tx) => Promise<T>): Promise<T> => {
        const name = `sp${++this.savepoints}`;
        guard(() => this.raw.exec(`SAVEPOINT ${name}`));
        try {
          const result = await fn(t);
          guard(() => this.raw.exec(`RELEASE ${name}`));
          return result;
        } catch (e) {
          if (this.raw.inTransaction) this.raw.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
          throw e;
        }
      },
    };
    return t;
  }

  /**
   * Runs a statement outside any transaction: at once when the connection is free (the common case, with
   * no promise chained), else after the open one. A statement that met another process's lock had no
   * effect, and is tried again (`retrying`).
   */
  private outside<T>(work: () => T): Promise<T> {
    try {
      this.assertOutside();
      if (!this.gate.held) return Promise.resolve(guard(work));
    } catch (e) {
      return e instanceof StoreBusy ? this.retrying(() => this.afterGate(work)) : Promise.reject(e);
    }
    return this.retrying(() => this.afterGate(work));
  }

  private async afterGate<T>(work: () => T): Promise<T> {
    await this.gate.enter();
    try {
      return guard(work);
    } finally {
      this.gate.leave();
    }
  }

  /**
   * Enters the gate and opens a transaction with `sql`. While another process holds the lock, the tries are
   * spaced by pauses with the gate open, so this process's other statements (a query's records) go on.
   */
  private begin(sql: string): Promise<void> {
    return this.retrying(async () => {
      await this.gate.enter();
      try {
        guard(() => this.raw.exec(sql));
      } catch (e) {
        this.gate.leave();
        throw e;
      }
    });
  }

  /** Runs `attempt` until it does not meet a lock, pausing between tries off the thread, for at most `patienceMs`. */
  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.patienceMs;
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        if (!(e instanceof StoreBusy) || Date.now() >= deadline) throw e;
      }
      await pause(backoff(n));
    }
  }

  /** A statement on the database inside that database's own transaction would wait for itself forever. */
  private assertOutside(): void {
    if (this.current !== null && this.inside.getStore() === this.current) {
      throw new Error('a transaction used the database instead of its own handle: use the `t` passed to tx()');
    }
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      statement = this.raw.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** A first-come, first-served lock for one connection. */
class Gate {
  held = false;
  private readonly waiting: (() => void)[] = [];

  enter(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

function backoff(attempt: number): number {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function firstColumn<T>(row: unknown[] | undefined): T | undefined {
  return row === undefined ? undefined : (row[0] as T);
}

/** Runs driver work, turning better-sqlite3's errors into the store's own classes (by code, never by message). */
function guard<T>(work: () => T): T {
  try {
    return work();
  } catch (e) {
    throw translate(e);
  }
}

/**
 * The `code` of a better-sqlite3 error, else undefined. Tested by name, not `instanceof`: the native addon
 * keeps the error class of the first copy of the module that loaded it (jest loads modules per test file).
 */
function sqliteCode(e: unknown): string | undefined {
  const err = e as { name?: unknown; code?: unknown } | null;
  return err !== null && typeof err === 'object' && err.name === 'SqliteError' && typeof err.code === 'string' ? err.code : undefined;
}

function translate(e: unknown): unknown {
  const code = sqliteCode(e);
  if (code === undefined) return e;
  if (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code)) return new StoreBusy('the database stayed locked past the busy timeout', { cause: e });
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new ConstraintViolation('unique', (e as Error).message, { cause: e });
  }
  if (code === 'SQLITE_CONSTRAINT_CHECK') return new ConstraintViolation('check', (e as Error).message, { cause: e });
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new ConstraintViolation('foreign_key', (e as Error).message, { cause: e });
  if (code.startsWith('SQLITE_CONSTRAINT')) return new ConstraintViolation('other', (e as Error).message, { cause: e });
  return e;
}

function reason(e: unknown): string {
  const code = sqliteCode(e) ?? (e as { code?: string }).code;
  const message = e instanceof Error ? e.message : String(e);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
