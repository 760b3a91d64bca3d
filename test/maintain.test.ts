import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import request from 'supertest';
import { importCsv } from '../src/import/csv.js';
import { formatShanghai } from '../src/time.js';
import { PURGEABLE } from '../src/store/resource-purge.js';
import { ADMIN_KEY, HEADER, OPERATOR, ROOT, csvLine, phoneNumber, rawSqlite, sqliteOnly, testService, type TestService } from './support.js';

const base = { type: 'museum', tags: '智育|历史', stages: 'primary|junior', opening_hours: 'Tu-Su 09:00-17:00; PH off', free: '是', source: 'test' };
const palace = { ...base, id: 'palace', name: '故宫博物院', lng: 116.3908, lat: 39.9163, address: '景山前街4号' }; // 110101
const temple = { ...base, id: 'temple', name: '天坛', type: 'park', lng: 116.4107, lat: 39.8822, address: '天坛东里甲1号', tags: '美育' }; // 110101
const library = { ...base, id: 'nlc', name: '中国国家图书馆', type: 'library', lng: 116.3236, lat: 39.9425, address: '中关村南大街33号', tags: 'zhi.reading' }; // 110108
const science = { ...base, id: 'sci', name: '中国科学技术馆', type: 'science_museum', lng: 116.3968, lat: 39.9832, address: '北辰东路5号', tags: 'zhi.science' }; // 110105

let svc: TestService;
let district: string;
beforeEach(async () => {
  svc = await testService({ seed: false });
  expect((await svc.importText([HEADER, ...[palace, temple, library, science].map(csvLine)].join('\n'))).inserted).toBe(4);
  district = (await svc.keys.create({ role: 'district', districts: ['110101'], label: '东城区教委' }, OPERATOR, () => true)).key;
});
afterEach(() => svc.close());

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const get = async (id: string) => (await request(svc.app).get(`/v1/resources/${id}`)).body;
const patch = (id: string, body: object, headers: Record<string, string> = admin) =>
  request(svc.app).patch(`/v1/resources/${id}`).set(headers).set('Content-Type', 'application/merge-patch+json').send(JSON.stringify(body));
const importAs = (key: string, csv: string, query: Record<string, string> = {}) =>
  request(svc.app).post('/v1/imports').query(query).set('Authorization', `Bearer ${key}`).type('text/csv').send(csv);

describe('PATCH /v1/resources/{id}', () => {
  test('a patch of name leaves every other field as it was, answers the new ETag, and is searchable at once', async () => {
    const before = await get('palace');
    const res = await patch('palace', { name: '故宫' });
    expect(res.status).toBe(200);
    const { name, updated_at: _u, ...rest } = res.body;
    const { name: _n, updated_at: _u2, ...restBefore } = before;
    expect(name).toBe('故宫');
    expect(rest).toEqual(restBefore);
    expect(res.headers.etag).toMatch(/^"v\d+"$/);
    expect((await request(svc.app).get('/v1/resources/palace')).headers.etag).toBe(res.headers.etag);
    const found = await request(svc.app).get('/v1/resources').query({ q: '故宫', limit: 5 });
    expect(found.body.items.map((r: { name: string }) => r.name)).toEqual(['故宫']);
  });

  test('null clears an optional field; values are validated as an import row is, with the same messages', async () => {
    expect((await patch('palace', { address: null })).body.address).toBeNull();
    const bad = await patch('palace', { type: 'castle', tags: '不存在的词', lng: 118.5, lat: 39.9 });
    expect(bad.status).toBe(400);
    const rows = await svc.importText([HEADER, csvLine({ ...palace, type: 'castle', tags: '不存在的词', lng: 118.5, lat: 39.9 })].join('\n'));
    const importMessages = rows.rejected.map((r) => [r.column === 'lng,lat' ? 'lng' : r.column, r.reason]);
    expect(bad.body.errors.map((e: { path: string; message: string }) => [e.path.replace(/^body\./, ''), e.message])).toEqual(importMessages);
    expect((await patch('palace', { colour: 'red' })).body.errors).toEqual([{ path: 'body.colour', message: 'is not a known field' }]);
    expect((await patch('palace', {})).status).toBe(400);
    expect((await patch('nowhere', { name: 'x' })).status).toBe(404);
    const notJson = await request(svc.app).patch('/v1/resources/palace').set(admin).set('Content-Type', 'text/plain').send('name=x');
    expect(notJson.status).toBe(415);
  });

  test('If-Match: the current ETag applies, a stale one is a 412 and changes nothing', async () => {
    const etag = (await request(svc.app).get('/v1/resources/palace')).headers.etag;
    const first = await patch('palace', { name: '故宫（一）' }, { ...admin, 'If-Match': etag });
    expect(first.status).toBe(200);
    const stale = await patch('palace', { name: '故宫（二）' }, { ...admin, 'If-Match': etag });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ type: 'https://edumap.dev/problems/precondition_failed', etag: first.headers.etag });
    expect((await get('palace')).name).toBe('故宫（一）');
  });

  test('a district key edits its districts only, and cannot move a resource out of them', async () => {
    const key = { Authorization: `Bearer ${district}` };
    expect((await patch('palace', { name: '故宫博物院（东城）' }, key)).status).toBe(200);
    const other = await patch('nlc', { name: '国图' }, key);
    expect(other.status).toBe(403);
    expect(other.body.type).toBe('https://edumap.dev/problems/out_of_scope');
    const away = await patch('palace', { lng: 116.3236, lat: 39.9425 }, key); // a point in 海淀
    expect(away.status).toBe(403);
    expect((await get('palace')).location.lng).toBeCloseTo(116.3908, 6);
    expect((await patch('palace', { name: 'x' })).status).toBe(200); // an operator can
    expect((await request(svc.app).patch('/v1/resources/palace').send({ name: 'y' })).status).toBe(401);
  });
});

