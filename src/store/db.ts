import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the SQLite database: WAL, foreign keys on, a busy timeout so that several
 * processes can share the file, and every pending migration applied in one transaction each.
 */
export function openDb(path: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('temp_store = FILE');
  db.pragma('cache_size = -32768'); // 32 MiB: bulk imports touch several large B-trees
  db.pragma('temp.cache_size = -32768');
  migrate(db, migrations);
  return db;
}

/** Applies the migrations not yet recorded, in version order. Returns the versions applied. */
export function migrate(db: Db, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[],
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const done: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    // IMMEDIATE: two processes starting together must not both apply the same migration.
    db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version);
      if (again) return;
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
      done.push(m.version);
    }).immediate();
  }
  return done;
}

/**
 * A counter bumped by every committed write batch that changes what queries see (imports, areas).
 * Servers compare it to the value their snapshot was built from.
 */
export function dataGeneration(db: Db): number {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'generation'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

/** Bumps the data generation; call inside the write batch's transaction. */
export function bumpGeneration(db: Db): number {
  const next = dataGeneration(db) + 1;
  db.prepare("INSERT INTO meta (key, value) VALUES ('generation', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
    .run(String(next));
  return next;
}
