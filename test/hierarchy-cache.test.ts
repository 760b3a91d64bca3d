import request from 'supertest';
import { COLUMNS, csvLine, generateRows } from '../scripts/gen.js';
import { HierarchyCache } from '../src/engine/hierarchy-cache.js';
import { clusters, hierarchiesOf } from '../src/engine/clusters.js';
import type { Markers } from '../src/engine/hierarchy.js';
import type { SearchQuery } from '../src/engine/search.js';
import type { Snapshot } from '../src/engine/snapshot.js';
import { testService, type TestService } from './support.js';

let svc: TestService;
afterEach(() => svc?.close());

/** A stand-in snapshot (the cache only tells them apart) and a built hierarchy of `bytes`. */
const snapshot = () => ({}) as Snapshot;
const hierarchy = (bytes: number) => Promise.resolve({ bytes } as Markers);
const filters = (tag: string): SearchQuery => ({ tags: [[tag]], limit: 10 });
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the cluster hierarchy cache', () => {
  test('holds at most its budget in bytes, least recently used out; the newest stays even alone over the budget', async () => {
    const cache = new HierarchyCache(100);
    const a = snapshot();
    cache.add(a, 'x', filters('x'), hierarchy(40));
    cache.add(a, 'y', filters('y'), hierarchy(40));
    await settle();
    expect(cache.bytes).toBe(80);
    expect(cache.get(a, 'x')).toBeDefined(); // x is now the most recent: y goes first
    cache.add(a, 'z', filters('z'), hierarchy(40));
    await settle();
    expect(cache.get(a, 'y')).toBeUndefined();
    expect(cache.get(a, 'x')).toBeDefined();
    expect(cache.get(a, 'z')).toBeDefined();
    expect([cache.bytes, cache.size, cache.evictions]).toEqual([80, 2, 1]);
    // One larger than the whole budget: everything else goes, it stays (every request would build it again).
    cache.add(a, 'big', filters('big'), hierarchy(500));
    await settle();
    expect([cache.bytes, cache.size, cache.entriesOf(a)]).toEqual([500, 1, 1]);
    expect(cache.get(a, 'big')).toBeDefined();
  });

  test('a budget of 0 keeps nothing; a failed build is not kept; a build in progress is shared and not counted', async () => {
    const none = new HierarchyCache(0);
    const a = snapshot();
    none.add(a, 'x', filters('x'), hierarchy(10));
    expect(none.get(a, 'x')).toBeDefined(); // while building, requests share it
    await settle();
    expect([none.get(a, 'x'), none.size, none.bytes]).toEqual([undefined, 0, 0]);

    const cache = new HierarchyCache(100);
    const failed = Promise.reject(new Error('snapshot build worker exited (1)'));
    cache.add(a, 'x', filters('x'), failed);
    await failed.catch(() => undefined);
    await settle();
    expect([cache.get(a, 'x'), cache.size]).toEqual([undefined, 0]);

    let finish!: (m: Markers) => void;
    cache.add(a, 'slow', filters('slow'), new Promise<Markers>((resolve) => (finish = resolve)));
    cache.add(a, 'y', filters('y'), hierarchy(90));
    await settle();
    expect([cache.bytes, cache.size]).toEqual([90, 2]);
    finish({ bytes: 30 } as Markers);
    await settle();
    expect(cache.get(a, 'y')).toBeUndefined(); // the older, built one made room
    expect([cache.bytes, cache.size]).toEqual([30, 1]);
  });

  test('hierarchies prepared for a base not in service are neither counted nor evicted until it is; a retired snapshot keeps none', async () => {
    const cache = new HierarchyCache(100);
    const old = snapshot();
    const next = snapshot();
    cache.add(old, 'x', filters('x'), hierarchy(60));
    cache.add(old, 'y', filters('y'), hierarchy(30));
    await settle();
    expect(cache.recent(old, 2)).toEqual([filters('x'), filters('y')]);
    expect(cache.get(old, 'x')).toBeDefined();
    expect(cache.recent(old, 1)).toEqual([filters('x')]);
    // Prepared for `next` beside what `old` answers with: nothing of `old` goes.
    cache.add(next, 'x', filters('x'), hierarchy(60), 'prepared');
    cache.add(next, 'y', filters('y'), hierarchy(30), 'prepared');
    await settle();
    expect([cache.entriesOf(old), cache.entriesOf(next), cache.bytes, cache.evictions]).toEqual([2, 2, 180, 0]);
    // The swap: the old base leaves service, the new one's are counted.
    cache.retire(old);
    cache.inService(next);
    expect([cache.entriesOf(old), cache.entriesOf(next), cache.bytes, cache.evictions]).toEqual([0, 2, 90, 0]);
    // A request still on the old base builds for itself, and nothing is kept for it.
    cache.add(old, 'x', filters('x'), hierarchy(60));
    await settle();
    expect([cache.entriesOf(old), cache.size]).toEqual([0, 2]);
    // Once in service, prepared ones are evicted like any other.
    cache.add(next, 'z', filters('z'), hierarchy(50));
    await settle();
    expect([cache.get(next, 'x'), cache.bytes, cache.evictions]).toEqual([undefined, 80, 1]);
  });
});

