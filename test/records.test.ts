import request from 'supertest';
import { COLUMNS, createRandom, csvLine, generateRows } from '../scripts/gen.js';
import { RecordCache, warmRecords, type Derived } from '../src/engine/records.js';
import { answerBytes, resourcesJson } from '../src/engine/render.js';
import { search } from '../src/engine/search.js';
import { compileSearch } from '../src/engine/compile.js';
import { testService, type TestService } from './support.js';

let svc: TestService;
afterEach(() => svc?.close());

/** Resources as the cache sees them: a record text, and the id and labels a snapshot would hold. */
interface Fake { doc: string; id: string; name: string; nameEn: string | null }
const derived = (fakes: Fake[]): Derived => ({
  idOf: (i) => fakes[i].id,
  labelOf: (i) => ({ name: fakes[i].name, nameEn: fakes[i].nameEn }),
  spanOf: (i, what, span) => {
    const text = [fakes[i].id, fakes[i].name, fakes[i].nameEn][what];
    if (text === null) return null;
    // Somewhere inside a larger buffer, as a snapshot's ids and labels are.
    const bytes = Buffer.from(`\n${text}\n`);
    span[0] = 1;
    span[1] = bytes.length - 1;
    return bytes;
  },
});
/** What `get` answers for a record: the text without its closing brace. */
const open = (doc: string) => doc.slice(0, -1);

/**
 * Seeded records of every kind the cache must put back exactly: the stored shape with values from small
 * pools (dictionaries, grouping) and unique ones, names JSON must escape (so not taken from the snapshot),
 * snapshot labels that differ from the record, missing and extra keys, other key orders, integer-like keys
 * (which JSON.parse reorders), a nested object holding a later key's name, and many one-off shapes.
 */
function fakes(count: number, seed: number): Fake[] {
  const rand = createRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const odd = ['plain', 'quote " inside', 'back\\slash', 'new\nline', 'tab\t', '\u2028sep', '表情 😀', '', 'x"}', ',"name":'];
  return Array.from({ length: count }, (_, n) => {
    const id = `r-${n}`;
    const name = rand() < 0.1 ? pick(odd) : `名称 ${n}`;
    const nameEn = rand() < 0.2 ? null : rand() < 0.1 ? pick(odd) : `Name ${n}`;
    const record: Record<string, unknown> = {
      id, name, name_en: nameEn, type: pick(['museum', 'park', 'library']), tags: [pick(['de.a', 'zhi.b', 'mei.c']), pick(['x', 'y'])],
      district: rand() < 0.05 ? { code: '110101', address: 'nested key' } : { code: pick(['110101', '110102']), name: '东城区' },
      address: rand() < 0.5 ? `地址 ${n}` : pick(['甲', '乙']), opening_hours: pick([null, 'Mo-Su 09:00-17:00']),
      free: pick([true, false, null]), notes: rand() < 0.02 ? pick(odd) : null, updated_at: '2026-12-02T10:00:00+08:00',
    };
    const variant = rand();
    if (variant < 0.03) delete record.address;
    else if (variant < 0.06) record.extra = n;
    else if (variant < 0.08) record[`k${n % 50}`] = 'one-off shape';
    else if (variant < 0.09) Object.assign(record, { 2: 'integer-like key', b: 1 });
    let doc = JSON.stringify(record);
    if (variant > 0.99) doc = `{"name":${JSON.stringify(name)},"id":"${id}","a":1}`; // another order
    // The snapshot's labels are its own reading (a newline read as a space): they may differ from the record.
    const label = (s: string) => s.replace(/\n/g, ' ');
    return { doc, id, name: label(name), nameEn: nameEn === null || nameEn === '' ? null : label(nameEn) };
  });
}

