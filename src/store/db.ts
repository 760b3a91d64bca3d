import { MIGRATIONS, type Migration } from './migrations.js';
import { SqliteDatabase } from './sqlite.js';
import type { Database, Sql } from './sql.js';

export type { Database, Sql, Tx } from './sql.js';

/**
 * Opens the store named by `location` (a SQLite file path, or `:memory:`) and applies every pending
 * migration. Throws StoreUnavailable naming the location and the cause when it cannot be opened.
 */
export async function openStore(location: string, options: { migrations?: readonly Migration[]; busyTimeoutMs?: number } = {}): Promise<Database> {
  const db = SqliteDatabase.open(location, options);
  try {
    await migrate(db, options.migrations ?? MIGRATIONS);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

/**
 * Applies the migrations not yet recorded, in version order, one write transaction each (two processes
 * starting together wait for each other, and the second finds the work done). Returns the versions applied.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<number[]> {
  await db.tx((t) => t.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`));
  const done: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    await db.tx(async (t) => {
      if (await t.value('SELECT 1 FROM schema_migrations WHERE version = ?', [m.version])) return;
      await t.exec(m.sql);
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
  const next = await t.value<string>("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation' RETURNING value");
  return Number(next);
}
