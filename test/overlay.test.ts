import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLUMNS, createRandom, csvLine, generateRows, type GeneratedRow } from '../scripts/gen.js';
import { clusters } from '../src/engine/clusters.js';
import { matching, type SearchQuery } from '../src/engine/search.js';
import { View } from '../src/engine/view.js';
import { readFolded } from '../src/engine/fold.js';
import { readParts } from '../src/engine/parts.js';
import { ResourceReader } from '../src/store/resource-reader.js';
import { OPERATOR, ROOT, plainParts, testService, type TestService } from './support.js';
import { allPages, describeQuery, oracle, randomQuery, readPlain, type Plain } from './oracle.js';

let svc: TestService;
afterEach(() => svc?.close());

const header = COLUMNS.join(',');

/** A service with `count` generated rows and the example school districts, folded into one base snapshot. */
async function base(count: number, seed: number): Promise<GeneratedRow[]> {
  // No background fold: the overlay grows with every write until the test asks for the fold.
  svc = await testService({ seed: false, config: { foldDelayMs: 3_600_000 } });
  const example = JSON.parse(readFileSync(join(ROOT, 'data', 'school-districts.synthetic.geojson'), 'utf8'));
  expect((await svc.areaEdits.upload(example, 'wgs84', OPERATOR)).rejected).toEqual([]);
  const rows = [...generateRows(count, seed)];
  expect((await svc.importText(`${header}\n${rows.map(csvLine).join('')}`)).rejected).toEqual([]);
  await svc.holder.settled();
  expect(svc.holder.current.overlay).toBeNull();
  expect(svc.holder.current.size).toBe(count);
  return rows;
}

/**
 * One random write: some rows moved, retagged, renamed or retyped, some new, some deleted (single deletes
 * and deletes of resources written since the base, so that an overlay version is deleted too).
 */
async function randomWrite(rows: GeneratedRow[], rand: () => number, round: number, maintain = true): Promise<void> {
  const pick = () => rows[Math.floor(rand() * rows.length)];
  const changed = new Map<string, GeneratedRow>();
  for (let k = 0; k < 5 + Math.floor(rand() * 40); k++) {
    const row = { ...pick() };
    const what = rand();
    if (what < 0.4) {
      row.lng = (Number(row.lng) + (rand() - 0.5) * 0.02).toFixed(6);
      row.lat = (Number(row.lat) + (rand() - 0.5) * 0.02).toFixed(6);
      row.district = ''; // found from the point
    } else if (what < 0.6) {
      row.tags = pick().tags;
    } else if (what < 0.7) {
      row.name = `改名 ${round}-${k} ${row.name}`;
    } else if (what < 0.8) {
      row.type = pick().type;
      row.free = pick().free;
      row.opening_hours = pick().opening_hours;
    } else {
      row.id = `new-${round}-${k}`;
      row.name = `新场馆 ${round}-${k} museum`;
    }
    changed.set(row.id, row);
  }
  const text = `${header}\n${[...changed.values()].map(csvLine).join('')}`;
  const report = await svc.importText(text);
  // A point moved out of Beijing is refused (and stays as it was); nothing else may be.
  expect(report.rejected.filter((r) => !/outside|not in Beijing/i.test(r.reason))).toEqual([]);
  const refused = new Set(report.rejected.map((r) => r.line));
  for (const [k, row] of [...changed.values()].entries()) {
    if (refused.has(k + 2)) continue;
    const at = rows.findIndex((r) => r.id === row.id);
    if (at >= 0) rows[at] = row;
    else rows.push(row);
  }
  for (let k = 0; k < Math.floor(rand() * 6); k++) {
    const victim = rand() < 0.3 ? [...changed.values()][0] : pick();
    if (!rows.some((r) => r.id === victim.id)) continue;
    await svc.edits.remove(victim.id, OPERATOR);
    rows.splice(rows.findIndex((r) => r.id === victim.id), 1);
  }
  // Folded, so that the oracle's plain read sees one current version per id (unless asked not to).
  if (maintain) await svc.maintenance.run();
}

