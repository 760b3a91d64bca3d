import { openStore, migrate } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { POSTGRES_DDL } from '../../src/store/migrations-pg.js';
import { PostgresDatabase } from '../../src/store/postgres.js';
import { ConstraintViolation, StoreBusy, StoreUnavailable, type Database } from '../../src/store/sql.js';
import { createTestDatabase, dropTestDatabase } from './databases.js';

// The PostgreSQL Database against a real server: what store modules rely on, as sql.ts states it.

let url: string;
let db: Database;
beforeEach(async () => {
  url = await createTestDatabase();
  db = await openStore(url);
  await db.tx((t) => t.exec(`CREATE TABLE probe (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER CHECK (n >= 0),
    ms BIGINT, blob BYTEA, parent BIGINT REFERENCES probe(id))`));
});
afterEach(async () => {
  await db.close();
  await dropTestDatabase(url);
});

describe('statements', () => {
  test('? placeholders are numbered; a ? inside a literal, a quoted name or a comment stays', async () => {
    await db.run("INSERT INTO probe (name, n) VALUES (?, ?) -- what? \n", ['a?b', 1]);
    expect(await db.get(`SELECT name, 'is it?' AS "q?", /* ? */ n FROM probe WHERE name = ? AND n = ?`, ['a?b', 1]))
      .toEqual({ name: 'a?b', 'q?': 'is it?', n: 1 });
    expect(await db.value("SELECT E'it''s \\\\? ' || ? ", ['x'])).toBe("it's \\? x");
  });

  test('counts, BIGINT epoch ms and sums are numbers; a comparison is 1/0; bytea is a Buffer both ways', async () => {
    const ms = Date.parse('2026-05-01T09:00:00+08:00');
    const blob = Buffer.from([0, 1, 2, 255]);
    await db.run('INSERT INTO probe (name, n, ms, blob) VALUES (?, ?, ?, ?)', ['a', 2, ms, blob]);
    await db.run('INSERT INTO probe (name, n, ms) VALUES (?, ?, ?)', ['b', 3, ms + 1]);
    expect(await db.value('SELECT count(*) FROM probe')).toBe(2);
    expect(await db.value('SELECT sum(n) FROM probe')).toBe(5);
    expect(await db.value('SELECT sum(ms) FROM probe')).toBe(2 * ms + 1);
    expect(await db.get('SELECT id, ms, blob IS NOT NULL AS has FROM probe WHERE name = ?', ['a'])).toEqual({ id: 1, ms, has: 1 });
    expect(await db.value('SELECT blob FROM probe WHERE blob = ?', [blob])).toEqual(blob);
    expect(await db.value("SELECT CAST(CAST('41' AS BIGINT) + 1 AS TEXT)")).toBe('42');
    expect(await db.value('SELECT max(n) FROM probe WHERE n > ?', [10])).toBeNull();
    expect(await db.value('SELECT n FROM probe WHERE n > ?', [10])).toBeUndefined();
  });

  test('run() counts the rows an INSERT … ON CONFLICT DO NOTHING, an UPDATE or a DELETE changed', async () => {
    expect(await db.run('INSERT INTO probe (name) VALUES (?) ON CONFLICT DO NOTHING', ['a'])).toEqual({ changes: 1 });
    expect(await db.run('INSERT INTO probe (name) VALUES (?) ON CONFLICT DO NOTHING', ['a'])).toEqual({ changes: 0 });
    expect(await db.run("INSERT INTO probe (name) SELECT 'b' WHERE true ON CONFLICT (name) DO NOTHING")).toEqual({ changes: 1 });
    expect(await db.run('UPDATE probe SET n = 1')).toEqual({ changes: 2 });
    expect(await db.run('DELETE FROM probe WHERE n = 7')).toEqual({ changes: 0 });
  });
});