describe('DELETE /v1/resources/{id}', () => {
  test('deletes; a resource with future confirmed bookings is a 409 unless cancel_bookings=true, which cancels them by the venue', async () => {
    const day = Date.parse(`${formatShanghai(new Date(Date.now() + 3 * 86_400_000)).slice(0, 10)}T10:00:00+08:00`);
    const [slot] = await svc.bookings.createSlots('palace', [{ start: formatShanghai(new Date(day)), end: formatShanghai(new Date(day + 3_600_000)), capacity: { individual: 5 } }], OPERATOR);
    const booked = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'b1')
      .send({ slot_id: slot.id, kind: 'individual', party_size: 1, contact: { name: '王', phone: phoneNumber(1) } });
    expect(booked.status).toBe(201);
    const refused = await request(svc.app).delete('/v1/resources/palace').set(admin);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'https://edumap.dev/problems/has_future_bookings', bookings: 1 });
    expect((await request(svc.app).delete('/v1/resources/palace').query({ cancel_bookings: true }).set(admin)).status).toBe(204);
    expect((await request(svc.app).get('/v1/resources/palace')).status).toBe(404);
    const booking = await request(svc.app).get(`/v1/bookings/${booked.body.id}`).set('Authorization', `Bearer ${booked.body.token}`);
    expect(booking.body.status).toBe('cancelled_by_venue');
    expect((await request(svc.app).delete('/v1/resources/palace').set(admin)).status).toBe(404);
    expect((await request(svc.app).delete('/v1/resources/nlc').set('Authorization', `Bearer ${district}`)).status).toBe(403);
    expect((await request(svc.app).delete('/v1/resources/temple').set(admin).set('If-Match', '"v1"')).status).toBe(412);
  });
});

