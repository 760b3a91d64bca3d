import { Snapshot } from './snapshot.js';
import { shared } from './shared.js';
import { filterOf, matchingPart, search, type SearchQuery } from './search.js';
import type { Ref, View } from './view.js';
import { HierarchyCache, type Exempt } from './hierarchy-cache.js';
import { buildHierarchy, clusterIndex, latY, lngX, xLng, yLat, CLUSTER_OPTIONS, COUNT_KEYS, Markers, type HierarchyInput, type Item, type PointProps } from './hierarchy.js';

/** The five 五育 roots, in the order of `DomainCounts`; index 5 counts resources with no domain term. */
export const DOMAINS = Snapshot.DOMAIN_ROOTS;
export type Domain = (typeof DOMAINS)[number];
const NO_DOMAIN = DOMAINS.length;

/** How many of an old base's most recently used filter combinations a new base is given ready (see `prepareClusters`). */
const PREPARED_PER_BASE = 2;

/** One marker of a clustered answer: a cluster of resources, or a single resource (`ref`). */
export interface ClusterItem {
  /** The resource, or null for a cluster. */
  ref: Ref | null;
  /** Supercluster id of a cluster, -1 for a resource. */
  clusterId: number;
  /** WGS-84 position: the resource's own, or the weighted centre of the cluster's resources. */
  lng: number;
  lat: number;
  /** Resources in this marker (1 for a resource). */
  count: number;
  /** Resources per primary domain, in `DOMAINS` order, then those without a domain term. */
  domains: number[];
  /** For a cluster: the zoom at which it splits into several markers. */
  expansionZoom?: number;
}

/** The markers for one view: they partition the matching resources inside the bbox (`Σ count = total`). */
export interface ClusterResult {
  items: ClusterItem[];
  /** Matching resources inside the bbox. */
  total: number;
}

/** A cluster hierarchy and the snapshots its points index into. */
interface Built { markers: Markers; snaps: readonly Snapshot[] }

const primaryDomains = new WeakMap<Snapshot, Uint8Array>();
/** The hierarchies of snapshots whose context brings no cache of its own (built by hand: tests, scripts). */
const fallbackCache = new HierarchyCache();
const cacheOf = (snap: Snapshot) => snap.ctx.clusterCache ?? fallbackCache;

/**
 * The primary 五育 domain of every resource of a snapshot, as an index into `DOMAINS` (5: none): the root
 * of the first domain term in the resource's `tags`, as the snapshot read it from the store.
 */
export function primaryDomainsOf(snap: Snapshot): Uint8Array {
  let out = primaryDomains.get(snap);
  if (!out) {
    out = new Uint8Array(snap.size);
    for (let i = 0; i < snap.size; i++) {
      const root = snap.primaryDomain[i];
      out[i] = root === 255 ? NO_DOMAIN : root;
    }
    primaryDomains.set(snap, out);
  }
  return out;
}

/**
 * Clusters the resources matching `filters` for a map view: `bbox` (WGS-84 `[w, s, e, n]`) at an integer
 * web-mercator `zoom`. The cluster hierarchy over all matching resources is built once per snapshot and
 * filter set (its `bbox`, `near`, `limit` and paging are ignored) and cached with the snapshot; a query
 * then costs a range search plus the splitting of clusters that straddle the bbox edge, so that every
 * returned marker's resources lie inside the bbox and the counts add up to the matching resources there.
 *
 * While the view has an overlay, the base's hierarchy still serves, and the overlay has its own (small)
 * one: a base cluster that may hold a resource the view hides is split down to the resources it holds,
 * hidden ones left out. Counts stay exact; the overlay's markers sit beside the base's until the next
 * base clusters them together.
 * Filters with a test function (`accept`: live availability) are not cached: their answer can change
 * without a new view, so their hierarchy is built for the request, over the whole view.
 *
 * A snapshot's hierarchy is built by its context's `hierarchies` (the build worker, for a large one: a
 * million points take seconds, and every other request goes on meanwhile); requests that need it wait for
 * that one build.
 */