describe('transactions', () => {
  test('commit on resolve, roll back on throw; a savepoint undoes its own part and the transaction goes on', async () => {
    await expect(db.tx(async (t) => {
      await t.run("INSERT INTO probe (name) VALUES ('gone')");
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    await db.tx(async (t) => {
      await t.run("INSERT INTO probe (name) VALUES ('kept')");
      await expect(t.savepoint((inner) => inner.run("INSERT INTO probe (name) VALUES ('kept')"))).rejects.toBeInstanceOf(ConstraintViolation);
      await t.savepoint(async (inner) => {
        await inner.run("INSERT INTO probe (name) VALUES ('undone')");
        throw new Error('undo');
      }).catch(() => undefined);
      await t.run("INSERT INTO probe (name) VALUES ('after')");
    });
    expect((await db.all<{ name: string }>('SELECT name FROM probe ORDER BY id')).map((r) => r.name)).toEqual(['kept', 'after']);
  });

  test('a failure caught without a savepoint is refused at commit, loudly, and nothing is written', async () => {
    await expect(db.tx(async (t) => {
      await t.run("INSERT INTO probe (name) VALUES ('x')");
      await t.run("INSERT INTO probe (name) VALUES ('x')").catch(() => undefined);
    })).rejects.toThrow(/savepoint/);
    expect(await db.value('SELECT count(*) FROM probe')).toBe(0);
  });

  test('the database itself used inside its own transaction is an error, not a wait for itself', async () => {
    await expect(db.tx(() => db.value('SELECT 1'))).rejects.toThrow(/use the `t` passed to tx/);
    expect(await db.value('SELECT 1')).toBe(1); // the pool was not left short of a connection
  });

  test('a read transaction sees one state: a commit made meanwhile is not seen until it ends', async () => {
    await db.run("INSERT INTO probe (name) VALUES ('first')");
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const counts: number[] = [];
    const reading = db.tx(async (t) => {
      counts.push((await t.value<number>('SELECT count(*) FROM probe'))!);
      await held;
      counts.push((await t.value<number>('SELECT count(*) FROM probe'))!);
    }, 'read');
    await new Promise((r) => setTimeout(r, 50));
    await db.run("INSERT INTO probe (name) VALUES ('second')");
    release();
    await reading;
    expect(counts).toEqual([1, 1]);
    await expect(db.tx((t) => t.run("INSERT INTO probe (name) VALUES ('no')"), 'read')).rejects.toThrow(/read-only/);
  });
});

describe('errors by SQLSTATE', () => {
  test('unique, check and foreign key violations are ConstraintViolation of that kind', async () => {
    await db.run("INSERT INTO probe (name) VALUES ('a')");
    await expect(db.run("INSERT INTO probe (name) VALUES ('a')")).rejects.toMatchObject({ name: 'ConstraintViolation', kind: 'unique' });
    await expect(db.run("INSERT INTO probe (name, n) VALUES ('b', -1)")).rejects.toMatchObject({ kind: 'check' });
    await expect(db.run("INSERT INTO probe (name, parent) VALUES ('c', 999)")).rejects.toMatchObject({ kind: 'foreign_key' });
    await expect(db.run('INSERT INTO probe (n) VALUES (1)')).rejects.toMatchObject({ kind: 'other' });
  });

  test('a lock held past the lock timeout, a deadlock and a statement past its timeout are StoreBusy', async () => {
    const quick = PostgresDatabase.open(url, { busyTimeoutMs: 150, statementTimeoutMs: 300 });
    try {
      await db.run("INSERT INTO probe (name, n) VALUES ('a', 1), ('b', 1)");
      let release!: () => void;
      const held = new Promise<void>((r) => { release = r; });
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => { locked = r; });
      const holder = db.tx(async (t) => {
        await t.run("UPDATE probe SET n = 2 WHERE name = 'a'");
        locked();
        await held;
      });
      await isLocked;
      const started = Date.now();
      await expect(quick.run("UPDATE probe SET n = 3 WHERE name = 'a'")).rejects.toBeInstanceOf(StoreBusy);
      expect(Date.now() - started).toBeLessThan(2000);
      release();
      await holder;

      await expect(quick.value('SELECT pg_sleep(2)')).rejects.toBeInstanceOf(StoreBusy);

      // Two transactions lock a and b in opposite orders: PostgreSQL breaks the cycle, one of them is StoreBusy.
      const gate: (() => void)[] = [];
      const both = new Promise<void>((r) => { let n = 0; gate.push(() => { if (++n === 2) r(); }); });
      const cross = (first: string, second: string) => db.tx(async (t) => {
        await t.run('UPDATE probe SET n = n + 1 WHERE name = ?', [first]);
        gate[0]();
        await both;
        await t.run('UPDATE probe SET n = n + 1 WHERE name = ?', [second]);
      });
      const outcomes = await Promise.allSettled([cross('a', 'b'), cross('b', 'a')]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(StoreBusy);
    } finally {
      await quick.close();
    }
  });

  test('a server that cannot be reached is StoreUnavailable naming the host and database, never the password', async () => {
    const missing = new URL(url);
    missing.password = 'sekrit-pw';
    missing.pathname = '/no_such_database';
    const err = await openStore(missing.toString()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailable);
    expect((err as Error).message).toContain(`${missing.hostname}:${missing.port}/no_such_database`);
    const closed = await openStore('postgres://edumap:sekrit-pw@127.0.0.1:1/edumap', { connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(StoreUnavailable);
    expect((closed as Error).message).toMatch(/127\.0\.0\.1:1\/edumap.*ECONNREFUSED/);
    for (const e of [err, closed]) expect(`${(e as Error).message} ${(e as Error).stack}`).not.toContain('sekrit-pw');
    await expect(PostgresDatabase.open('postgres://x@127.0.0.1:1/x', { connectTimeoutMs: 500 }).ping(300)).rejects.toBeInstanceOf(StoreUnavailable);
  });
});

describe('migrations', () => {
  test('two replicas starting at once on an empty database: both open, every migration applied once', async () => {
    const fresh = await createTestDatabase();
    const admin = PostgresDatabase.open(fresh);
    try {
      // Every table the template's migrations made, whatever they are by now.
      const tables = (await admin.all<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")).map((t) => t.name);
      await admin.run(`DROP TABLE IF EXISTS ${tables.join(', ')} CASCADE`);
      const [a, b] = await Promise.all([openStore(fresh), openStore(fresh)]);
      await Promise.all([a.close(), b.close()]);
      const versions = await admin.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await admin.value("SELECT count(*) FROM batches WHERE kind = 'legacy'")).toBe(1);
    } finally {
      await admin.close();
      await dropTestDatabase(fresh);
    }
  });

  test('the PostgreSQL schema has SQLite\'s tables, columns, NOT NULLs and named indexes', async () => {
    const lite = await openStore(':memory:');
    try {
      const columns = async (d: Database, sql: string) => (await d.all<{ t: string; c: string; nn: number }>(sql)).map((r) => `${r.t}.${r.c}${r.nn ? '!' : ''}`).sort();
      const liteColumns = await columns(lite, `SELECT m.name AS t, p.name AS c, (p."notnull" OR p.pk) AS nn FROM sqlite_master m
        JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'probe'`);
      const pgColumns = await columns(db, `SELECT table_name AS t, column_name AS c, is_nullable = 'NO' AS nn FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'probe'`);
      expect(pgColumns).toEqual(liteColumns);
      const liteIndexes = await lite.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name");
      const pgIndexes = await db.all<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'
        AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' AND tablename <> 'probe' ORDER BY indexname`);
      expect(pgIndexes).toEqual(liteIndexes);
    } finally {
      await lite.close();
    }
  });

  test('a migration without PostgreSQL DDL stops the start before anything is applied', async () => {
    const next = { version: 1000, name: 'a future migration', sql: 'CREATE TABLE future (id INTEGER PRIMARY KEY)' };
    const later = { version: 1001, name: 'another', sql: 'CREATE TABLE later (id INTEGER PRIMARY KEY)' };
    await expect(migrate(db, [...MIGRATIONS, next, later], new Map([...POSTGRES_DDL, [1001, 'CREATE TABLE later (id INTEGER PRIMARY KEY)']])))
      .rejects.toThrow(/migration 1000 \(a future migration\) has no PostgreSQL DDL/);
    expect(await db.value("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('future', 'later')")).toBe(0);
    expect(await db.value('SELECT max(version) FROM schema_migrations')).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
  });
});