describe('import semantics', () => {
  test('a CSV without address keeps the stored addresses; an empty cell clears one', async () => {
    const res = await importAs(ADMIN_KEY, ['id,name,type,lng,lat,tags', 'palace,故宫博物院（新）,museum,116.3908,39.9163,智育|历史'].join('\n'));
    expect(res.body).toMatchObject({ updated: 1, rejected_rows: 0 });
    const palaceNow = await get('palace');
    expect(palaceNow).toMatchObject({ name: '故宫博物院（新）', address: '景山前街4号', free: true, opening_hours: 'Tu-Su 09:00-17:00; PH off' });
    expect((await importAs(ADMIN_KEY, ['id,address', 'palace,'].join('\n'))).body).toMatchObject({ updated: 1 });
    expect(await get('palace')).toMatchObject({ address: null, name: '故宫博物院（新）' });
  });

  test('mode=sync deletes exactly the unlisted resources in the key\'s scope; a dry run lists them and changes nothing', async () => {
    const file = [HEADER, csvLine(palace)].join('\n'); // 东城 lists only 故宫: 天坛 goes, 海淀 and 朝阳 stay
    const dry = await importAs(district, file, { mode: 'sync', dry_run: 'true' });
    expect(dry.body).toMatchObject({ mode: 'sync', dry_run: true, applied: false, deleted: 1, deleted_ids: ['temple'] });
    expect((await request(svc.app).get('/v1/resources/temple')).status).toBe(200);
    const run = await importAs(district, file, { mode: 'sync' });
    expect(run.body).toMatchObject({ applied: true, deleted: 1, deleted_ids: ['temple'], unchanged: 1 });
    const ids = (await request(svc.app).get('/v1/resources').query({ limit: 50 })).body.items.map((r: { id: string }) => r.id);
    expect(ids).toEqual(['nlc', 'palace', 'sci']);
    // An operator's sync covers everything.
    const all = await importAs(ADMIN_KEY, [HEADER, csvLine(palace), csvLine(library)].join('\n'), { mode: 'sync' });
    expect(all.body).toMatchObject({ deleted: 1, deleted_ids: ['sci'] });
    // A row that is rejected still counts as listed: its resource is not deleted.
    const bad = await importAs(ADMIN_KEY, [HEADER, csvLine(palace), csvLine({ ...library, type: 'castle' })].join('\n'), { mode: 'sync' });
    expect(bad.body).toMatchObject({ deleted: 0, rejected_rows: 1 });
    expect((await request(svc.app).get('/v1/resources/nlc')).status).toBe(200);
  });

  test('a venue key cannot import (403 out_of_scope)', async () => {
    const { key } = await svc.keys.create({ role: 'venue', resources: ['palace'] }, OPERATOR, () => true);
    expect((await importAs(key, [HEADER, csvLine(palace)].join('\n'))).body.type).toBe('https://edumap.dev/problems/out_of_scope');
  });
});

describe('export', () => {
  test('CSV with a BOM, every filter honoured, then re-imported: every row unchanged', async () => {
    const res = await request(svc.app).get('/v1/resources').query({ format: 'csv' }).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="resources.csv"/);
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    expect(text.split('\r\n')[0].replace(/^\uFEFF/, '')).toBe(HEADER);
    expect(text.trim().split('\r\n')).toHaveLength(5);
    const again = await svc.importText(bytes);
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 4, rejected_rows: 0 });
    const filtered = await request(svc.app).get('/v1/resources').query({ format: 'csv', type: 'museum', area: '110101' });
    expect(filtered.text.trim().split('\r\n').map((l) => l.split(',')[0].replace(/^\uFEFF/, ''))).toEqual(['id', 'palace']);
  });

  test('GB18030 for Excel on a Chinese Windows: opened as GB18030 it shows the Chinese, and imports back unchanged', async () => {
    const res = await request(svc.app).get('/v1/resources').query({ format: 'csv', encoding: 'gb18030' }).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    const bytes = res.body as Buffer;
    expect(res.headers['content-type']).toMatch(/charset=gb18030/);
    expect(bytes.includes(Buffer.from('故宫', 'utf8'))).toBe(false);
    expect(iconv.decode(bytes, 'gb18030')).toContain('故宫博物院');
    expect(await svc.importText(bytes, { encoding: 'gb18030' })).toMatchObject({ unchanged: 4, rejected_rows: 0 });
    expect((await request(svc.app).get('/v1/resources').query({ format: 'json', encoding: 'gb18030' })).status).toBe(400);
  });

  test('with a key, an export holds the key\'s scope; GeoJSON without a limit exports every match', async () => {
    const mine = await request(svc.app).get('/v1/resources').query({ format: 'csv' }).set('Authorization', `Bearer ${district}`);
    expect(mine.text.trim().split('\r\n').slice(1).map((l) => l.split(',')[0]).sort()).toEqual(['palace', 'temple']);
    expect((await request(svc.app).get('/v1/resources').query({ format: 'csv' }).set('Authorization', 'Bearer nope')).status).toBe(403);
    const geo = await request(svc.app).get('/v1/resources').query({ format: 'geojson' });
    expect(JSON.parse(geo.text).features).toHaveLength(4);
    const page = await request(svc.app).get('/v1/resources').query({ format: 'geojson', limit: 2 });
    expect(page.body.features).toHaveLength(2);
  });
});