describe('the service keeps the map within its cluster cache budget', () => {
  const bbox: [number, number, number, number] = [115.4, 39.4, 117.6, 41.1];
  const lao = { tags: [['lao']], limit: 10 };

  test('over the budget the least recently used hierarchy goes, and is built again when asked; the answer is the same', async () => {
    svc = await testService({ seed: false, config: { clusterCacheBytes: 1 } }); // room for one only
    const rows = [...generateRows(2000, 21)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    await svc.holder.settled();
    const view = svc.holder.current;
    const ctx = view.base.ctx;
    expect(ctx.clusterCache).toBe(svc.holder.clusterCache);
    const build = ctx.hierarchies!;
    let builds = 0;
    ctx.hierarchies = (input) => {
      builds++;
      return build(input);
    };
    const first = await clusters(view, { limit: 10 }, bbox, 11);
    const allBytes = svc.holder.clusterCache.bytes;
    expect(allBytes).toBeGreaterThan(2000 * 4);
    await clusters(view, { limit: 10 }, bbox, 12); // the same hierarchy
    expect(builds).toBe(1);
    await clusters(view, lao, bbox, 11);
    expect(builds).toBe(2);
    expect(hierarchiesOf(view.base)).toBe(1);
    expect(svc.holder.clusterCache.evictions).toBe(1);
    expect(svc.holder.clusterCache.bytes).toBeLessThan(allBytes); // lao's, a part of all
    const again = await clusters(view, { limit: 10 }, bbox, 11);
    expect(builds).toBe(3);
    expect(again).toEqual(first);
    const metrics = (await request(svc.app).get('/metrics')).text;
    expect(metrics).toMatch(new RegExp(`^edumap_cluster_cache_bytes ${allBytes}$`, 'm'));
    expect(metrics).toMatch(/^edumap_cluster_cache_hierarchies 1$/m);
    expect(metrics).toMatch(/^edumap_cluster_cache_evictions 2$/m);
  });

  test('a base and an overlay leaving service let their hierarchies go; those prepared for the folded base evict nothing before it serves', async () => {
    svc = await testService({ seed: false, config: { snapshotBuild: 'worker', clusterCacheBytes: 1 } });
    const rows = [...generateRows(2500, 22)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    await svc.holder.settled();
    const cache = svc.holder.clusterCache;
    const before = svc.holder.current;
    await clusters(before, { limit: 10 }, bbox, 10);
    expect(cache.entriesOf(before.base)).toBe(1);

    // A write: the overlay's hierarchy beside the base's.
    const moved = { ...rows[0], lng: '116.5', lat: '40.1', district: '' };
    expect(await svc.importText(`${COLUMNS.join(',')}\n${csvLine(moved)}`)).toMatchObject({ updated: 1, rejected_rows: 0 });
    const overlaid = svc.holder.current;
    expect(overlaid.base).toBe(before.base);
    expect(overlaid.overlay).not.toBeNull();
    expect((await clusters(overlaid, { limit: 10 }, bbox, 10)).total).toBe(overlaid.size);
    expect(cache.entriesOf(overlaid.overlay!)).toBe(1);

    // The fold: the new base's hierarchy is built before the swap, beside the old one's (a budget of one
    // would otherwise have evicted what the old base was answering with); then the old base and the
    // overlay leave service, and theirs go.
    await svc.holder.settled();
    const after = svc.holder.current;
    expect(after.base).not.toBe(before.base);
    expect(after.overlay).toBeNull();
    expect([cache.entriesOf(before.base), cache.entriesOf(overlaid.overlay!), cache.entriesOf(after.base)]).toEqual([0, 0, 1]);
    expect(cache.evictions).toBe(0);
    expect(cache.size).toBe(1);
    const answer = await clusters(after, { limit: 10 }, bbox, 10);
    expect(answer.total).toBe(after.size);
  });
});
