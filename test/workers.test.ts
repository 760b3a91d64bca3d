import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatShanghai } from '../src/time.js';
import { phoneNumber, residentId, startServer, testService, type ServerProcess, type TestService, OPERATOR, BACKEND, storedBytes } from './support.js';

// Real server processes on one database (a SQLite file, or PostgreSQL under npm run test:pg): what holds here holds in production with WORKERS=N.

const HOUR = 3_600_000;
const tomorrow = Date.parse(`${formatShanghai(new Date(Date.now() + 24 * HOUR)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number) => formatShanghai(new Date(tomorrow + 24 * HOUR + hours * HOUR));

let svc: TestService;
let resourceId: string;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  // The test's own service prepares the file (bundled data, slots) and reads it back; servers share it.
  svc = await testService({ seed: true });
  resourceId = svc.holder.current.base.idOf(0);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  await svc.close();
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  // Rate limits off: here one client stands for many families.
  const server = await startServer({ EDUMAP_DB: svc.config.dbPath, EDUMAP_POLL_MS: '200', EDUMAP_RATE_BOOKING_PER_MIN: '0',
    EDUMAP_RATE_SEARCH_PER_MIN: '0', ...env });
  servers.push(server);
  return server;
}

async function slot(hours: number, individual: number): Promise<number> {
  const [made] = await svc.bookings.createSlots(resourceId, [{ start: at(hours), end: at(hours + 1), capacity: { individual } }], OPERATOR);
  return made.id;
}

interface Sent { key: string; body: Record<string, unknown> }

function bookingRequests(slotId: number, n: number, first: number): Sent[] {
  return Array.from({ length: n }, (_, k) => ({
    key: `k-${slotId}-${k}`,
    body: {
      slot_id: slotId, kind: 'individual', party_size: 1,
      contact: { name: `家长${k}`, phone: k % 2 ? phoneNumber(first + k) : `+86 ${phoneNumber(first + k).replace(/(\d{3})(\d{4})(\d{4})/, '$1-$2-$3')}` },
      visitor_ids: [residentId(first + k)],
    },
  }));
}

async function post(url: string, { key, body }: Sent): Promise<{ status: number; body: Record<string, unknown>; replayed: string | null }> {
  const res = await fetch(`${url}/v1/bookings`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown>, replayed: res.headers.get('idempotent-replayed') };
}

const stored = async (slotId: number) => ({
  taken: (await svc.db.value<number>('SELECT taken_individual FROM slots WHERE id = ?', [slotId]))!,
  confirmed: (await svc.db.all<{ id: string }>("SELECT id FROM bookings WHERE slot_id = ? AND status = 'confirmed' ORDER BY id", [slotId])).map((r) => r.id),
  seats: (await svc.db.value<number>("SELECT coalesce(sum(party_size), 0) FROM bookings WHERE slot_id = ? AND status = 'confirmed'", [slotId]))!,
});

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

test('200 concurrent bookings at 3 workers for 50 places: exactly 50 confirmed, 150 refused, no 5xx; retries create nothing', async () => {
  const slotId = await slot(9, 50);
  const server = await start({ WORKERS: '3' });
  const deadline = Date.now() + 30_000;
  while ((server.output().match(/"msg":"edumap listening"/g) ?? []).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

  const requests = bookingRequests(slotId, 200, 0);
  const first = await Promise.all(requests.map((r) => post(server.url, r)));
  const statuses = first.map((r) => r.status);
  expect(count(statuses, 201)).toBe(50);
  expect(count(statuses, 409)).toBe(150);
  expect(first.filter((r) => r.status === 409).every((r) => r.body.type === 'https://edumap.dev/problems/slot_full')).toBe(true);
  expect(statuses.filter((s) => s >= 500)).toEqual([]);

  const confirmed = first.filter((r) => r.status === 201).map((r) => r.body.id as string).sort();
  expect(await stored(slotId)).toEqual({ taken: 50, confirmed, seats: 50 });

  // Every request retried, all at once: each key answers as it did, and nothing new is made.
  const again = await Promise.all(requests.map((r) => post(server.url, r)));
  again.forEach((r, k) => {
    expect(r.status).toBe(first[k].status);
    expect(r.replayed).toBe('true');
    if (r.status === 201) expect(r.body).toEqual(first[k].body);
  });
  expect(await stored(slotId)).toEqual({ taken: 50, confirmed, seats: 50 });
  expect(await svc.db.value('SELECT count(*) FROM bookings WHERE slot_id = ?', [slotId])).toBe(50);

  // The three workers all served bookings.
  const workers = new Set(server.output().split('\n')
    .filter((line) => line.includes('"route":"/v1/bookings"'))
    .map((line) => (JSON.parse(line) as { worker: number }).worker));
  expect(workers.size).toBe(3);
});

test('after kill -9 right behind confirmed bookings, a restarted server has every one of them and exact remaining places', async () => {
  const capacity = 40;
  const slotId = await slot(11, capacity);
  const server = await start({ WORKERS: '1' });
  const requests = bookingRequests(slotId, 30, 1000);
  const confirmed: { id: string; token: string }[] = [];
  let killed = false;
  const answers = await Promise.allSettled(requests.map(async (r) => {
    const res = await post(server.url, r);
    if (res.status === 201 && !killed) {
      confirmed.push({ id: res.body.id as string, token: res.body.token as string });
      if (confirmed.length === 12) {
        killed = true;
        server.child.kill('SIGKILL'); // the moment the 12th confirmation is in the client's hands
      }
    }
    return res;
  }));
  await server.stop('SIGKILL');
  expect(server.child.signalCode).toBe('SIGKILL');
  expect(confirmed.length).toBeGreaterThanOrEqual(12);
  expect(answers.some((a) => a.status === 'rejected')).toBe(true); // some requests died with the process

  const restarted = await start({ WORKERS: '1' });
  for (const { id, token } of confirmed) {
    const res = await fetch(`${restarted.url}/v1/bookings/${id}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('confirmed');
  }
  const remaining = async () => {
    const res = await fetch(`${restarted.url}/v1/resources/${resourceId}/slots?from=${encodeURIComponent(at(0))}`);
    const body = (await res.json()) as { items: { id: number; remaining: { individual: number } }[] };
    return body.items.find((s) => s.id === slotId)!.remaining.individual;
  };
  const before = await stored(slotId);
  expect(before.taken).toBe(before.seats); // the places taken are exactly the confirmed bookings'
  expect(await remaining()).toBe(capacity - before.seats);

  // Clients retry whatever they did not hear back about: nothing is booked twice.
  const retried = await Promise.all(requests.map((r) => post(restarted.url, r)));
  for (const r of retried) {
    // A request the kill caught between claiming its key and booking holds the key until its lease runs out.
    if (r.status === 409) expect(r.body.type).toBe('https://edumap.dev/problems/idempotency_in_progress');
    else expect(r.status).toBe(201);
  }
  const ids = new Set(retried.filter((r) => r.status === 201).map((r) => r.body.id));
  for (const { id } of confirmed) expect(ids.has(id)).toBe(true);
  const after = await stored(slotId);
  expect(after.taken).toBe(after.seats);
  expect(after.seats).toBe(count(retried.map((r) => r.status), 201));
  expect(await remaining()).toBe(capacity - after.seats);
});

