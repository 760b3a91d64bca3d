import { around, distance } from 'geokdbush';
import type { Area } from '../geo/areas.js';
import type { LngLat } from '../geo/crs.js';
import type { Snapshot } from './snapshot.js';
import type { Ref, View } from './view.js';

/** A compiled search. Every coordinate is WGS-84; every term, type and stage id is already resolved. */
export interface SearchQuery {
  /** Sort by great-circle distance from here. */
  near?: LngLat;
  /** With `near`: only resources within this distance, in km. */
  radiusKm?: number;
  /** `[minLng, minLat, maxLng, maxLat]`. */
  bbox?: [number, number, number, number];
  area?: Area;
  /** AND of groups; a group holds when the resource has any of its terms (or their descendants). */
  tags?: string[][];
  /** Any of these types. */
  types?: string[];
  /** Any of these stages. */
  stages?: string[];
  free?: boolean;
  openAt?: Date;
  /** Case-insensitive substring of `name` or `name_en`. */
  q?: string;
  /** How many to return (the limit applies after every filter). */
  limit: number;
  /** Keyset: return only what sorts after this (distance, then id; or id alone without `near`). */
  after?: { distanceKm?: number; id: string };
  /** A further test over each snapshot of the view, e.g. availability from the booking module. */
  accept?: (snap: Snapshot) => (index: number) => boolean;
}

/** Matching resources in answer order, and distances in km when `near` was given. */
export interface SearchResult {
  refs: Ref[];
  distancesKm: number[] | null;
  /** True when more resources match beyond `limit`. */
  more: boolean;
}

/** One snapshot's answer: its indices in answer order. */
interface PartResult {
  indices: number[];
  distancesKm: number[] | null;
  more: boolean;
}

/**
 * Posting lists at most this share of all resources are searched through their own kd-tree rather than
 * filtered in the main one; so are districts, however large: they are compact in space, and a query point
 * outside one would otherwise walk the main tree until it reached the district.
 */
const SUB_INDEX_MAX_SHARE = 1 / 16;

/**
 * Runs a search over a view: over each of its snapshots (the base without what it hides, the overlay),
 * then merges their pages by (distance, id) or id. In a snapshot the most selective posting list (tag
 * group, type or district) drives the scan; every other condition is a predicate applied inside the scan,
 * never after the limit, so asking for 10 returns 10 whenever 10 match. Each snapshot's first `limit`
 * hold the view's first `limit`; the view has more when a snapshot has, or the merge leaves some over.
 */
export function search(view: View, query: SearchQuery): SearchResult {
  const parts = view.parts.map(({ snap, hide }) => ({ snap, result: searchPart(snap, query, hide) }));
  if (parts.length === 1) {
    const [{ snap, result }] = parts;
    return { refs: result.indices.map((i) => ({ snap, i })), distancesKm: result.distancesKm, more: result.more };
  }
  const all = parts.flatMap(({ snap, result }) => result.indices.map((i, k) => ({ snap, i, id: snap.idOf(i), d: result.distancesKm?.[k] ?? 0 })));
  all.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = all.slice(0, query.limit);
  return {
    refs: page.map(({ snap, i }) => ({ snap, i })),
    distancesKm: query.near ? page.map((x) => x.d) : null,
    more: all.length > query.limit || parts.some((p) => p.result.more),
  };
}

/** A search over one snapshot, leaving out the indices `hide` marks. */
export function searchPart(snap: Snapshot, query: SearchQuery, hide: Uint8Array | null = null): PartResult {
  const test = predicate(snap, query, hide);
  const driver = pickDriver(snap, query);
  return query.near ? nearest(snap, query, query.near, test, driver) : byId(snap, query, test, driver);
}

/**
 * Every resource of the view matching the query's filters, in id order, `chunk` at a time: an export's
 * rows, with memory bounded by the chunk whatever the number of matches. `near` + `radiusKm` act as a
 * filter (no distance order); `limit` and the cursor are ignored.
 */