describe('GET /v1/changes', () => {
  test('read from the start after inserts, updates and deletes, the feed replays to exactly the current set', async () => {
    await patch('palace', { name: '故宫（改名）' });
    await request(svc.app).delete('/v1/resources/temple').set(admin);
    await importAs(ADMIN_KEY, [HEADER, csvLine({ ...library, name: '国图' }), csvLine({ ...temple, id: 'temple-2', name: '天坛公园' })].join('\n'));
    await svc.maintenance.run();
    const replayed = new Map<string, { name: string }>();
    let after: string | undefined;
    const ops: string[] = [];
    for (let pages = 0; pages < 20; pages++) {
      const res = await request(svc.app).get('/v1/changes').query({ limit: 2, ...(after ? { after } : {}) });
      expect(res.status).toBe(200);
      for (const c of res.body.items) {
        ops.push(`${c.op}:${c.id}`);
        if (c.op === 'delete') replayed.delete(c.id);
        else replayed.set(c.id, c.resource);
      }
      if (res.body.next_cursor === after || !res.body.items.length) break;
      after = res.body.next_cursor;
    }
    expect(ops).toEqual(expect.arrayContaining(['upsert:palace', 'delete:temple', 'upsert:temple-2']));
    expect(ops.indexOf('delete:temple')).toBeGreaterThan(ops.indexOf('upsert:temple'));
    const current = (await request(svc.app).get('/v1/resources').query({ limit: 50 })).body.items;
    expect([...replayed.keys()].sort()).toEqual(current.map((r: { id: string }) => r.id).sort());
    for (const r of current) expect(replayed.get(r.id)!.name).toBe(r.name);
    // Polling at the end: nothing new, the same cursor back.
    const tail = await request(svc.app).get('/v1/changes').query({ after });
    expect(tail.body).toEqual({ items: [], next_cursor: after });
  });

  test('a cursor older than the retention is a 410 naming the head; a malformed one a 400', async () => {
    const first = await request(svc.app).get('/v1/changes').query({ limit: 1 });
    const cursor = first.body.next_cursor;
    await patch('palace', { name: '故宫 2' });
    await patch('palace', { name: '故宫 3' });
    // Retention over: what the feed kept behind the cursor is purged.
    const { Maintenance } = await import('../src/import/maintenance.js');
    const later = Date.now() + 3 * 3_600_000;
    await new Maintenance(svc.db, { retentionMs: 3_600_000, clock: () => later }).run();
    const gone = await request(svc.app).get('/v1/changes').query({ after: cursor });
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ type: 'https://edumap.dev/problems/cursor_expired', head: expect.stringMatching(/^\d+\.\d+$/) });
    const fromHead = await request(svc.app).get('/v1/changes').query({ after: gone.body.head });
    expect(fromHead.status).toBe(200);
    expect((await request(svc.app).get('/v1/changes').query({ after: 'yesterday' })).status).toBe(400);
  });
});