test('the database file, its WAL and the logs hold no visitor ID and no phone number in clear', async () => {
  const slotId = await slot(14, 30);
  const server = await start({ WORKERS: '1', LOG_LEVEL: 'trace' });
  const requests = bookingRequests(slotId, 20, 2000);
  const answers = await Promise.all(requests.map((r) => post(server.url, r)));
  expect(count(answers.map((a) => a.status), 201)).toBe(20);
  // Refused requests carry personal data too: a visitor booked twice the same day, a malformed ID.
  const twice = await post(server.url, { key: 'twice', body: { ...requests[0].body, visitor_ids: [residentId(2000)] } });
  expect(twice.status).toBe(409);
  const valid = residentId(2001);
  const malformed = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0'); // the wrong check character
  const bad = await post(server.url, { key: 'bad', body: { ...requests[1].body, visitor_ids: [malformed] } });
  expect(bad.status).toBe(400);
  const { id, token } = answers[2].body as { id: string; token: string };
  expect((await fetch(`${server.url}/v1/bookings/${id}`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

  const secrets = [
    ...requests.flatMap((r, k) => [residentId(2000 + k), phoneNumber(2000 + k), (r.body.contact as { phone: string }).phone]),
    malformed,
    token,
  ];
  const leaks = async () => {
    const haystacks = [...await storedBytes(svc), Buffer.from(server.output())];
    return secrets.filter((s) => haystacks.some((h) => h.includes(Buffer.from(s))));
  };
  if (BACKEND === 'sqlite') expect(readFileSync(`${svc.config.dbPath}-wal`).length).toBeGreaterThan(0); // the bookings are (also) in the WAL
  expect(await leaks()).toEqual([]);
  await server.stop('SIGTERM'); // a clean stop checkpoints the WAL into the database file
  expect(await leaks()).toEqual([]);
  // And the hashes really are there: the rule "one booking per visitor per day" is held by them.
  expect(await svc.db.value('SELECT count(*) FROM booking_visitors v JOIN bookings b ON b.id = v.booking_id WHERE b.slot_id = ?', [slotId])).toBe(20);
});

test('at 2 workers one of them saves the snapshot base; a restart loads it in both, and answers as before', async () => {
  const file = join(svc.dir, 'servers.snapshot');
  const lines = (server: ServerProcess, msg: string) => server.output().split('\n').filter((line) => line.includes(`"msg":"${msg}"`));
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(done()).toBe(true);
  };
  const nearest = async (server: ServerProcess) => {
    const res = await fetch(`${server.url}/v1/resources?near=116.397,39.918&limit=5`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: { id: string }[] }).items.map((r) => r.id);
  };
  const first = await start({ WORKERS: '2', EDUMAP_SNAPSHOT_FILE: file });
  await until(() => lines(first, 'edumap listening').length === 2 && lines(first, 'snapshot base saved').length === 1);
  const answer = await nearest(first);
  await first.stop();
  expect(lines(first, 'snapshot base saved')).toHaveLength(1); // the other worker only loads
  expect(existsSync(file)).toBe(true);
  expect(readdirSync(svc.dir).filter((f) => f.startsWith('servers.snapshot.'))).toEqual([]); // no temporary file left

  const again = await start({ WORKERS: '2', EDUMAP_SNAPSHOT_FILE: file });
  await until(() => lines(again, 'edumap listening').length === 2);
  expect(lines(again, 'snapshot loaded from the saved base')).toHaveLength(2);
  expect(await nearest(again)).toEqual(answer);
  await again.stop();
  expect(lines(again, 'snapshot base saved')).toHaveLength(0); // loaded as saved: nothing new to write
});
