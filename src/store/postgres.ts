import { AsyncLocalStorage } from 'node:async_hooks';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { StoreUnavailable, type Database, type RunResult, type SqlValue, type Tx } from './sql.js';
import { TYPES, positional, redact, translate } from './postgres-sql.js';

/** Settings of a PostgreSQL store; every one has a default. */
export interface PostgresOptions {
  /** Longest wait for a row or table lock before a statement gives up with StoreBusy, in ms (SQLite's busy timeout). */
  busyTimeoutMs?: number;
  /** Longest run of one statement before it is cancelled (StoreBusy), in ms. */
  statementTimeoutMs?: number;
  /** Connections of the pool: transactions and statements running at once. */
  poolSize?: number;
  /** Longest wait for a connection (opening one, or a free one of the pool) before StoreUnavailable, in ms. */
  connectTimeoutMs?: number;
}

const DEFAULTS: Required<PostgresOptions> = {
  busyTimeoutMs: 5000,
  statementTimeoutMs: 60_000, // a snapshot scan of 1M rows takes a few seconds; nothing should take a minute
  poolSize: 10,
  connectTimeoutMs: 5000,
};

/** A transaction's handle on PostgreSQL, with COPY for the bulk paths (the snapshot scan, migrate-store). */
export interface PgTx extends Tx {
  /** The text rows of `COPY (…) TO STDOUT`, streamed, as the server sends them. */
  copyOut(sql: string): AsyncIterable<Buffer>;
  /** Streams `rows` (COPY text format, each ending in `\n`) into `COPY … FROM STDIN`. */
  copyIn(sql: string, rows: AsyncIterable<string> | Iterable<string>): Promise<void>;
}

/** What a transaction knows of itself: the first failed statement (PostgreSQL aborted the transaction then). */
interface TxState { failed: unknown; savepoints: number }

/**
 * A PostgreSQL database (node-postgres pool) behind the `Database` interface: plain SQL, no extension, so
 * that PostgreSQL-compatible servers stay possible. A transaction holds one pooled connection from `BEGIN` to
 * `COMMIT`; write transactions run at READ COMMITTED (every rule that must hold under concurrency is one
 * conditional statement, a counter row or a constraint), read transactions at REPEATABLE READ, READ ONLY
 * (one consistent state). Lock and statement timeouts are set per connection, so nothing waits forever.
 */
