import { MIGRATIONS, type Migration } from './migrations.js';
import { POSTGRES_DDL } from './migrations-pg.js';
import { SqliteDatabase } from './sqlite.js';
import type { CheckpointOptions } from './checkpointer.js';
import { PostgresDatabase, type PostgresOptions } from './postgres.js';
import type { Database, Sql, Tx } from './sql.js';

export type { Database, Sql, Tx } from './sql.js';

/** Whether a store location is a PostgreSQL URL (`postgres://…` or `postgresql://…`) rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Opens the store named by `location` — a PostgreSQL URL, else a SQLite file path (or `:memory:`) — and
 * applies every pending migration. Throws StoreUnavailable naming the location (never a password) and the
 * cause when it cannot be opened or reached.
 */
export async function openStore(location: string, options: { migrations?: readonly Migration[]; checkpoint?: CheckpointOptions } & PostgresOptions = {}): Promise<Database> {
  const db = isPostgresUrl(location) ? PostgresDatabase.open(location, options) : SqliteDatabase.open(location, options);
  try {
    await migrate(db, options.migrations ?? MIGRATIONS);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

/** Every migrator of a PostgreSQL database takes this advisory lock first, so replicas starting together migrate once. */
const MIGRATION_LOCK = 'SELECT pg_advisory_xact_lock(1701082477)'; // 'edum' in ASCII

/**
 * Applies the migrations not yet recorded, in version order, one write transaction each; two processes
 * starting together wait for each other (SQLite's write lock; on PostgreSQL an advisory lock taken first in
 * each transaction, DDL being transactional there), and the second finds the work done. On PostgreSQL each
 * migration runs its entry of `postgres` (default: `migrations-pg.ts`); a version without one stops here,
 * before anything is applied. Returns the versions applied.
 */
export async function migrate(db: Database, migrations: readonly Migration[], postgres: ReadonlyMap<number, string> = POSTGRES_DDL): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const ddl = (m: Migration) => (db.dialect === 'postgres' ? postgres.get(m.version) : m.sql);
  const missing = sorted.filter((m) => ddl(m) === undefined);
  if (missing.length) {
    throw new Error(`migration ${missing.map((m) => `${m.version} (${m.name})`).join(', ')} has no PostgreSQL DDL: add it to src/store/migrations-pg.ts`);
  }
  const locked = async (t: Tx) => {
    if (db.dialect !== 'postgres') return;
    // A migration may build an index over millions of rows, and a replica may wait for another's migration.
    await t.exec(`SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = '15min'; ${MIGRATION_LOCK}`);
  };
  await db.tx(async (t) => {
    await locked(t);
    await t.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  });
  const done: number[] = [];
  for (const m of sorted) {
    await db.tx(async (t) => {
      await locked(t);
      if (await t.value('SELECT 1 FROM schema_migrations WHERE version = ?', [m.version])) return;
      await t.exec(ddl(m)!);
      await t.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date().toISOString()]);
      done.push(m.version);
    });
  }
  return done;
}

/**
 * A counter bumped by every committed write batch that changes what queries see (imports, areas).
 * Servers compare it to the value their snapshot was built from.
 */
export async function dataGeneration(sql: Sql): Promise<number> {
  const value = await sql.value<string>("SELECT value FROM meta WHERE key = 'generation'");
  return value === undefined ? 0 : Number(value);
}

/**
 * Where the store stands: the data generation, the structure counter (bumped by changes to areas and the
 * calendar, which every resource's answer depends on: snapshots must be rebuilt whole), and the last batch
 * publication (everything published up to it is visible).
 */
export interface StoreHead {
  generation: number;
  structure: number;
  publishedSeq: number;
}

/** The store's head (see `StoreHead`), read in the caller's transaction or alone. */
export async function storeHead(sql: Sql): Promise<StoreHead> {
  const rows = await sql.all<{ key: string; value: string }>(
    "SELECT key, value FROM meta WHERE key IN ('generation', 'structure', 'publish_seq')");
  const of = (key: string) => Number(rows.find((r) => r.key === key)?.value ?? 0);
  return { generation: of('generation'), structure: of('structure'), publishedSeq: of('publish_seq') };
}

/**
 * Bumps the structure counter and the data generation: call inside a transaction that changes areas or
 * calendar years (what every snapshot is built against).
 */
export async function bumpStructure(t: Sql): Promise<number> {
  await t.run("INSERT INTO meta (key, value) VALUES ('structure', '0') ON CONFLICT (key) DO NOTHING");
  await t.run("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'structure'");
  return bumpGeneration(t);
}

/** Bumps the data generation; call inside the write batch's transaction. Returns the new value. */
export async function bumpGeneration(t: Sql): Promise<number> {
  await t.run("INSERT INTO meta (key, value) VALUES ('generation', '0') ON CONFLICT (key) DO NOTHING");
  const next = Number(await t.value<string>("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'generation' RETURNING value"));
  await notifyChange(t, 'generation', next);
  return next;
}

/**
 * Holds the row of `meta` named `key` until the transaction ends (created empty when absent): transactions
 * that call this first run one after another across processes, and under READ COMMITTED each then reads
 * what the one before it committed. For a job whose counts must see every other run's writes.
 */
export async function serializeOn(t: Tx, key: string): Promise<void> {
  await t.run("INSERT INTO meta (key, value) VALUES (?, '0') ON CONFLICT (key) DO NOTHING", [key]);
  await t.run('UPDATE meta SET value = value WHERE key = ?', [key]);
}

/** The channel on which PostgreSQL writers announce a moved counter (`store/signals.ts` listens). */
export const CHANGES_CHANNEL = 'edumap_changes';

/**
 * On PostgreSQL, announces in the writing transaction that a counter moved (`generation:12`, `slots:340`):
 * the notification is delivered when, and only if, the transaction commits. Nothing on SQLite, whose
 * processes poll.
 */
export async function notifyChange(t: Sql, counter: 'generation' | 'slots', value: number): Promise<void> {
  if (t.dialect === 'postgres') await t.value('SELECT pg_notify(?, ?)', [CHANGES_CHANNEL, `${counter}:${value}`]);
}