/** Every answer of the view agrees with brute force over the current rows. */
async function agrees(all: Plain[], rand: () => number, label: string): Promise<void> {
  const view = svc.holder.current;
  const seen = [...matching(view, { limit: 0 })].flat().map(View.idOf);
  expect({ label, missing: all.map((r) => r.id).filter((id) => !seen.includes(id)), extra: seen.filter((id) => !all.some((r) => r.id === id)) })
    .toEqual({ label, missing: [], extra: [] });
  expect(view.size).toBe(all.length);
  for (let n = 0; n < 30; n++) {
    const q = randomQuery(view, rand);
    const want = oracle(svc.tax, all, q);
    const got = allPages(view, q);
    expect({ label, q: describeQuery(q), ids: got.map((x) => x.id) }).toEqual({ label, q: describeQuery(q), ids: want.map((x) => x.id) });
    if (q.near) got.forEach((x, k) => expect(x.km).toBe(want[k].km));
  }
  // Clusters: the markers partition the matching resources in the bbox, at any zoom.
  for (let n = 0; n < 10; n++) {
    const zoom = Math.floor(rand() * 17);
    const w = 116 + rand() * 0.6;
    const s = 39.7 + rand() * 0.4;
    const bbox: [number, number, number, number] = [w, s, w + 0.05 + rand() * 0.6, s + 0.05 + rand() * 0.4];
    const filters: SearchQuery = rand() < 0.5 ? { limit: 10 } : { tags: [['zhi', 'ti']], limit: 10 };
    const truth = new Set(oracle(svc.tax, all, { ...filters, bbox }).map((x) => x.id));
    const got = await clusters(view, filters, bbox, zoom);
    expect({ label, zoom, total: got.total, sum: got.items.reduce((a, c) => a + c.count, 0) }).toEqual({ label, zoom, total: truth.size, sum: truth.size });
    for (const item of got.items) if (item.ref) expect(truth.has(View.idOf(item.ref))).toBe(true);
  }
  // Export order (id), every resource once.
  const exported = [...matching(view, { limit: 0 }, 97)].flat().map(View.idOf);
  expect(exported).toEqual(all.map((r) => r.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  // Single lookups and district counts.
  for (const r of all.slice(0, 50)) expect(view.locate(r.id) && View.idOf(view.locate(r.id)!)).toBe(r.id);
  for (const d of view.districts) expect(view.districtCount(d)).toBe(all.filter((r) => r.district === d).length);
}

describe('a view of a base snapshot and an overlay answers as a fresh build would', () => {
  test('after random sequences of upserts and deletes, every search, cursor, cluster count and export agrees with brute force', async () => {
    const rows = await base(1500, 21);
    const rand = createRandom(8);
    for (let round = 1; round <= 8; round++) {
      await randomWrite(rows, rand, round);
      const view = svc.holder.current;
      expect(view.overlay).not.toBeNull(); // the writes were indexed as an overlay, not a rebuild
      expect(view.base.size).toBe(1500);
      await agrees(await readPlain(svc.db), rand, `round ${round}`);
    }
    const deleted = (await svc.db.all<{ id: string }>('SELECT DISTINCT id FROM resources WHERE deleted = 1')).map((r) => r.id);
    expect(deleted.length).toBeGreaterThan(0);
    for (const id of deleted) if (!rows.some((r) => r.id === id)) expect(svc.holder.current.locate(id)).toBeUndefined();
    expect(svc.holder.stats.full).toBe(2); // the first build, and the one after the school districts

    // The fold: a new base holds everything (made of the old base and the changed rows: no scan), and
    // answers the same.
    const folds = svc.holder.stats.folds;
    await svc.holder.settled();
    expect(svc.holder.stats).toMatchObject({ full: 2, folds: folds + 1 });
    expect(svc.holder.current.overlay).toBeNull();
    expect(svc.holder.current.hidden.length).toBe(0);
    await agrees(await readPlain(svc.db), rand, 'folded');
  });

  test('an availability test (a function per snapshot) filters base and overlay alike, in search and clusters', async () => {
    const rows = await base(800, 22);
    await randomWrite(rows, createRandom(3), 1);
    const view = svc.holder.current;
    expect(view.overlay).not.toBeNull();
    const even = (id: string) => [...id].reduce((a, c) => a + c.charCodeAt(0), 0) % 2 === 0;
    const all = (await readPlain(svc.db)).filter((r) => even(r.id));
    const accept = (snap: View['base']) => (i: number) => even(snap.idOf(i));
    const q: SearchQuery = { near: [116.4, 39.9], limit: 25, accept };
    expect(allPages(view, q).map((x) => x.id)).toEqual(oracle(svc.tax, all, q).map((x) => x.id));
    const bbox: [number, number, number, number] = [116, 39.6, 116.9, 40.2];
    const got = await clusters(view, { limit: 10, accept }, bbox, 11);
    expect(got.total).toBe(oracle(svc.tax, all, { limit: 10, bbox }).length);
  });

  test('a fold of a base and the changes since equals a scan of the store, array for array', async () => {
    const rows = await base(1200, 23);
    const from = svc.holder.current.base;
    const reader = new ResourceReader(svc.db);
    const rand = createRandom(9);
    for (let round = 1; round <= 6; round++) {
      // Odd rounds leave their batches unfolded: the scan then picks among several versions of an id.
      await randomWrite(rows, rand, round, round % 2 === 0);
      const folded = await readFolded(reader, from.parts, from.ctx.vocab, 1e9);
      expect(folded.how).toBe('fold');
      const scanned = await readParts(reader, from.ctx.vocab);
      expect(plainParts(folded.parts)).toEqual(plainParts(scanned));
    }
    // More changes than asked for: a scan.
    const scanned = await readFolded(reader, from.parts, from.ctx.vocab, 10);
    expect(scanned.how).toBe('scan');
    expect(plainParts(scanned.parts)).toEqual(plainParts(await readParts(reader, from.ctx.vocab)));
  });

  test('a fold of a base whose every resource was deleted, and of one with nothing kept but new ones', async () => {
    svc = await testService({ seed: false, config: { foldDelayMs: 3_600_000 } });
    const rows = [...generateRows(40, 6)];
    expect((await svc.importText(`${header}\n${rows.map(csvLine).join('')}`)).rejected).toEqual([]);
    await svc.holder.settled();
    const from = svc.holder.current.base;
    const reader = new ResourceReader(svc.db);
    const fold = async () => {
      const folded = await readFolded(reader, from.parts, from.ctx.vocab, 1e9);
      expect(folded.how).toBe('fold');
      expect(plainParts(folded.parts)).toEqual(plainParts(await readParts(reader, from.ctx.vocab)));
      return folded.parts;
    };
    for (const row of rows.slice(0, 20)) await svc.edits.remove(row.id, OPERATOR);
    expect((await fold()).size).toBe(20);
    for (const row of rows.slice(20)) await svc.edits.remove(row.id, OPERATOR);
    expect((await fold()).size).toBe(0);
    const fresh = [...generateRows(5, 7)].map((r, k) => ({ ...r, id: `zz-${k}` }));
    expect((await svc.importText(`${header}\n${fresh.map(csvLine).join('')}`)).rejected).toEqual([]);
    expect((await fold()).size).toBe(5);
  });

  test('a write too large for an overlay is folded into the base at once, or scanned when most of the store changed', async () => {
    svc = await testService({ seed: false, config: { foldDelayMs: 3_600_000 } });
    const rows = [...generateRows(300, 5)];
    await svc.importText(`${header}\n${rows.slice(0, 100).map(csvLine).join('')}`);
    const full = svc.holder.stats.full;
    // The holder's limit is 20,000 versions; a holder with a small limit shows the switch.
    const { SnapshotHolder } = await import('../src/engine/holder.js');
    const holder = new SnapshotHolder(svc.db, svc.tax, { overlayMax: 50, foldDelayMs: 3_600_000 });
    try {
      await holder.rebuild();
      await svc.importText(`${header}\n${rows.slice(100, 130).map(csvLine).join('')}`);
      await holder.rebuild();
      expect(holder.current.overlay?.size).toBe(30);
      await svc.importText(`${header}\n${rows.slice(130).map(csvLine).join('')}`);
      await holder.rebuild();
      expect(holder.current.overlay).toBeNull(); // 170 + 30 versions since the base of 100: a scan
      expect(holder.current.size).toBe(300);
      expect(holder.stats).toEqual({ full: 2, overlay: 1, folds: 0, loaded: 0, saved: 0 });
      // 60 versions: too many for an overlay, few beside the base of 300: folded in, no scan.
      const renamed = rows.slice(0, 60).map((r) => ({ ...r, name: `改名 ${r.name}` }));
      await svc.importText(`${header}\n${renamed.map(csvLine).join('')}`);
      await holder.rebuild();
      expect(holder.stats).toEqual({ full: 2, overlay: 1, folds: 1, loaded: 0, saved: 0 });
      expect(holder.current.overlay).toBeNull();
      expect(holder.current.size).toBe(300);
      const ref = holder.current.locate(renamed[7].id)!;
      expect(JSON.parse((await holder.current.records([ref]))[0]).name).toBe(renamed[7].name);
    } finally {
      await holder.stop();
    }
    expect(svc.holder.stats.full).toBe(full);
  });
});