export function* matching(view: View, query: SearchQuery, chunk = 500): Generator<Ref[]> {
  const streams = view.parts.map(({ snap, hide }) => ({ snap, it: matchingPart(snap, query, hide, chunk), buf: [] as number[], at: 0, done: false }));
  const head = (s: (typeof streams)[number]): number | undefined => {
    while (s.at >= s.buf.length && !s.done) {
      const next = s.it.next();
      if (next.done) s.done = true;
      else {
        s.buf = next.value;
        s.at = 0;
      }
    }
    return s.at < s.buf.length ? s.buf[s.at] : undefined;
  };
  let out: Ref[] = [];
  for (;;) {
    let pick: (typeof streams)[number] | null = null;
    let pickId = '';
    for (const s of streams) {
      const i = head(s);
      if (i === undefined) continue;
      const id = streams.length > 1 ? s.snap.idOf(i) : '';
      if (!pick || id < pickId) {
        pick = s;
        pickId = id;
      }
    }
    if (!pick) break;
    out.push({ snap: pick.snap, i: pick.buf[pick.at++] });
    if (out.length >= chunk) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}

/**
 * One part's matching indices in id order, `chunk` at a time; a chunk comes early (maybe empty) once
 * `8 × chunk` candidates were looked at, so that a caller yielding between chunks never holds the event
 * loop for a whole scan of few matches.
 */
export function* matchingPart(snap: Snapshot, query: SearchQuery, hide: Uint8Array | null, chunk: number): Generator<number[]> {
  const test = predicate(snap, query, hide);
  const radius = query.near && query.radiusKm !== undefined ? { at: query.near, km: query.radiusKm } : undefined;
  const keep = (i: number) => (!test || test(i)) && (!radius || distance(radius.at[0], radius.at[1], snap.lng[i], snap.lat[i]) <= radius.km);
  const driver = pickDriver(snap, query)?.list;
  let out: number[] = [];
  const n = driver ? driver.length : snap.size;
  for (let k = 0, since = 0; k < n; k++) {
    const i = driver ? driver[k] : k;
    if (keep(i)) out.push(i);
    if (out.length >= chunk || ++since >= 8 * chunk) {
      yield out;
      out = [];
      since = 0;
    }
  }
  if (out.length) yield out;
}

function nearest(snap: Snapshot, query: SearchQuery, [lng, lat]: LngLat, test: ((i: number) => boolean) | undefined, driven: Driver | null): PartResult {
  const want = query.limit + 1;
  const after = query.after;
  const radiusKm = query.radiusKm ?? Infinity;
  const dist = (i: number) => distance(lng, lat, snap.lng[i], snap.lat[i]);
  const accept = after
    ? (i: number) => {
        if (test && !test(i)) return false;
        const d = dist(i);
        return d > after.distanceKm! || (d === after.distanceKm && snap.idOf(i) > after.id);
      }
    : test;

  // kNN returns the m nearest with ties in arbitrary order; the page must be the first by (distance, id).
  // Widen until the item after the page is strictly farther than the farthest fetched, or all are in.
  let m = want;
  for (;;) {
    let found: number[];
    if (driven?.subIndex) {
      const driver = driven.list;
      const sub = snap.pointsOf(driver);
      found = driver.length === 0 ? [] : around(sub, lng, lat, m, radiusKm * (1 + 1e-12), accept && ((j) => accept(driver[j]))).map((j) => driver[j]);
    } else {
      found = snap.size === 0 ? [] : around(snap.points, lng, lat, m, radiusKm * (1 + 1e-12), accept);
    }
    const items = found.map((i) => ({ i, d: dist(i) })).filter((x) => x.d <= radiusKm);
    items.sort((a, b) => a.d - b.d || a.i - b.i);
    // The page is certain when its last item is strictly nearer than the farthest fetched: every
    // resource nearer than that was fetched. With a tie there, fetch more.
    const complete = found.length < m || items.length < found.length || items[query.limit - 1].d < items[items.length - 1].d;
    if (complete || m >= snap.size) {
      const page = items.slice(0, query.limit);
      return { indices: page.map((x) => x.i), distancesKm: page.map((x) => x.d), more: items.length > query.limit };
    }
    m *= 2;
  }
}

function byId(snap: Snapshot, query: SearchQuery, predicate: ((i: number) => boolean) | undefined, driven: Driver | null): PartResult {
  const test = predicate ?? (() => true);
  const driver = driven?.list;
  const out: number[] = [];
  const after = query.after?.id;
  if (driver) {
    let j = after === undefined ? 0 : upperBound(driver.length, (k) => snap.idOf(driver[k]) > after);
    for (; j < driver.length; j++) {
      if (test(driver[j]) && out.push(driver[j]) > query.limit) break;
    }
  } else {
    let i = after === undefined ? 0 : upperBound(snap.size, (k) => snap.idOf(k) > after);
    for (; i < snap.size; i++) {
      if (test(i) && out.push(i) > query.limit) break;
    }
  }
  const more = out.length > query.limit;
  return { indices: out.slice(0, query.limit), distancesKm: null, more };
}

/** The shortest posting list every match must be on, and whether kNN should walk its own kd-tree. */
interface Driver { list: Uint32Array; subIndex: boolean }

function pickDriver(snap: Snapshot, query: SearchQuery): Driver | null {
  const lists: Uint32Array[] = [];
  for (const group of query.tags ?? []) {
    if (group.length === 1) lists.push(snap.termPostings.get(group[0]) ?? new Uint32Array(0));
  }
  if (query.types?.length === 1) lists.push(snap.typePostings.get(query.types[0]) ?? new Uint32Array(0));
  const district = query.area?.kind === 'district' ? snap.districtPostings.get(query.area.id) ?? new Uint32Array(0) : undefined;
  if (district) lists.push(district);
  if (!lists.length) return null;
  const list = lists.reduce((a, b) => (b.length < a.length ? b : a));
  return { list, subIndex: list === district || list.length <= snap.size * SUB_INDEX_MAX_SHARE };
}

/** Every condition of the query as one test over a snapshot's indices (true when there is none). */
export function filterOf(snap: Snapshot, query: SearchQuery): (i: number) => boolean {
  return predicate(snap, query, null) ?? (() => true);
}

/** Compiles every condition of the query into one test over a resource index (hidden ones fail it). */
function predicate(snap: Snapshot, query: SearchQuery, hide: Uint8Array | null): ((i: number) => boolean) | undefined {
  const tests: ((i: number) => boolean)[] = [];
  if (hide) tests.push((i) => hide[i] === 0);
  const W = snap.termWords;
  for (const group of query.tags ?? []) {
    const mask = new Uint32Array(W);
    for (const id of group) {
      const b = snap.termBit.get(id);
      if (b !== undefined) mask[b >>> 5] |= 1 << (b & 31);
    }
    tests.push((i) => {
      for (let w = 0; w < W; w++) if (snap.termMask[i * W + w] & mask[w]) return true;
      return false;
    });
  }
  if (query.types?.length) {
    const codes = new Uint8Array(256);
    for (const t of query.types) {
      const k = snap.types.indexOf(t);
      if (k >= 0) codes[k] = 1;
    }
    tests.push((i) => codes[snap.typeCode[i]] === 1);
  }
  if (query.stages?.length) {
    let mask = 0;
    for (const s of query.stages) mask |= 1 << snap.stageBit.get(s)!;
    tests.push((i) => (snap.stageMask[i] & mask) !== 0);
  }
  if (query.free !== undefined) {
    const want = query.free ? 1 : 0;
    tests.push((i) => snap.free[i] === want);
  }
  if (query.area) {
    const area = query.area;
    if (area.kind === 'district') {
      const code = snap.districts.indexOf(area.id);
      tests.push((i) => snap.districtCode[i] === code);
    } else {
      tests.push((i) => snap.areas.contains(area, [snap.lng[i], snap.lat[i]]));
    }
  }
  if (query.bbox) {
    const [w, s, e, n] = query.bbox;
    tests.push((i) => snap.lng[i] >= w && snap.lng[i] <= e && snap.lat[i] >= s && snap.lat[i] <= n);
  }
  if (query.q) {
    const hits = snap.nameMatches(query.q);
    tests.push((i) => hits[i] === 1);
  }
  if (query.openAt) {
    const instant = query.openAt;
    const memo = snap.openMemo(instant);
    tests.push((i) => snap.openAt(i, instant, memo));
  }
  if (query.accept) tests.push(query.accept(snap));

  switch (tests.length) {
    case 0: return undefined;
    case 1: return tests[0];
    case 2: { const [a, b] = tests; return (i) => a(i) && b(i); }
    default: return (i) => {
      for (const t of tests) if (!t(i)) return false;
      return true;
    };
  }
}

/** The first k in [0, n) for which `above(k)` holds, given it holds for a suffix. */
function upperBound(n: number, above: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (above(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
