import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { formatShanghai } from '../src/time.js';
import { ADMIN_KEY, HEADER, OPERATOR, ROOT, csvLine, startServer, testService, type ServerProcess, type TestService } from './support.js';

const HOUR = 3_600_000;
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * 86_400_000)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number) => formatShanghai(new Date(day0 + hours * HOUR));
const base = { type: 'museum', tags: 'zhi', source: 'test' };
const haidian = { ...base, id: 'hd-museum', name: '海淀博物馆', lng: 116.3236, lat: 39.9425 }; // 110108
const dongcheng = { ...base, id: 'dc-museum', name: '东城博物馆', lng: 116.3974, lat: 39.9051 }; // 110101

let svc: TestService;
beforeEach(async () => {
  svc = await testService({ seed: false });
  await svc.importText([HEADER, csvLine(haidian), csvLine(dongcheng)].join('\n'));
});
afterEach(() => svc.close());

function keysCli(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/keys.ts', ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH, EDUMAP_DB: svc.config.dbPath }, encoding: 'utf8', timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

const slotBody = (hours: number) => ({ slots: [{ start: at(hours), end: at(hours + 1), capacity: { individual: 10 } }] });

describe('npm run keys', () => {
  test('create prints the key once; list shows id, role, scope, label, created, revoked; revoke', () => {
    const made = keysCli('create', '--role', 'district', '--district', '110108,110105', '--label', '海淀区教委');
    expect(made.code).toBe(0);
    const key = made.out.trim();
    expect(key).toMatch(/^edumap_k_[\w-]{8}_[\w-]{43}$/);
    expect(made.err).toMatch(/shown this once/);
    const listed = keysCli('list');
    expect(listed.code).toBe(0);
    const [line] = listed.out.trim().split('\n');
    const [id, role, scope, label, created, revoked] = line.split('\t');
    expect(key).toContain(id);
    expect({ role, scope, label, revoked }).toEqual({ role: 'district', scope: '110108,110105', label: '"海淀区教委"', revoked: '-' });
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(listed.out).not.toContain(key.split('_').pop()); // the secret is nowhere but in the first answer
    expect(keysCli('revoke', id)).toMatchObject({ code: 0, out: `revoked ${id}\n` });
    expect(keysCli('list').out.trim().split('\t').pop()).toMatch(/^\d{4}-/);
  });

  test('usage errors exit 2; a key the rules refuse exits 1 with the reason', () => {
    expect(keysCli().code).toBe(2);
    expect(keysCli('make').code).toBe(2);
    expect(keysCli('revoke').code).toBe(2);
    expect(keysCli('create', '--role', 'district')).toMatchObject({ code: 1, err: expect.stringMatching(/district key needs one or more adcodes/) });
    expect(keysCli('create', '--role', 'district', '--district', '120101')).toMatchObject({ code: 1, err: expect.stringMatching(/not a Beijing district adcode/) });
    expect(keysCli('create', '--role', 'venue')).toMatchObject({ code: 1, err: expect.stringMatching(/venue key needs one or more resource ids/) });
    expect(keysCli('create', '--role', 'root')).toMatchObject({ code: 1, err: expect.stringMatching(/role: must be one of operator, district, venue/) });
    expect(keysCli('revoke', 'k_nothing')).toMatchObject({ code: 1, err: expect.stringMatching(/no key 'k_nothing'/) });
  });
});

describe('scopes', () => {
  const make = async (role: 'operator' | 'district' | 'venue', scope: { districts?: string[]; resources?: string[] }) =>
    (await svc.keys.create({ role, ...scope, label: role }, OPERATOR, () => true)).key;

  test('a district key writes slots of its districts only; outside is 403 out_of_scope', async () => {
    const key = await make('district', { districts: ['110108'] });
    const mine = await request(svc.app).post('/v1/resources/hd-museum/slots').set('Authorization', `Bearer ${key}`).send(slotBody(9));
    expect(mine.status).toBe(201);
    const theirs = await request(svc.app).post('/v1/resources/dc-museum/slots').set('Authorization', `Bearer ${key}`).send(slotBody(9));
    expect(theirs.status).toBe(403);
    expect(theirs.body.type).toBe('https://edumap.dev/problems/out_of_scope');
    const schedule = await request(svc.app).post('/v1/resources/dc-museum/schedule').set('Authorization', `Bearer ${key}`)
      .send({ hours: 'Mo-Su 09:00-10:00', days: 2, capacity: { individual: 5 } });
    expect(schedule.status).toBe(403);
  });

  test('a venue key runs the seats of its resources, and cannot import', async () => {
    const key = await make('venue', { resources: ['dc-museum'] });
    expect((await request(svc.app).post('/v1/resources/dc-museum/slots').set('Authorization', `Bearer ${key}`).send(slotBody(9))).status).toBe(201);
    const other = await request(svc.app).post('/v1/resources/hd-museum/slots').set('Authorization', `Bearer ${key}`).send(slotBody(9));
    expect(other.status).toBe(403);
    expect(other.body.detail).toMatch(/not one of this venue key's resources/);
    const imported = await request(svc.app).post('/v1/imports').set('Authorization', `Bearer ${key}`).type('text/csv').send([HEADER, csvLine(haidian)].join('\n'));
    expect(imported.status).toBe(403);
    expect(imported.body.type).toBe('https://edumap.dev/problems/out_of_scope');
  });

  test('a district key for 110108 importing rows of 110108 and 110101: the 110101 rows are rejected as out of scope, the others applied', async () => {
    const key = await make('district', { districts: ['110108'] });
    const csv = [HEADER,
      csvLine({ ...haidian, name: '海淀博物馆（新馆）' }),
      csvLine({ ...dongcheng, name: '东城博物馆（改）' }),
      csvLine({ ...haidian, id: 'hd-library', name: '海淀图书馆', lng: 116.30, lat: 39.98 }),
      csvLine({ ...dongcheng, id: 'dc-new', name: '东城新馆', lng: 116.41, lat: 39.92 })].join('\n');
    const res = await request(svc.app).post('/v1/imports').set('Authorization', `Bearer ${key}`).type('text/csv').send(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ applied: true, inserted: 1, updated: 1, rejected_rows: 2 });
    expect(res.body.rejected).toEqual([
      expect.objectContaining({ line: 3, column: 'district', reason: expect.stringMatching(/^out_of_scope: /) }),
      expect.objectContaining({ line: 5, column: 'district', reason: expect.stringMatching(/^out_of_scope: /) }),
    ]);
    const dc = await request(svc.app).get('/v1/resources/dc-museum');
    expect(dc.body.name).toBe('东城博物馆');
  });

  test('no key is a 401, an unknown or revoked key a 403 forbidden', async () => {
    const key = await make('operator', {});
    expect((await request(svc.app).post('/v1/resources/hd-museum/slots').send(slotBody(9))).status).toBe(401);
    const unknown = await request(svc.app).post('/v1/resources/hd-museum/slots').set('Authorization', 'Bearer edumap_k_xxxxxxxx_nope').send(slotBody(9));
    expect(unknown.status).toBe(403);
    expect(unknown.body.type).toBe('https://edumap.dev/problems/forbidden');
    expect((await request(svc.app).post('/v1/resources/hd-museum/slots').set('Authorization', `Bearer ${key}`).send(slotBody(9))).status).toBe(201);
    const [{ id }] = await svc.keys.list();
    await svc.keys.revoke(id, OPERATOR);
    await new Promise((r) => setTimeout(r, 600)); // what a process read about a key is trusted for half a second
    expect((await request(svc.app).post('/v1/resources/hd-museum/slots').set('Authorization', `Bearer ${key}`).send(slotBody(11))).status).toBe(403);
  });
});

describe('GET /v1/audit', () => {
  test('every write by a key appears once, with who, what, when and target; operators only', async () => {
    const { key: district } = await svc.keys.create({ role: 'district', districts: ['110108'], label: '海淀' }, OPERATOR, () => true);
    await request(svc.app).post('/v1/resources/hd-museum/slots').set('Authorization', `Bearer ${district}`).send(slotBody(9));
    await request(svc.app).post('/v1/resources/dc-museum/slots').set('Authorization', `Bearer ${district}`).send(slotBody(9)); // refused: not written, not logged
    await request(svc.app).post('/v1/imports').set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv').send([HEADER, csvLine({ ...haidian, name: '新名' })].join('\n'));
    const res = await request(svc.app).get('/v1/audit').set('Authorization', `Bearer ${ADMIN_KEY}`);
    expect(res.status).toBe(200);
    const entries = res.body.items.map((e: { key_label: string; action: string; target: string }) => [e.key_label, e.action, e.target]);
    expect(entries).toEqual([
      ['test', 'key.create', expect.stringMatching(/^k_/)],
      ['海淀', 'slots.create', 'hd-museum'],
      ['EDUMAP_ADMIN_KEYS[1]', 'resources.import', 'resources'],
    ]);
    expect(res.body.items[2].detail).toEqual({ inserted: 0, updated: 1, unchanged: 0, deleted: 0, rejected_rows: 0, mode: 'upsert' });
    const page = await request(svc.app).get('/v1/audit').query({ limit: 1, after: res.body.items[0].seq }).set('Authorization', `Bearer ${ADMIN_KEY}`);
    expect(page.body.items.map((e: { action: string }) => e.action)).toEqual(['slots.create']);
    expect(page.body.next_cursor).toBe(String(res.body.items[1].seq));
    const refused = await request(svc.app).get('/v1/audit').set('Authorization', `Bearer ${district}`);
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('https://edumap.dev/problems/out_of_scope');
    expect((await request(svc.app).get('/v1/audit')).status).toBe(401);
    expect((await request(svc.app).get('/v1/audit').query({ after: 'x' }).set('Authorization', `Bearer ${ADMIN_KEY}`)).status).toBe(400);
  });
});

describe('revocation across worker processes', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => server?.stop('SIGKILL'));

  test('a key revoked through the CLI is refused by every worker within a second (WORKERS=2)', async () => {
    const key = keysCli('create', '--role', 'district', '--district', '110108').out.trim();
    server = await startServer({ EDUMAP_DB: svc.config.dbPath, WORKERS: '2', EDUMAP_POLL_MS: '200' });
    const write = (hours: number) => fetch(`${server!.url}/v1/resources/hd-museum/slots`, {
      method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(slotBody(hours)),
    }).then((r) => r.status);
    // Enough requests that both workers have seen (and cached) the key.
    const before = await Promise.all(Array.from({ length: 12 }, (_, k) => write(k)));
    expect(before.every((s) => s === 201)).toBe(true);
    const [id] = keysCli('list').out.trim().split('\t');
    expect(keysCli('revoke', id).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await Promise.all(Array.from({ length: 12 }, (_, k) => write(30 + k)));
    expect(after).toEqual(new Array(12).fill(403));
  }, 90_000);
});