describe('school districts', () => {
  const example = JSON.parse(readFileSync(join(ROOT, 'data', 'school-districts.synthetic.geojson'), 'utf8'));
  const upload = (body: object, key = ADMIN_KEY, crs?: string) =>
    request(svc.app).post('/v1/areas').query(crs ? { crs } : {}).set('Authorization', `Bearer ${key}`).set('Content-Type', 'application/geo+json').send(JSON.stringify(body));

  test('uploaded, listed, usable in area= of search, match and clusters; a point in a hole is not inside; deleted', async () => {
    const res = await upload(example);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: ['sd-haidian-zgc-demo', 'sd-haidian-west-demo', 'sd-dongcheng-demo'], rejected: [] });
    const csv = [HEADER,
      csvLine({ ...library, id: 'in-zgc', lng: 116.305, lat: 39.985 }),
      csvLine({ ...library, id: 'in-hole', lng: 116.314, lat: 39.978 }),
      csvLine({ ...library, id: 'on-edge', lng: 116.330, lat: 39.980 }),
      csvLine({ ...library, id: 'in-west-2', lng: 116.275, lat: 39.935 })].join('\n');
    await svc.importText(csv);
    const inside = async (area: string) => (await request(svc.app).get('/v1/resources').query({ area, limit: 50 })).body.items.map((r: { id: string }) => r.id);
    expect(await inside('sd-haidian-zgc-demo')).toEqual(['in-zgc', 'on-edge']);
    expect(await inside('sd-haidian-west-demo')).toEqual(['in-west-2']);
    const match = await request(svc.app).post('/v1/match').send({ origins: [{ lng: 116.31, lat: 39.98 }], area: 'sd-haidian-zgc-demo', limit: 5 });
    expect(match.body.items.map((i: { resource: { id: string } }) => i.resource.id).sort()).toEqual(['in-zgc', 'on-edge']);
    const clusters = await request(svc.app).get('/v1/clusters').query({ bbox: '116.2,39.9,116.4,40.0', zoom: 16, area: 'sd-haidian-zgc-demo' });
    expect(clusters.body.total).toBe(2);
    const listed = await request(svc.app).get('/v1/areas').query({ kind: 'school_district' });
    expect(listed.body.items.map((a: { id: string }) => a.id)).toEqual(['sd-dongcheng-demo', 'sd-haidian-west-demo', 'sd-haidian-zgc-demo']);
    expect((await request(svc.app).delete('/v1/areas/sd-haidian-west-demo').set(admin)).status).toBe(204);
    expect((await request(svc.app).get('/v1/resources').query({ area: 'sd-haidian-west-demo' })).status).toBe(400);
    expect((await request(svc.app).delete('/v1/areas/110108').set(admin)).status).toBe(409);
    expect((await request(svc.app).delete('/v1/areas/nothing').set(admin)).status).toBe(404);
  });

  test('GCJ-02 outlines are converted; bad features are reported like rejected rows; a district key writes its districts only', async () => {
    const [zgc] = example.features;
    const gcj = await upload({ type: 'FeatureCollection', features: [{ ...zgc, properties: { ...zgc.properties, id: 'sd-gcj' } }] }, ADMIN_KEY, 'gcj02');
    expect(gcj.body.created).toEqual(['sd-gcj']);
    const stored = (await request(svc.app).get('/v1/areas/sd-gcj')).body.geometry.coordinates[0][0];
    expect(stored[0]).toBeLessThan(116.3); // converted back to WGS-84: ~500 m west of the GCJ-02 numbers
    const bad = await upload({ type: 'FeatureCollection', features: [
      { type: 'Feature', properties: { id: 'x1', name: 'x', kind: 'school_district', parent: '110108' }, geometry: { type: 'Point', coordinates: [116.3, 39.9] } },
      { type: 'Feature', properties: { id: 'x2', name: 'x', kind: 'school_district', parent: '120101' }, geometry: zgc.geometry },
      { type: 'Feature', properties: { id: 'x3', name: 'x', kind: 'school_district', parent: '110108' },
        geometry: { type: 'Polygon', coordinates: [[[116.30, 39.97], [116.33, 39.99], [116.33, 39.97], [116.30, 39.99], [116.30, 39.97]]] } },
      { ...zgc, properties: { ...zgc.properties, id: 'x4' } },
    ] });
    expect(bad.body.created).toEqual(['x4']);
    expect(bad.body.rejected.map((r: { path: string }) => r.path)).toEqual(['features[0].geometry', 'features[1].properties.parent', 'features[2].geometry']);
    const mine = await upload({ type: 'FeatureCollection', features: [example.features[2], example.features[0]] }, district);
    expect(mine.body.created).toEqual(['sd-dongcheng-demo']);
    expect(mine.body.rejected).toEqual([expect.objectContaining({ feature: 1, reason: expect.stringMatching(/^out_of_scope: /) })]);
    expect((await request(svc.app).post('/v1/areas').set(admin).set('Content-Type', 'text/plain').send('x')).status).toBe(415);
  });
});

describe('errors in Chinese', () => {
  test('Accept-Language: zh answers title and detail in Chinese, field paths unchanged', async () => {
    const res = await request(svc.app).get('/v1/resources').query({ limit: 0, colour: 'red' }).set('Accept-Language', 'zh-CN,zh;q=0.9,en;q=0.5');
    expect(res.status).toBe(400);
    expect(res.headers['content-language']).toBe('zh-CN');
    expect(res.body.title).toBe('请求无效');
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['query.colour', 'query.limit']);
    expect(res.body.detail).toMatch(/query\.colour：不是已知的参数/);
    expect(res.body.detail).toMatch(/query\.limit：必须大于或等于 1/);
    const missing = await request(svc.app).get('/v1/resources/nowhere').set('Accept-Language', 'zh');
    expect(missing.body).toMatchObject({ title: '未找到', detail: '没有资源「nowhere」' });
    const english = await request(svc.app).get('/v1/resources/nowhere');
    expect(english.body).toMatchObject({ title: 'Not found', detail: "no resource 'nowhere'" });
  });

  test('every error of the catalogue has a Chinese title', async () => {
    const { ERRORS } = await import('../src/errors.js');
    const { ZH_TITLES } = await import('../src/i18n/zh.js');
    expect(Object.keys(ERRORS).filter((code) => !(code in ZH_TITLES))).toEqual([]);
  });
});

