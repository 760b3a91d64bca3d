import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/log.js';
import { secrets, DEV_SECRETS_FILE } from '../src/secrets.js';
import { bumpStructure } from '../src/store/db.js';
import { formatShanghai } from '../src/time.js';
import { ADMIN_KEY, HEADER, ROOT, TEST_DATA_KEY, TEST_HASH_KEY, csvLine, phoneNumber, rawSqlite, testService, type TestService, OPERATOR } from './support.js';

const HOUR = 3_600_000;
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * 86_400_000)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number) => formatShanghai(new Date(day0 + hours * HOUR));
const museum = { id: 'museum', name: '博物馆', type: 'museum', lng: 116.3974, lat: 39.9051, tags: 'zhi', address: '东长安街16号' };

/** Runs `src/server.ts` with exactly `env` (plus PATH); resolves when it exits, or kills it after `ms`. */
function runServer(env: Record<string, string>, ms = 15_000) { // a hang is minutes; a loaded CI machine starts tsx in seconds
  return new Promise<{ code: number | null; stderr: string; elapsedMs: number; killed: boolean }>((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT, env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, elapsedMs: Date.now() - started, killed });
    });
  });
}

describe('secrets fail closed', () => {
  test('in production, start-up without EDUMAP_HASH_KEY is refused with one line, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edumap-sec-'));
    try {
      const run = await runServer({ NODE_ENV: 'production', EDUMAP_DB: join(dir, 'x.db'), EDUMAP_DATA_KEY: TEST_DATA_KEY, EDUMAP_DEV: '1' });
      expect(run.killed).toBe(false);
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^edumap: EDUMAP_HASH_KEY is not set/);
      expect(existsSync(join(dir, 'x.db'))).toBe(false); // refused before anything was created
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('outside development and tests, missing keys are refused too; EDUMAP_DEV=1 makes development keys once and keeps them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edumap-sec-'));
    try {
      const db = join(dir, 'edumap.db');
      expect(() => secrets({}, db)).toThrow(/EDUMAP_HASH_KEY and EDUMAP_DATA_KEY are not set/);
      expect(() => secrets({ EDUMAP_HASH_KEY: 'short' }, db)).toThrow(/at least 32 characters/);
      expect(() => secrets({ EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: 'zz' }, db)).toThrow(/64 hexadecimal/);
      const first = secrets({ EDUMAP_DEV: '1' }, db);
      expect(first.devSecrets).toBe(true);
      expect(first.hashKey.length).toBeGreaterThanOrEqual(32);
      expect(first.dataKey).toHaveLength(32);
      const again = secrets({ EDUMAP_DEV: '1' }, db);
      expect(again.hashKey).toBe(first.hashKey); // the stored hashes stay valid across restarts
      expect(JSON.parse(readFileSync(join(dir, DEV_SECRETS_FILE), 'utf8')).hashKey).toBe(first.hashKey);
      expect(secrets({ EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: TEST_DATA_KEY }, db)).toMatchObject({ hashKey: TEST_HASH_KEY, devSecrets: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad EDUMAP_DB ends with one line naming the path and the cause, exit 1, never a hang', async () => {
    const keys = { EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: TEST_DATA_KEY };
    const proc = await runServer({ ...keys, EDUMAP_DB: '/proc/x/y.db' });
    expect(proc.killed).toBe(false);
    expect(proc.code).toBe(1);
    expect(proc.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^edumap: cannot open the SQLite database \/proc\/x\/y\.db: .+/)]);

    const notADatabase = await runServer({ ...keys, EDUMAP_DB: join(ROOT, 'package.json') });
    expect(notADatabase.code).toBe(1);
    expect(notADatabase.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^edumap: cannot open the SQLite database .*package\.json: .*not a database/)]);
  });
});

