import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { STORE_TABLES } from '../../src/store/copy-store.js';
import { openStore } from '../../src/store/db.js';
import type { Database } from '../../src/store/sql.js';
import { openService } from '../../src/service.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log.js';
import { formatShanghai } from '../../src/time.js';
import { OPERATOR, ROOT, phoneNumber, residentId, testService, type TestService } from '../support.js';
import { createTestDatabase, dropTestDatabase } from './databases.js';

// npm run migrate-store: a seeded SQLite store copied into PostgreSQL, table by table, and read back.

const HOUR = 3_600_000;
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * 24 * HOUR)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number) => formatShanghai(new Date(day0 + hours * HOUR));

let lite: TestService;
let url: string;
let token: { id: string; token: string };
beforeAll(async () => {
  lite = await testService({ seed: true, backend: 'sqlite' });
  const resource = lite.holder.current.base.idOf(0);
  await lite.bookings.rules.put(resource, { per_contact_daily: 4, no_show: { limit: 2 } }, OPERATOR);
  const [full, roomy] = await lite.bookings.createSlots(resource, [
    { start: at(9), end: at(10), capacity: { individual: 1 } },
    { start: at(10), end: at(11), capacity: { individual: 5, group: 40 }, group_size: { min: 15, max: 40 } },
  ], OPERATOR);
  const body = (slotId: number, k: number) => ({ slot_id: slotId, kind: 'individual' as const, party_size: 1,
    contact: { name: `家长${k}`, phone: phoneNumber(k) }, visitor_ids: [residentId(k)] });
  const first = (await lite.bookings.book(body(full.id, 1), 'k1')).booking!;
  token = { id: first.id, token: first.token! };
  await lite.bookings.book(body(roomy.id, 2), 'k2');
  const cancelled = (await lite.bookings.book(body(roomy.id, 3), 'k3')).booking!;
  await lite.bookings.cancel(cancelled.id, cancelled.token!);
  expect((await lite.bookings.waitlist.join(body(full.id, 4), 'w1')).entry).toBeDefined();
  await lite.keys.create({ role: 'venue', resources: [resource], label: '票务 "tab\tand\\backslash"' }, OPERATOR, () => true);
  url = await createTestDatabase();
}, 120_000);
afterAll(async () => {
  await lite?.close();
  if (url) await dropTestDatabase(url);
});

const migrateStore = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/migrate-store.ts', ...args],
  { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 120_000 });

/** Every row of a table, in the order of all its columns (the same order on both: byte-wise text, bytea). */
async function rows(db: Database, table: string): Promise<Record<string, unknown>[]> {
  const n = (await db.all(`SELECT * FROM ${table} LIMIT 1`)).length ? Object.keys((await db.get(`SELECT * FROM ${table}`))!).length : 1;
  return db.all(`SELECT * FROM ${table} ORDER BY ${Array.from({ length: n }, (_, k) => k + 1).join(', ')}`);
}

test('every table is copied with its ids, counters and bytes; the PostgreSQL service carries on where SQLite stopped', async () => {
  const run = migrateStore('--from', lite.config.dbPath, '--to', url);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  for (const table of STORE_TABLES) expect(run.stdout).toMatch(new RegExp(`^${table}\\t\\d+$`, 'm'));
  expect(run.stdout).toMatch(/copied \d+ rows of 16 tables/);

  const pg = await openStore(url);
  try {
    for (const table of STORE_TABLES) {
      const [a, b] = [await rows(lite.db, table), await rows(pg, table)];
      expect({ table, rows: b }).toEqual({ table, rows: a });
    }
    expect(await pg.value("SELECT count(*) FROM bookings WHERE status = 'confirmed'")).toBe(2);
  } finally {
    await pg.close();
  }

  // A replica on the copy: the same search, the booking's token still opens it, new ids follow the old ones.
  const config = { ...lite.config, dbPath: url };
  const service = await openService(config, createLogger(config));
  try {
    const app = createApp(service);
    const near = { near: '116.397,39.909', limit: 20 };
    expect((await request(app).get('/v1/resources').query(near)).body).toEqual((await request(lite.app).get('/v1/resources').query(near)).body);
    const mine = await request(app).get(`/v1/bookings/${token.id}`).set('Authorization', `Bearer ${token.token}`);
    expect(mine.status).toBe(200);
    expect(mine.body.contact.phone).toBe('139****0001');
    const maxSlot = (await lite.db.value<number>('SELECT max(id) FROM slots'))!;
    const [next] = await service.bookings.createSlots(service.holder.current.base.idOf(0), [{ start: at(20), end: at(21), capacity: { individual: 2 } }], OPERATOR);
    expect(next.id).toBe(maxSlot + 1);
    const maxAudit = (await lite.db.value<number>('SELECT max(seq) FROM audit_log'))!;
    expect(await service.db.value('SELECT max(seq) FROM audit_log')).toBe(maxAudit + 1);
  } finally {
    await service.close();
  }
}, 120_000);

test('a target that holds data is refused, naming it, and left as it was', async () => {
  const before = await openStore(url);
  const counts = async () => Promise.all(STORE_TABLES.map((t) => before.value(`SELECT count(*) FROM ${t}`)));
  const had = await counts();
  const run = migrateStore('--from', lite.config.dbPath, '--to', url);
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/is not empty \(table \w+ has rows\)/);
  expect(await counts()).toEqual(had);
  await before.close();
});

test('usage: both locations, a SQLite file and a PostgreSQL URL', () => {
  expect(migrateStore('--from', lite.config.dbPath).status).toBe(2);
  expect(migrateStore('--from', url, '--to', lite.config.dbPath).status).toBe(2);
  expect(migrateStore('--from', '/no/such/file.db', '--to', url)).toMatchObject({ status: 1, stderr: expect.stringMatching(/no SQLite file/) });
});