describe('the record cache', () => {
  test('puts every record back exactly, whatever it holds (oracle: the text itself), before and after grouping', () => {
    const all = fakes(9000, 1);
    const snap = derived(all);
    const cache = new RecordCache(500_000_000);
    all.forEach((f, i) => expect(cache.set(i + 1, f.doc, snap, i)).toBe(true));
    all.forEach((f, i) => expect(cache.get(i + 1, snap, i)).toBe(open(f.doc)));
    expect([cache.size, cache.hits, cache.misses, cache.turns]).toEqual([9000, 9000, 0, 0]);
    // As bytes, the same: into a buffer that starts too short for many (grown when `write` says -2), after what it held.
    let out = Buffer.alloc(16);
    all.forEach((f, i) => {
      let end: number;
      while ((end = cache.write(i + 1, snap, i, out, 3)) === -2) out = Buffer.alloc(out.length * 2);
      expect(out.toString('utf8', 3, end)).toBe(open(f.doc));
    });
    expect([cache.hits, cache.misses]).toEqual([18000, 0]);
    expect(cache.write(9001, snap, 0, out, 0)).toBe(-1);
    // Kept compactly: ids and names come from the snapshot, repeating values from dictionaries.
    const text = all.reduce((n, f) => n + Buffer.byteLength(f.doc), 0);
    expect(cache.bytes - (1 << 20)).toBeLessThan(text / 2);
  });

  test('a version it does not hold is a miss; a second set of a version keeps the first', () => {
    const all = fakes(3, 2);
    const cache = new RecordCache(10_000_000);
    const snap = derived(all);
    expect(cache.get(7, snap, 0)).toBeUndefined();
    expect(cache.set(7, all[0].doc, snap, 0)).toBe(true);
    expect(cache.set(7, all[1].doc, snap, 1)).toBe(false);
    expect(cache.get(7, snap, 0)).toBe(open(all[0].doc));
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
  });

  test('keeps nothing with no budget, nor versions outside 1 … 2^32 − 1, nor texts that are not objects', () => {
    const [f] = fakes(1, 3);
    const snap = derived([f]);
    expect(new RecordCache(0).set(1, f.doc, snap, 0)).toBe(false);
    const cache = new RecordCache(10_000_000);
    expect([cache.set(0, f.doc, snap, 0), cache.set(2 ** 32, f.doc, snap, 0), cache.set(5, '[1,2]', snap, 0)]).toEqual([false, false, false]);
    expect(cache.size).toBe(0);
  });

  test('stays within its bytes: a full young generation turns old, the old one goes, what was read since stays', () => {
    const all = fakes(40_000, 4);
    const snap = derived(all);
    const budget = 1_200_000;
    const cache = new RecordCache(budget);
    const hot = 5; // read after every set: it must survive every turn
    for (let i = 0; i < all.length; i++) {
      cache.set(i + 1, all[i].doc, snap, i);
      expect(cache.bytes).toBeLessThanOrEqual(budget);
      if (i >= hot) expect(cache.get(hot + 1, snap, hot)).toBe(open(all[hot].doc));
    }
    expect(cache.turns).toBeGreaterThanOrEqual(2);
    expect(cache.has(1)).toBe(false); // the first ones went with the first old generation
    expect(cache.has(all.length)).toBe(true);
    // Whatever is still held is still exact.
    for (let i = 0; i < all.length; i++) {
      const text = cache.get(i + 1, snap, i);
      if (text !== undefined) expect(text).toBe(open(all[i].doc));
    }
  });

  test('forgets everything on clear', () => {
    const all = fakes(10, 5);
    const cache = new RecordCache(10_000_000);
    all.forEach((f, i) => cache.set(i + 1, f.doc, derived(all), i));
    cache.clear();
    expect([cache.size, cache.has(1)]).toEqual([0, false]);
  });
});

describe('warming the record cache', () => {
  const snapshotOf = (all: Fake[]) => ({ ...derived(all), size: all.length, seqs: Float64Array.from(all, (_, i) => 100 + i) });

  test('reads each missing record once, in chunks, and then nothing more', async () => {
    const all = fakes(1000, 6);
    const snap = snapshotOf(all);
    const asked: number[][] = [];
    const read = async (seqs: number[]) => {
      asked.push(seqs);
      return seqs.map((seq) => all[seq - 100].doc);
    };
    const cache = new RecordCache(50_000_000);
    cache.set(100, all[0].doc, snap, 0);
    expect(await warmRecords(cache, snap, read, () => false, 256)).toBe(true);
    expect(asked.map((a) => a.length)).toEqual([255, 256, 256, 232]);
    expect(new Set(asked.flat()).size).toBe(999);
    all.forEach((f, i) => expect(cache.get(100 + i, snap, i)).toBe(open(f.doc)));
    expect(await warmRecords(cache, snap, read, () => false)).toBe(true);
    expect(asked.length).toBe(4);
  });

  test('stops when told, and when the cache is full (never turning it over)', async () => {
    const all = fakes(20_000, 7);
    const snap = snapshotOf(all);
    const read = async (seqs: number[]) => seqs.map((seq) => all[seq - 100].doc);
    let chunks = 0;
    expect(await warmRecords(new RecordCache(50_000_000), snap, read, () => ++chunks > 2)).toBe(false);
    const small = new RecordCache(2_000_000);
    expect(await warmRecords(small, snap, read, () => false)).toBe(false);
    expect([small.turns, small.full, small.bytes <= 2_000_000]).toEqual([0, true, true]);
    expect(small.size).toBeLessThan(all.length);
  });
});