describe('versions before they are folded', () => {
  test('between publish and fold an id has two unretired versions; the snapshot and the API see only the later one', async () => {
    // Import straight through the importer, without the maintenance run that folds.
    await importCsv(Readable.from([[HEADER, csvLine({ ...palace, name: '故宫（未折叠）' })].join('\n')]), { db: svc.db, tax: svc.tax, areas: svc.holder.current.areas });
    const unretired = await svc.db.value<number>("SELECT count(*) FROM resources WHERE id = 'palace' AND retired_at IS NULL");
    expect(unretired).toBe(2);
    await svc.holder.rebuild();
    expect(svc.holder.current.size).toBe(4);
    expect((await get('palace')).name).toBe('故宫（未折叠）');
    expect((await request(svc.app).get('/v1/resources').query({ q: '故宫' })).body.items.map((r: { name: string }) => r.name)).toEqual(['故宫（未折叠）']);
    await svc.maintenance.run();
    expect(await svc.db.value<number>("SELECT count(*) FROM resources WHERE id = 'palace' AND retired_at IS NULL")).toBe(1);
  });
});

describe('purge', () => {
  test('after the retention, replaced versions and tombstones are deleted, and nothing current', async () => {
    await patch('palace', { name: '故宫 2' });
    await patch('palace', { name: '故宫 3' });
    expect((await request(svc.app).delete('/v1/resources/temple').set(admin)).status).toBe(204);
    await svc.maintenance.run(); // within the retention: every version is kept
    const versions = () => svc.db.all<{ id: string; n: number }>('SELECT id, count(*) AS n FROM resources GROUP BY id ORDER BY id');
    expect((await versions()).map((v) => [v.id, Number(v.n)])).toEqual([['nlc', 1], ['palace', 3], ['sci', 1], ['temple', 2]]);
    const { Maintenance } = await import('../src/import/maintenance.js');
    const later = Date.now() + 3 * 3_600_000;
    await new Maintenance(svc.db, { retentionMs: 3_600_000, clock: () => later }).run();
    expect((await versions()).map((v) => [v.id, Number(v.n)])).toEqual([['nlc', 1], ['palace', 1], ['sci', 1]]);
    expect((await get('palace')).name).toBe('故宫 3');
  });

  // The purge runs in the write lock: a scan of every version there holds bookings up (0.45 s at 1M rows).
  sqliteOnly('the purge finds its rows by index, without a scan of the versions', async () => {
    const plan = rawSqlite(svc).prepare(`EXPLAIN QUERY PLAN SELECT p.seq FROM (${PURGEABLE}) AS p LIMIT 10`).all('x', 'x') as { detail: string }[];
    const details = plan.map((p) => p.detail);
    expect(details.filter((d) => /^SCAN r\b/.test(d))).toEqual([]);
    expect(details.join('\n')).toMatch(/resources_retired[\s\S]*resources_tombstones/);
  });
});

describe('audit', () => {
  test('every write appears once: import, patch, delete, areas', async () => {
    await patch('palace', { name: '故宫 A' });
    await request(svc.app).delete('/v1/resources/temple').set(admin);
    await importAs(district, [HEADER, csvLine({ ...palace, name: '故宫 B' })].join('\n'));
    await request(svc.app).post('/v1/areas').set(admin).set('Content-Type', 'application/geo+json')
      .send(readFileSync(join(ROOT, 'data', 'school-districts.synthetic.geojson'), 'utf8'));
    await request(svc.app).delete('/v1/areas/sd-dongcheng-demo').set(admin);
    const log = await request(svc.app).get('/v1/audit').set(admin);
    expect(log.body.items.map((e: { action: string; target: string; key_label: string }) => `${e.key_label} ${e.action} ${e.target}`)).toEqual([
      'test key.create k_' + log.body.items[0].target.slice(2),
      'EDUMAP_ADMIN_KEYS[1] resource.patch palace',
      'EDUMAP_ADMIN_KEYS[1] resource.delete temple',
      '东城区教委 resources.import resources',
      'EDUMAP_ADMIN_KEYS[1] areas.upload areas',
      'EDUMAP_ADMIN_KEYS[1] area.delete sd-dongcheng-demo',
    ]);
    expect(JSON.stringify(log.body)).not.toMatch(/1391|故宫/); // no personal data, no record contents
  });
});