describe('booking tokens, rate limits and output', () => {
  let svc: TestService;
  beforeEach(async () => {
    svc = await testService({ seed: false, config: { bookingPerMinute: 300 } });
    await svc.importText([HEADER, csvLine(museum)].join('\n'));
  });
  afterEach(() => svc.close());

  async function bookOne() {
    const [slot] = await svc.bookings.createSlots('museum', [{ start: at(9), end: at(10), capacity: { individual: 10 } }], OPERATOR);
    const res = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'k1')
      .send({ slot_id: slot.id, kind: 'individual', party_size: 1, contact: { name: '王', phone: phoneNumber(1) } });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  }

  test('a token computed from the booking id with any key does not open the booking; the real one does', async () => {
    const booking = await bookOne();
    for (const key of [TEST_HASH_KEY, 'edumap-dev-hash-key-not-for-production']) {
      const derived = createHmac('sha256', key).update('booking-token').update('\0').update(booking.id).digest('base64url');
      const res = await request(svc.app).get(`/v1/bookings/${booking.id}`).set('Authorization', `Bearer ${derived}`);
      expect(res.status).toBe(404);
    }
    expect((await request(svc.app).get(`/v1/bookings/${booking.id}`).set('Authorization', `Bearer ${booking.token}`)).status).toBe(200);
    // Stored only as its SHA-256: the token is nowhere in the database file.
    expect(readFileSync(svc.config.dbPath).includes(Buffer.from(booking.token))).toBe(false);
  });

  test('a made-up Bearer gets no fresh bucket: the 301st booking request of one address in a minute is 429 with or without it', async () => {
    for (let k = 0; k < 300; k++) {
      const res = await request(svc.app).post('/v1/bookings').send({});
      expect(res.status).toBe(400);
    }
    const made = await request(svc.app).post('/v1/bookings').set('Authorization', `Bearer x${Math.random()}`).send({});
    expect(made.status).toBe(429);
    const bare = await request(svc.app).post('/v1/bookings').send({});
    expect(bare.status).toBe(429);
  });

  test('an .ics of a resource named with a bare CR has no extra property line', async () => {
    const booking = await bookOne();
    // Import refuses control characters; older data may hold them, so write one straight into the store.
    rawSqlite(svc).prepare("UPDATE resources SET doc = json_set(doc, '$.name', ?) WHERE id = 'museum'").run('Museum\rATTACH:https://evil.example/x');
    await svc.db.tx((t) => bumpStructure(t).then(() => undefined)); // records changed underneath: a full rebuild
    await svc.holder.rebuild();
    const res = await request(svc.app).get(`/v1/bookings/${booking.id}.ics`).set('Authorization', `Bearer ${booking.token}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toMatch(/\r(?!\n)/); // no bare CR anywhere
    const lines = res.text.replace(/\r\n /g, '').split('\r\n');
    expect(lines.filter((l) => l.startsWith('ATTACH'))).toEqual([]);
    expect(lines.find((l) => l.startsWith('SUMMARY:'))).toMatch(/^SUMMARY:Museum\\nATTACH:https:\/\/evil\.example\/x/);
  });

  test('a log written during a request to /v1/x/13912345678 does not contain the number', async () => {
    const lines: string[] = [];
    const log = createLogger({ logLevel: 'info' }, { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream);
    const app = createApp({ ...svc, log });
    expect((await request(app).get('/v1/x/13912345678?phone=13912345678')).status).toBe(404);
    expect((await request(app).get('/v1/resources/13912345678')).status).toBe(404);
    const text = lines.join('');
    expect(text).not.toContain('13912345678');
    expect(text).toContain('"route":"unmatched"');
    expect(text).toContain('"route":"/v1/resources/:id"');
  });

  test('a known path with a wrong method is a 405 naming the allowed ones', async () => {
    const res = await request(svc.app).put('/v1/resources');
    expect(res.status).toBe(405);
    expect(res.type).toBe('application/problem+json');
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body.type).toBe('https://edumap.dev/problems/method_not_allowed');
    const booking = await request(svc.app).patch('/v1/bookings/bk_x');
    expect(booking.status).toBe(405);
    expect(booking.headers.allow).toBe('DELETE, GET, HEAD');
    expect((await request(svc.app).put('/v1/nothing-here')).status).toBe(404);
  });

  test('repeated visitor conflicts from one client are rate limited', async () => {
    const slots = await svc.bookings.createSlots('museum', [{ start: at(9), end: at(10), capacity: { individual: 100 } }], OPERATOR);
    const { residentId } = await import('./support.js');
    const body = (k: number) => ({ slot_id: slots[0].id, kind: 'individual', party_size: 1, contact: { name: '王', phone: phoneNumber(k) }, visitor_ids: [residentId(1)] });
    expect((await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'first').send(body(0))).status).toBe(201);
    const statuses: number[] = [];
    for (let k = 1; k <= svc.config.visitorConflictsPerHour + 1; k++) {
      statuses.push((await request(svc.app).post('/v1/bookings').set('Idempotency-Key', `again-${k}`).send(body(k))).status);
    }
    expect(statuses.slice(0, -1).every((s) => s === 409)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // A booking without visitor IDs is not held back by it.
    const plain = { ...body(99), visitor_ids: undefined };
    expect((await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'plain').send(plain)).status).toBe(201);
  });

  test('an admin key is valid for rate limiting: its requests have their own bucket', async () => {
    for (let k = 0; k < 300; k++) await request(svc.app).post('/v1/bookings').send({});
    const keyed = await request(svc.app).post('/v1/bookings').set('Authorization', `Bearer ${ADMIN_KEY}`).send({});
    expect(keyed.status).toBe(400);
  });
});