describe('the record cache in service', () => {
  test('answers written as bytes equal the rendered texts, whether the cache holds all, none, some, or lets one go meanwhile', async () => {
    svc = await testService({ seed: false });
    const rows = [...generateRows(400, 32)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    await svc.holder.recordsWarmed();
    const view = svc.holder.current;
    const refs = search(view, compileSearch(view, { near: '116.40,39.91', limit: 60 })).refs;
    const distancesKm = refs.map((_, k) => k / 7);
    const texts = async () => `{"items":[${(await resourcesJson(view, refs, 'gcj02', { distancesKm })).join(',')}]}`;
    const bytes = async () => (await answerBytes(view, refs, 'gcj02', { distancesKm }, '{"items":[', ']}')).toString();
    const expected = await texts();
    expect(JSON.parse(expected).items).toHaveLength(60);
    expect(await bytes()).toBe(expected); // all held
    svc.holder.records.clear();
    expect(await bytes()).toBe(expected); // none: all read from the store
    svc.holder.records.clear();
    await view.records(refs.filter((_, k) => k % 3 === 0));
    expect(await bytes()).toBe(expected); // some
    // One let go between the look and the write (as a read that turns the cache over does): read, and written again.
    const cache = svc.holder.records;
    const write = cache.write.bind(cache);
    let calls = 0;
    cache.write = (...args) => (++calls === 5 ? -1 : write(...args));
    try {
      expect(await bytes()).toBe(expected);
      expect(calls).toBeGreaterThan(60);
    } finally {
      cache.write = write;
    }
  });

  test('is warmed after a build: answers then read no record from the store, and equal the store\'s', async () => {
    svc = await testService({ seed: false });
    const rows = [...generateRows(1500, 31)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    await svc.holder.recordsWarmed();
    expect(svc.holder.recordsWarm).toBe(true);
    expect(svc.holder.records.size).toBeGreaterThanOrEqual(1500);
    const misses = svc.holder.records.misses;
    const page = await request(svc.app).get('/v1/resources?near=116.40,39.91&limit=50').expect(200);
    expect(page.body.items).toHaveLength(50);
    expect(svc.holder.records.misses).toBe(misses);
    // The same answer with every record read from the store.
    const cold = await testService({ seed: false, config: { recordCacheBytes: 0 } });
    try {
      expect((await cold.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
      const fromStore = await request(cold.app).get('/v1/resources?near=116.40,39.91&limit=50').expect(200);
      const strip = (items: { updated_at: string }[]) => items.map(({ updated_at: _, ...rest }) => rest);
      expect(strip(page.body.items)).toEqual(strip(fromStore.body.items));
      expect(cold.holder.records.size).toBe(0);
    } finally {
      await cold.close();
    }
    const metrics = await request(svc.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^edumap_record_cache_warm 1$/m);
    expect(metrics.text).toMatch(new RegExp(`^edumap_record_cache_records ${svc.holder.records.size}$`, 'm'));
  });

  test('a write batch: its versions are read into the cache as its folded base goes into service', async () => {
    svc = await testService({ seed: false, config: { foldDelayMs: 0 } });
    const rows = [...generateRows(600, 32)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    await svc.holder.recordsWarmed();
    const renamed = { ...rows[0], name: '改名之后的博物馆' };
    expect((await svc.importText(`${COLUMNS.join(',')}\n${csvLine(renamed)}`)).rejected_rows).toBe(0);
    await svc.holder.settled();
    await svc.holder.recordsWarmed();
    expect(svc.holder.recordsWarm).toBe(true);
    const misses = svc.holder.records.misses;
    const one = await request(svc.app).get(`/v1/resources/${encodeURIComponent(String(rows[0].id))}`).expect(200);
    expect(one.body.name).toBe('改名之后的博物馆');
    expect(svc.holder.records.misses).toBe(misses);
  });
});
