import KDBush from 'kdbush';
import Supercluster from 'supercluster';
import { DOMAIN_ROOTS } from './parts.js';
import { shared, type TypedArrayOf } from './shared.js';

/**
 * Cluster hierarchies (supercluster) over resources, built where it costs nobody's wait: a million points
 * take seconds, so a large one is built in the build worker and handed back as typed arrays on shared
 * memory, from which `hydrate` makes a working `Supercluster` without rebuilding anything (a kd-tree view
 * per zoom over the shared bytes). Its queries are supercluster's own; only where its state came from
 * differs. That state is supercluster 9's fields (the kd-tree and cluster slab of each zoom, the points'
 * mercator coordinates, the point and cluster properties): the hierarchy test compares a hydrated index
 * with one built in place, answer for answer.
 */

/** Supercluster settings: a cluster gathers the points within `radius` screen px of it at each zoom. */
export const CLUSTER_OPTIONS = {
  radius: 60, // px
  extent: 256, // px per tile: zoom levels as in Leaflet, OpenStreetMap and Amap (256-px tiles)
  maxZoom: 16, // above this every resource is its own marker
  minPoints: 2,
};

/** Counts per primary domain, in `DOMAIN_ROOTS` order, then those without a domain term. */
export const COUNT_KEYS = [...DOMAIN_ROOTS, 'none'] as const;
export type CountKey = (typeof COUNT_KEYS)[number];
/** A point of a cluster index: index `i` of the `p`-th snapshot the index was built over. */
export interface PointProps { p: number; i: number }
/**
 * Cluster properties: the WGS-84 extent of the members (`w s e n`) and their counts per domain, as flat
 * numbers — supercluster copies a seed cluster's properties shallowly, so a nested array would be shared.
 */
export type Aggregate = { w: number; s: number; e: number; n: number } & Record<CountKey, number>;
export type ClusterIndex = Supercluster<PointProps, Aggregate>;
const AGGREGATE_KEYS = ['w', 's', 'e', 'n', ...COUNT_KEYS] as const;
const NONE = DOMAIN_ROOTS.length;

/** One part's points to cluster: its coordinates and primary domains (255: none), and which of its indices. */
export interface HierarchyInput {
  lng: Float64Array;
  lat: Float64Array;
  primaryDomain: Uint8Array;
  points: Uint32Array;
}

/** A built hierarchy as plain shared arrays (see `hydrate`). */
export interface HierarchyParts {
  numPoints: number;
  /** Per zoom 0…maxZoom+1: a kd-tree buffer and its cluster slab, or the zoom whose tree it shares. */
  trees: ({ kd: ArrayBufferLike; data: Int32Array } | number)[];
  /** Mercator x, y of each point (supercluster's `coords`). */
  coords: Float64Array;
  /** `AGGREGATE_KEYS.length` numbers per cluster property set, in supercluster's `clusterProps` order. */
  aggregates: Float64Array;
  /** The snapshot index of each point. */
  points: Uint32Array;
}

/** The supercluster of resources given as (snapshot, index) pairs, with domain counts and member extents. */
export function clusterIndex(lng: (p: PointProps) => number, lat: (p: PointProps) => number, domain: (p: PointProps) => number,
  points: readonly PointProps[]): ClusterIndex {
  const index = emptyIndex(lng, lat, domain);
  index.load(points.map((props) => ({ type: 'Feature', properties: props, geometry: { type: 'Point', coordinates: [lng(props), lat(props)] } })));
  return index;
}

/** A supercluster with edumap's settings, map and reduce, and nothing loaded. */
function emptyIndex(lng: (p: PointProps) => number, lat: (p: PointProps) => number, domain: (p: PointProps) => number): ClusterIndex {
  return new Supercluster<PointProps, Aggregate>({
    ...CLUSTER_OPTIONS,
    map: (props) => {
      const x = lng(props);
      const y = lat(props);
      const a = { w: x, e: x, s: y, n: y, de: 0, zhi: 0, ti: 0, mei: 0, lao: 0, none: 0 };
      const root = domain(props);
      a[COUNT_KEYS[root === 255 ? NONE : root]] = 1;
      return a;
    },
    reduce: (acc, p) => {
      acc.w = Math.min(acc.w, p.w);
      acc.e = Math.max(acc.e, p.e);
      acc.s = Math.min(acc.s, p.s);
      acc.n = Math.max(acc.n, p.n);
      for (const k of COUNT_KEYS) acc[k] += p[k];
    },
  });
}

/** Internals of supercluster 9 that a hierarchy is made of (see the module comment). */
interface State {
  numPoints: number;
  trees: (KDBush & { data: Int32Array | ArrayBufferLike })[];
  coords: Float64Array;
  props: PointProps[];
  clusterProps: Aggregate[];
  ids: null;
}

/** Builds the hierarchy of one part's points (what the build worker runs) as shared arrays. */
export function buildHierarchy({ lng, lat, primaryDomain, points }: HierarchyInput): HierarchyParts {
  const props = Array.from(points, (i) => ({ p: 0, i }));
  const index = clusterIndex((p) => lng[p.i], (p) => lat[p.i], (p) => primaryDomain[p.i], props) as unknown as State;
  const trees = index.trees.map((tree, z) => {
    const first = index.trees.indexOf(tree);
    if (first !== z) return first;
    return { kd: copied(new Uint8Array(tree.ids.buffer)).buffer, data: copied(tree.data as unknown as Int32Array) };
  });
  const aggregates = shared(Float64Array, index.clusterProps.length * AGGREGATE_KEYS.length);
  index.clusterProps.forEach((a, k) => AGGREGATE_KEYS.forEach((key, j) => (aggregates[k * AGGREGATE_KEYS.length + j] = a[key])));
  return { numPoints: index.numPoints, trees, coords: copied(index.coords), aggregates, points };
}

/**
 * A working supercluster over `parts`: its trees and slabs are the shared arrays; point and cluster
 * properties are read from them when a query returns one (`{ p: part, i }`, an `Aggregate`).
 */
export function hydrate(parts: HierarchyParts, part = 0): ClusterIndex {
  const none = () => {
    throw new Error('a hydrated cluster index is never loaded again');
  };
  const index = emptyIndex(none, none, none);
  const trees: State['trees'] = [];
  parts.trees.forEach((t, z) => {
    if (typeof t === 'number') trees[z] = trees[t];
    else trees[z] = Object.assign(KDBush.from(t.kd), { data: t.data });
  });
  const width = AGGREGATE_KEYS.length;
  Object.assign(index, {
    numPoints: parts.numPoints,
    trees,
    coords: parts.coords,
    ids: null,
    props: lazy((k) => ({ p: part, i: parts.points[k] })),
    clusterProps: lazy((k) => {
      const a = {} as Aggregate;
      AGGREGATE_KEYS.forEach((key, j) => (a[key] = parts.aggregates[k * width + j]));
      return a;
    }),
  });
  return index;
}

/** An array-like whose element k is made by `make(k)` when read (supercluster reads only `[k]`). */
function lazy<T>(make: (k: number) => T): T[] {
  return new Proxy([] as T[], {
    get: (target, key) => (typeof key === 'string' && /^\d+$/.test(key) ? make(Number(key)) : Reflect.get(target, key)),
  });
}

/** `a` copied onto shared memory. */
function copied<T extends Uint8Array | Int32Array | Float64Array>(a: T): T {
  const out = shared(a.constructor as TypedArrayOf<T>, a.length);
  out.set(a as never);
  return out;
}