export async function clusters(view: View, filters: SearchQuery, bbox: [number, number, number, number], zoom: number): Promise<ClusterResult> {
  const cacheable = !Object.values(filters).some((v) => typeof v === 'function');
  const [w, s, e, n] = bbox;
  const items: ClusterItem[] = [];
  let total = 0;

  const walk = ({ markers, snaps }: Built, hide: Uint8Array | null) => {
    // A cluster's aggregate: its members' extent (w s e n), then their counts per domain.
    const a = (at: number, j: number) => markers.aggregate(at, j);
    const inside = (at: number) => a(at, 0) >= w && a(at, 2) <= e && a(at, 1) >= s && a(at, 3) <= n;
    const disjoint = (at: number) => a(at, 2) < w || a(at, 0) > e || a(at, 3) < s || a(at, 1) > n;
    // Hidden resources this hierarchy holds that the view could meet: those matching, near the bbox.
    const hidden = hide ? hiddenNear(snaps[0], filters, view.hidden, padded(bbox, zoom)) : [];
    const holdsHidden = (at: number) => hidden.some(([lng, lat]) => lng >= a(at, 0) && lng <= a(at, 2) && lat >= a(at, 1) && lat <= a(at, 3));
    const visit = (item: Item) => {
      if (markers.isCluster(item)) {
        const at = markers.aggregateAt(item);
        if (disjoint(at)) return;
        const id = markers.clusterId(item);
        if (!inside(at) || (hidden.length && holdsHidden(at))) {
          for (const child of markers.children(id)) visit(child);
          return;
        }
        const [lng, lat] = markers.position(item);
        const count = markers.count(item);
        items.push({ ref: null, clusterId: id, lng, lat, count, domains: COUNT_KEYS.map((_, d) => a(at, 4 + d)), expansionZoom: markers.expansionZoom(id) });
        total += count;
        return;
      }
      const { p: part, i } = markers.point(item);
      const snap = snaps[part];
      if ((hide && hide[i]) || snap.lng[i] < w || snap.lng[i] > e || snap.lat[i] < s || snap.lat[i] > n) return;
      const domains = new Array<number>(DOMAINS.length + 1).fill(0);
      domains[primaryDomainsOf(snap)[i]] = 1;
      items.push({ ref: { snap, i }, clusterId: -1, lng: snap.lng[i], lat: snap.lat[i], count: 1, domains });
      total += 1;
    };
    for (const item of markers.inView(padded(bbox, zoom), zoom)) visit(item);
  };

  if (!cacheable) walk(viewIndex(view, filters), null);
  else {
    const built = await Promise.all(view.parts.map(({ snap }, k) => snapshotIndex(snap, filters, k > 0 ? 'overlay' : null)));
    view.parts.forEach(({ hide }, k) => walk(built[k], hide));
  }
  return { items, total };
}

/** Positions of the `hidden` base resources that match the filters and lie in `box`. */
function hiddenNear(base: Snapshot, filters: SearchQuery, hidden: Uint32Array, [w, s, e, n]: [number, number, number, number]): [number, number][] {
  const test = filterOf(base, { ...filters, near: undefined, radiusKm: undefined, bbox: undefined, after: undefined });
  const out: [number, number][] = [];
  for (const i of hidden) {
    const lng = base.lng[i];
    const lat = base.lat[i];
    if (lng >= w && lng <= e && lat >= s && lat <= n && test(i)) out.push([lng, lat]);
  }
  return out;
}

/**
 * The bbox widened by the farthest a cluster's centre can sit from its members at this zoom. A cluster
 * formed at zoom z takes children within r_z of a seed, so its centre is within r_z of the seed and 2·r_z
 * of each child; members are then within 2·r_z + 2·r_{z+1} + … < 4·r_z (r halves with each zoom).
 */
function padded([w, s, e, n]: [number, number, number, number], zoom: number): [number, number, number, number] {
  const z = Math.min(Math.max(0, zoom), CLUSTER_OPTIONS.maxZoom + 1);
  const pad = (4 * CLUSTER_OPTIONS.radius) / (CLUSTER_OPTIONS.extent * 2 ** z) * 1.001; // in mercator units (world = 1)
  const x0 = Math.max(0, lngX(w) - pad);
  const x1 = Math.min(1, lngX(e) + pad);
  const yTop = Math.max(0, latY(n) - pad);
  const yBottom = Math.min(1, latY(s) + pad);
  return [xLng(x0), yLat(yBottom), xLng(x1), yLat(yTop)];
}