export class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  /** One connection of its own for `ping`, so that a probe never queues behind the service's work. */
  private readonly probe: pg.Pool;
  private readonly inside = new AsyncLocalStorage<symbol>();
  private readonly open = new Set<symbol>();
  private closed: Promise<void> | null = null;

  private constructor(private readonly config: pg.PoolConfig, location: string) {
    this.location = location;
    this.pool = new pg.Pool(config);
    this.probe = new pg.Pool({ ...config, max: 1, idleTimeoutMillis: 30_000 });
    // An idle connection that the server closes (a restart) is dropped by the pool; without a listener its
    // 'error' event would end the process.
    this.pool.on('error', () => undefined);
    this.probe.on('error', () => undefined);
  }

  /**
   * The URL this store connects with, credentials included: for a thread of this process that opens its own
   * connection (the snapshot build worker). Never log it; `location` is the redacted form.
   */
  get connectionUrl(): string {
    return this.config.connectionString!;
  }

  /** A store over the database at `url` (`postgres://user:password@host:port/database`); connects lazily. */
  static open(url: string, options: PostgresOptions = {}): PostgresDatabase {
    const o = { ...DEFAULTS, ...options };
    return new PostgresDatabase({
      connectionString: url,
      max: o.poolSize,
      connectionTimeoutMillis: o.connectTimeoutMs,
      idleTimeoutMillis: 60_000,
      lock_timeout: o.busyTimeoutMs,
      statement_timeout: o.statementTimeoutMs,
      idle_in_transaction_session_timeout: Math.max(o.statementTimeoutMs * 2, 60_000), // a transaction whose process hung
      application_name: 'edumap',
      types: TYPES,
    }, redact(url));
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.outside(async () => (await this.pool.query({ text: positional(sql), values: params as unknown[] })).rows as T[]);
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  value<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.outside(async () => first<T>(await this.pool.query({ text: positional(sql), values: params as unknown[], rowMode: 'array' })));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.outside(async () => ({ changes: (await this.pool.query({ text: positional(sql), values: params as unknown[] })).rowCount ?? 0 }));
  }

  tx<T>(fn: (t: Tx) => Promise<T>, mode: 'write' | 'read' = 'write'): Promise<T> {
    return this.session(fn, mode);
  }

  /** `tx` with a handle that can COPY: for the bulk reads and writes of `src/store` that are PostgreSQL's own. */
  async session<T>(fn: (t: PgTx) => Promise<T>, mode: 'write' | 'read' = 'write'): Promise<T> {
    this.assertOutside();
    const client = await this.connect(this.pool);
    const token = Symbol('tx');
    const state: TxState = { failed: undefined, savepoints: 0 };
    let healthy = true; // a connection that failed is closed, not given back to the pool
    this.open.add(token);
    try {
      await this.command(client, mode === 'write' ? 'BEGIN ISOLATION LEVEL READ COMMITTED' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let result: T;
      try {
        result = await this.inside.run(token, () => fn(this.handle(client, state)));
        if (state.failed !== undefined) {
          throw new Error('a statement failed inside this transaction and the failure was caught: PostgreSQL rolled the whole '
            + 'transaction back. Run a statement whose failure is handled inside t.savepoint()', { cause: state.failed });
        }
      } catch (e) {
        if (e instanceof StoreUnavailable) healthy = false;
        else await client.query('ROLLBACK').catch(() => { healthy = false; });
        throw e;
      }
      await this.command(client, 'COMMIT');
      return result;
    } catch (e) {
      if (e instanceof StoreUnavailable) healthy = false;
      throw e;
    } finally {
      this.open.delete(token);
      client.release(healthy ? undefined : true);
    }
  }

  async ping(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable(`the PostgreSQL database ${this.location} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.probe.query('SELECT 1'), late]);
    } catch (e) {
      throw translate(e, this.location);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A new connection of its own with the store's settings, outside the pool (a LISTEN session, which must
   * outlive transactions), named `application_name` in pg_stat_activity. The caller connects it, listens
   * for its 'error' and ends it.
   */
  dedicatedClient(applicationName = 'edumap'): pg.Client {
    const { max: _max, idleTimeoutMillis: _idle, ...single } = this.config;
    return new pg.Client({ ...single, application_name: applicationName });
  }

  /** Closes the pool once the transactions running end; closing again does nothing. */
  close(): Promise<void> {
    this.closed ??= Promise.all([this.pool.end(), this.probe.end()]).then(() => undefined);
    return this.closed;
  }

  /** The statements of one transaction on `client`. */
  private handle(client: pg.PoolClient, state: TxState): PgTx {
    const query = async (config: pg.QueryConfig): Promise<pg.QueryResult> => {
      try {
        return await client.query(config);
      } catch (e) {
        state.failed ??= e;
        throw translate(e, this.location);
      }
    };
    const statement = (sql: string, params: readonly SqlValue[], rowMode?: 'array'): pg.QueryConfig =>
      ({ text: positional(sql), values: params as unknown[], ...(rowMode ? { rowMode } : {}) });
    const t: PgTx = {
      dialect: 'postgres',
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query(statement(sql, params))).rows as T[],
      get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query(statement(sql, params))).rows[0] as T | undefined,
      value: async <T>(sql: string, params: readonly SqlValue[] = []) => first<T>(await query(statement(sql, params, 'array'))),
      run: async (sql: string, params: readonly SqlValue[] = []) => ({ changes: (await query(statement(sql, params))).rowCount ?? 0 }),
      exec: async (script: string) => void (await query({ text: script })),
      savepoint: async <T>(fn: (inner: Tx) => Promise<T>): Promise<T> => {
        const name = `sp${++state.savepoints}`;
        await query({ text: `SAVEPOINT ${name}` });
        try {
          const result = await fn(t);
          await query({ text: `RELEASE SAVEPOINT ${name}` });
          return result;
        } catch (e) {
          if (!(e instanceof StoreUnavailable)) {
            await query({ text: `ROLLBACK TO SAVEPOINT ${name}` });
            state.failed = undefined; // the failure was undone with the savepoint: the transaction goes on
          }
          throw e;
        }
      },
      copyOut: (sql: string) => this.copyOut(client, sql, state),
      copyIn: async (sql: string, rows: AsyncIterable<string> | Iterable<string>) => {
        const source = new SourceFailure();
        try {
          await pipeline(Readable.from(source.watch(rows)), client.query(copyFrom(sql)));
        } catch (e) {
          state.failed ??= e;
          throw source.error ?? translate(e, this.location); // the rows' own failure is no database error
        }
      },
    };
    return t;
  }

  private async *copyOut(client: pg.PoolClient, sql: string, state: TxState): AsyncIterable<Buffer> {
    try {
      for await (const chunk of client.query(copyTo(sql))) yield chunk as Buffer;
    } catch (e) {
      state.failed ??= e;
      throw translate(e, this.location);
    }
  }

  private async connect(pool: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (e) {
      throw translate(e, this.location);
    }
  }

  /** BEGIN, COMMIT: a failure as the store's class (a lost connection is StoreUnavailable). */
  private async command(client: pg.PoolClient, sql: string): Promise<void> {
    try {
      await client.query(sql);
    } catch (e) {
      throw translate(e, this.location);
    }
  }

  /** A statement on the pool (autocommit), refused inside this database's own transaction (it would wait for itself). */
  private async outside<T>(work: () => Promise<T>): Promise<T> {
    this.assertOutside();
    try {
      return await work();
    } catch (e) {
      throw translate(e, this.location);
    }
  }

  private assertOutside(): void {
    const token = this.inside.getStore();
    if (token !== undefined && this.open.has(token)) {
      throw new Error('a transaction used the database instead of its own handle: use the `t` passed to tx()');
    }
  }
}

function first<T>(result: pg.QueryResult): T | undefined {
  const row = result.rows[0] as unknown[] | undefined;
  return row === undefined ? undefined : (row[0] as T);
}

/** Remembers what the rows given to COPY threw themselves, to tell it from the database's failure. */
class SourceFailure {
  error: unknown;

  async *watch(rows: AsyncIterable<string> | Iterable<string>): AsyncIterable<string> {
    try {
      yield* rows;
    } catch (e) {
      this.error = e;
      throw e;
    }
  }
}
