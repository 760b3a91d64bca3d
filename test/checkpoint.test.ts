import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import parsePrometheus from 'parse-prometheus-text-format';
import { SqliteDatabase } from '../src/store/sqlite.js';
import { rawSqlite, testService } from './support.js';

// SQLite only: PostgreSQL checkpoints in its own server processes.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edumap-checkpoint-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `rows` rows of about 1 kB each, in transactions of 500. */
async function write(db: SqliteDatabase, rows: number): Promise<void> {
  await db.run('CREATE TABLE IF NOT EXISTS filler (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  for (let start = 0; start < rows; start += 500) {
    await db.tx(async (t) => {
      for (let k = start; k < Math.min(rows, start + 500); k++) await t.run('INSERT INTO filler (v) VALUES (?)', ['x'.repeat(1000)]);
    });
  }
}

async function until(what: string, test: () => boolean, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !test();) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("the service's connection never checkpoints inside a commit", async () => {
  const svc = await testService({ seed: false });
  try {
    expect(rawSqlite(svc).pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect((svc.db as SqliteDatabase).checkpointer).toBeDefined();
  } finally {
    await svc.close();
  }
});

test("/metrics shows the checkpoint thread's counters", async () => {
  const svc = await testService({ seed: false });
  try {
    const checkpointer = (svc.db as SqliteDatabase).checkpointer!;
    Object.assign(checkpointer, { checkpoints: 7, failures: 1, truncations: 2, walFrames: 900, framesLeft: 40 });
    const families = new Map(parsePrometheus((await request(svc.app).get('/metrics')).text).map((f) => [f.name, Number(f.metrics[0]?.value)]));
    expect(['checkpoints', 'checkpoint_failures', 'truncations', 'frames', 'frames_left'].map((k) => families.get(`edumap_wal_${k}`)))
      .toEqual([7, 1, 2, 900, 40]);
  } finally {
    await svc.close();
  }
});

test('the checkpoint thread copies the WAL into the file while the connection writes, and ends with it', async () => {
  const path = join(dir, 'a.db');
  const db = SqliteDatabase.open(path, { checkpoint: { everyMs: 20, startBytes: 1024 * 1024, truncateAboveBytes: 64 * 1024 * 1024 } });
  const checkpointer = db.checkpointer!;
  await write(db, 500); // about 0.5 MB of WAL: below the start, no thread yet
  await new Promise((r) => setTimeout(r, 200));
  expect(checkpointer.checkpoints).toBe(0);
  await write(db, 3000);
  await until('a checkpoint of every frame', () => checkpointer.checkpoints > 0 && checkpointer.walFrames > 0 && checkpointer.framesLeft === 0);
  expect(checkpointer.failures).toBe(0);
  // Another connection finds every frame of the WAL already in the file (nothing left to copy).
  const other = new Database(path);
  const [state] = other.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  expect(state.checkpointed).toBe(state.log);
  other.close();
  await db.close(); // ends the thread: jest would report it left open
  expect(new Database(path, { readonly: true }).prepare('SELECT count(*) FROM filler').pluck().get()).toBe(3500);
});

test('a WAL grown past its bound is cut back once all of it is in the file, by the thread', async () => {
  const path = join(dir, 'c.db');
  const db = SqliteDatabase.open(path, { checkpoint: { everyMs: 20, startBytes: 0, truncateAboveBytes: 1024 * 1024 } });
  const reader = new Database(path, { readonly: true });
  // A reader holding an old snapshot: the WAL grows past the bound and cannot be cut meanwhile.
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM sqlite_master').get();
  await write(db, 3000);
  await new Promise((r) => setTimeout(r, 200));
  expect(db.checkpointer!.truncations).toBe(0);
  expect(statSync(`${path}-wal`).size).toBeGreaterThan(1024 * 1024);
  reader.exec('COMMIT');
  reader.close();
  await until('the WAL cut back', () => db.checkpointer!.truncations > 0);
  expect(statSync(`${path}-wal`).size).toBe(0);
  await write(db, 10); // and written on as before
  await db.close();
  expect(new Database(path, { readonly: true }).prepare('SELECT count(*) FROM filler').pluck().get()).toBe(3010);
});

test('without a checkpoint thread, commits checkpoint as SQLite does by default', async () => {
  const db = SqliteDatabase.open(join(dir, 'b.db'));
  expect(db.checkpointer).toBeUndefined();
  expect(db.raw.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  await db.close();
});