/** The cluster hierarchy of a snapshot's resources matching `filters`, from its cache when it has it (or is building it). */
async function snapshotIndex(snap: Snapshot, filters: SearchQuery, exempt: Exempt | null = null): Promise<Built> {
  const cache = cacheOf(snap);
  const key = filterKey(filters);
  let built = cache.get(snap, key);
  if (!built) {
    const build = snap.ctx.hierarchies ?? ((i: HierarchyInput) => Promise.resolve(buildHierarchy(i)));
    built = matchingPoints(snap, filters)
      .then((points) => build({ lng: snap.lng, lat: snap.lat, primaryDomain: snap.primaryDomain, points }))
      .then((parts) => Markers.of(parts));
    // A failed build (the worker died) is not kept: the next request tries again.
    cache.add(snap, key, filters, built, exempt);
  }
  return { markers: await built, snaps: [snap] };
}

/**
 * Builds a new base's hierarchies for the filter sets the map asked of the base it replaces most recently
 * (at most `PREPARED_PER_BASE`); resolves when they are built. Each new base starts with no hierarchy, and
 * the first map request on it would wait for a build (seconds at 1M); the holder awaits this before it
 * swaps a folded base in (the view in service answers the same meanwhile; `ahead`: those hierarchies are
 * held beside the old base's until the swap, see `HierarchyCache`), and starts it for other new bases.
 * Nothing when the old base served no map. A failed build is left to the next request.
 */
export async function prepareClusters(next: Snapshot, old: Snapshot, { ahead = false } = {}): Promise<void> {
  const recent = cacheOf(old).recent(old, PREPARED_PER_BASE);
  await Promise.all(recent.map((filters) => snapshotIndex(next, filters, ahead ? 'prepared' : null).then(() => undefined, () => undefined)));
}

/** How many filter sets have a hierarchy on this snapshot, built or being built (tests). */
export function hierarchiesOf(snap: Snapshot): number {
  return cacheOf(snap).entriesOf(snap);
}

/**
 * The snapshot's indices matching `filters` (view, near and paging aside), in id order, on shared memory; a
 * slice per turn of the event loop: all of a million take ~100 ms, which every other request would wait.
 */
async function matchingPoints(snap: Snapshot, filters: SearchQuery): Promise<Uint32Array> {
  const chunks: number[][] = [];
  let n = 0;
  let turn = performance.now();
  for (const chunk of matchingPart(snap, { ...filters, near: undefined, radiusKm: undefined, bbox: undefined, after: undefined }, null, 20_000)) {
    chunks.push(chunk);
    n += chunk.length;
    if (performance.now() - turn > 10) {
      await new Promise((resolve) => setImmediate(resolve));
      turn = performance.now();
    }
  }
  const points = shared(Uint32Array, n);
  let at = 0;
  for (const chunk of chunks) {
    points.set(chunk, at);
    at += chunk.length;
  }
  return points;
}

/** The cluster hierarchy of every resource of the view matching `filters`, built for this request. */
function viewIndex(view: View, filters: SearchQuery): Built {
  const snaps = view.parts.map((part) => part.snap);
  const { refs } = search(view, { ...filters, near: undefined, radiusKm: undefined, bbox: undefined, after: undefined, limit: view.size });
  const at = (p: PointProps) => snaps[p.p];
  const index = clusterIndex((p) => at(p).lng[p.i], (p) => at(p).lat[p.i], (p) => at(p).primaryDomain[p.i],
    refs.map(({ snap, i }) => ({ p: snaps.indexOf(snap), i })));
  return { markers: Markers.ofIndex(index), snaps };
}

/**
 * A text that identifies the filters deciding which resources are clustered: the compiled query minus
 * the view and paging. Generic over the query's fields, so a filter added to `SearchQuery` later is keyed too.
 */
function filterKey(f: SearchQuery): string {
  const { bbox: _b, near: _n, radiusKm: _r, after: _a, limit: _l, area, ...rest } = f;
  return JSON.stringify([area?.id ?? null, rest]);
}
