import KDBush from 'kdbush';
import Supercluster, { type PointFeature } from 'supercluster';
import { DOMAIN_ROOTS } from './parts.js';
import { shared, type TypedArrayOf } from './shared.js';

/**
 * Cluster hierarchies (supercluster) over resources, built where it costs nobody's wait: a million points
 * take seconds, so a large one is built in the build worker and handed back as typed arrays on shared
 * memory, which `Markers` reads without rebuilding anything (a kd-tree view per zoom over the shared
 * bytes). Its queries are supercluster's own, over supercluster 9's state (the kd-tree and cluster slab of
 * each zoom, the cluster properties): the hierarchy test compares its answers with supercluster's, built
 * in place, answer for answer.
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

/** A built hierarchy as plain shared arrays (see `Markers.of`). */
export interface HierarchyParts {
  numPoints: number;
  /**
   * Per zoom 0…maxZoom+1: a kd-tree buffer and its cluster slab, or the zoom whose tree it shares. The
   * points' own zoom (`leaf`) keeps `LEAF_STRIDE` numbers per point, not supercluster's `STRIDE`.
   */
  trees: ({ kd: ArrayBufferLike; data: Int32Array; leaf?: true } | number)[];
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
function emptyIndex<P = PointProps>(lng: (p: P) => number, lat: (p: P) => number, domain: (p: P) => number): ClusterIndex {
  return new Supercluster<PointProps, Aggregate>({
    ...CLUSTER_OPTIONS,
    map: (stored) => {
      const props = stored as P; // what the points were loaded with (`buildHierarchy`: a number)
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

/** A zoom's kd-tree with its slab (supercluster sets `data`, which kdbush declares its buffer). */
type Tree = Omit<KDBush, 'data'> & { data: Int32Array };

/** Internals of supercluster 9 that a hierarchy is made of (see the module comment). */
interface State {
  numPoints: number;
  stride: number;
  trees: Tree[];
  props: PointProps[];
  clusterProps: Aggregate[];
}

/** The internals of an index, checked for the slab layout `Markers` reads. */
function stateOf(index: ClusterIndex): State {
  const state = index as unknown as State;
  if (state.stride !== STRIDE) throw new Error(`supercluster's slab has ${state.stride} numbers per item; edumap reads ${STRIDE}`);
  return state;
}

/**
 * Builds the hierarchy of one part's points (what the build worker runs) as shared arrays. Each point's
 * properties are its snapshot index itself, and one feature object carries every point in turn into
 * supercluster (which keeps the properties and reads the coordinates as it goes): a feature and a
 * property object per point left ~150 MB behind in the worker at 1M points, held as RSS for a while.
 */
export function buildHierarchy({ lng, lat, primaryDomain, points }: HierarchyInput): HierarchyParts {
  const built = emptyIndex<number>((i) => lng[i], (i) => lat[i], (i) => primaryDomain[i]);
  built.load(oneFeatureEach(points, lng, lat));
  const index = stateOf(built);
  const pointsTree = index.trees[CLUSTER_OPTIONS.maxZoom + 1];
  const trees = index.trees.map((tree, z) => {
    const first = index.trees.indexOf(tree);
    if (first !== z) return first;
    const kd = copied(new Uint8Array(tree.ids.buffer)).buffer;
    if (tree === pointsTree) return { kd, data: leavesOf(tree), leaf: true as const };
    // A zoom's slab is allocated for the zoom below's items and filled with fewer: only those are kept.
    return { kd, data: copied(tree.data.subarray(0, tree.numItems * STRIDE)) };
  });
  const aggregates = aggregatesOf(index.clusterProps, shared(Float64Array, index.clusterProps.length * AGGREGATE_KEYS.length));
  return { numPoints: index.numPoints, trees, aggregates, points };
}

/**
 * The points' zoom as `LEAF_STRIDE` numbers a point (x, y, parent cluster): of supercluster's seven, the
 * others are the same for every point (a count of 1, no cluster properties), its own index, or unread.
 * At 1M points that is 12 MB instead of 28.
 */
function leavesOf(tree: Tree): Int32Array {
  const out = shared(Int32Array, tree.numItems * LEAF_STRIDE);
  for (let id = 0; id < tree.numItems; id++) {
    const k = id * STRIDE;
    if (tree.data[k + OFFSET_ID] !== id || tree.data[k + OFFSET_NUM] !== 1) throw new Error(`supercluster's point ${id} is not in its place`);
    out[id * LEAF_STRIDE] = tree.data[k];
    out[id * LEAF_STRIDE + 1] = tree.data[k + 1];
    out[id * LEAF_STRIDE + 2] = tree.data[k + OFFSET_PARENT];
  }
  return out;
}

/** The points as supercluster's input: `length`, and one feature object re-filled for each in turn. */
function oneFeatureEach(points: Uint32Array, lng: Float64Array, lat: Float64Array): PointFeature<PointProps>[] {
  return {
    length: points.length,
    *[Symbol.iterator]() {
      const coordinates = [0, 0];
      const feature = { type: 'Feature', properties: 0, geometry: { type: 'Point', coordinates } };
      for (const i of points) {
        feature.properties = i;
        coordinates[0] = lng[i];
        coordinates[1] = lat[i];
        yield feature;
      }
    },
  } as unknown as PointFeature<PointProps>[];
}

/** Bytes of a built hierarchy's arrays (what it holds in memory; a zoom sharing another's tree counts once). */
export function hierarchyBytes({ trees, aggregates, points }: HierarchyParts): number {
  let bytes = aggregates.byteLength + points.byteLength;
  for (const t of trees) if (typeof t !== 'number') bytes += t.kd.byteLength + t.data.byteLength;
  return bytes;
}

/** Cluster properties as `AGGREGATE_KEYS.length` numbers each, into `out`. */
function aggregatesOf(props: readonly Aggregate[], out = new Float64Array(props.length * AGGREGATE_KEYS.length)): Float64Array {
  props.forEach((a, k) => AGGREGATE_KEYS.forEach((key, j) => (out[k * AGGREGATE_KEYS.length + j] = a[key])));
  return out;
}

// Supercluster 9's slab with a `reduce` (as every index here has): per item its x, y (mercator in [0, 1],
// as (c - 0.5)·2^30 integers), zoom, id, parent cluster id, point count and cluster property index.
const STRIDE = 7;
const OFFSET_ID = 3;
const OFFSET_PARENT = 4;
const OFFSET_NUM = 5;
const OFFSET_PROP = 6;
const SCALE = 2 ** 30;
/** The points' zoom (see `leavesOf`): x, y, parent. */
const LEAF_STRIDE = 3;
const LEAF_PARENT = 2;

/** A marker of a hierarchy: its record at offset `k` of a zoom's slab. */
export interface Item {
  readonly data: Int32Array;
  readonly k: number;
}

/**
 * A hierarchy as the map's walk reads it: the items in a view, a cluster's children and expansion zoom,
 * its extent and counts, a point's resource. These are supercluster's own queries over the same state,
 * without the GeoJSON feature and property objects supercluster makes for every item it returns: in a
 * script (not the committed bench, which times the whole answer), a street-level walk at zoom 12 over 1M
 * resources took 43–52 ms through supercluster's queries, 13–16 ms through these.
 * `test/hierarchy.test.ts` holds its answers to supercluster's.
 */
export class Markers {
  private constructor(
    private readonly numPoints: number,
    private readonly trees: readonly Tree[],
    /** `AGGREGATE_KEYS.length` numbers per cluster property set. */
    private readonly aggregates: Float64Array,
    /** The point of input index k. */
    private readonly pointAt: (k: number) => PointProps,
    /** Bytes of its arrays (0 for one built in place: it is not cached). */
    readonly bytes = 0,
    /** The points' slab when it is `LEAF_STRIDE` numbers a point (see `leavesOf`). */
    private readonly leaves: Int32Array | null = null,
  ) {}

  /** Over a hierarchy handed back by `buildHierarchy` (its points are of one snapshot, part 0). */
  static of(parts: HierarchyParts): Markers {
    const trees: Tree[] = [];
    let leaves: Int32Array | null = null;
    parts.trees.forEach((t, z) => {
      trees[z] = typeof t === 'number' ? trees[t] : Object.assign(KDBush.from(t.kd), { data: t.data });
      if (typeof t !== 'number' && t.leaf) leaves = t.data;
    });
    return new Markers(parts.numPoints, trees, parts.aggregates, (k) => ({ p: 0, i: parts.points[k] }), hierarchyBytes(parts), leaves);
  }

  /** Over a supercluster built in place (`clusterIndex`). */
  static ofIndex(index: ClusterIndex): Markers {
    const state = stateOf(index);
    return new Markers(state.numPoints, state.trees, aggregatesOf(state.clusterProps), (k) => state.props[k]);
  }

  /** The items at `zoom` whose position lies in the WGS-84 `[w, s, e, n]` (supercluster's `getClusters`). */
  inView([w, s, e, n]: readonly [number, number, number, number], zoom: number): Item[] {
    const tree = this.trees[Math.max(0, Math.min(Math.floor(zoom), CLUSTER_OPTIONS.maxZoom + 1))];
    const ids = tree.range(encode(lngX(w)), encode(latY(n)), encode(lngX(e)), encode(latY(s)));
    const stride = this.strideOf(tree.data);
    return ids.map((id) => ({ data: tree.data, k: id * stride }));
  }

  /** The items a cluster splits into one zoom deeper (supercluster's `getChildren`). */
  children(clusterId: number): Item[] {
    const originId = (clusterId - this.numPoints) >> 5;
    const originZoom = (clusterId - this.numPoints) % 32;
    const tree = this.trees[originZoom];
    const { data } = tree;
    const stride = this.strideOf(data);
    const parent = data === this.leaves ? LEAF_PARENT : OFFSET_PARENT;
    const r = CLUSTER_OPTIONS.radius / (CLUSTER_OPTIONS.extent * 2 ** (originZoom - 1));
    const out: Item[] = [];
    for (const id of tree.within(data[originId * stride], data[originId * stride + 1], r * SCALE)) {
      const k = id * stride;
      if (data[k + parent] === clusterId) out.push({ data, k });
    }
    if (!out.length) throw new Error(`no cluster ${clusterId}`);
    return out;
  }

  /** The zoom at which a cluster splits into several items (supercluster's `getClusterExpansionZoom`). */
  expansionZoom(clusterId: number): number {
    let zoom = ((clusterId - this.numPoints) % 32) - 1;
    for (let id = clusterId; zoom <= CLUSTER_OPTIONS.maxZoom;) {
      const children = this.children(id);
      zoom++;
      if (children.length !== 1) break;
      id = this.clusterId(children[0]);
    }
    return zoom;
  }

  isCluster({ data, k }: Item): boolean {
    return data !== this.leaves && data[k + OFFSET_NUM] > 1;
  }

  clusterId({ data, k }: Item): number {
    return data === this.leaves ? k / LEAF_STRIDE : data[k + OFFSET_ID];
  }

  /** Resources under the item (1 for a point). */
  count({ data, k }: Item): number {
    return data === this.leaves ? 1 : data[k + OFFSET_NUM];
  }

  /** A cluster's position, WGS-84 `[lng, lat]`. */
  position({ data, k }: Item): [number, number] {
    return [xLng(data[k] / SCALE + 0.5), yLat(data[k + 1] / SCALE + 0.5)];
  }

  /** Where a cluster's aggregate starts in `aggregate`'s numbers: `w s e n`, then the counts in `COUNT_KEYS` order. */
  aggregateAt({ data, k }: Item): number {
    return data[k + OFFSET_PROP] * AGGREGATE_KEYS.length;
  }

  /** Number j of the aggregate starting at `at` (see `aggregateAt`). */
  aggregate(at: number, j: number): number {
    return this.aggregates[at + j];
  }

  /** A point's resource. */
  point(item: Item): PointProps {
    return this.pointAt(this.clusterId(item));
  }

  private strideOf(data: Int32Array): number {
    return data === this.leaves ? LEAF_STRIDE : STRIDE;
  }
}

const encode = (c: number) => (c - 0.5) * SCALE;

// Web-mercator in [0, 1], as supercluster uses.
export function lngX(lng: number): number {
  return lng / 360 + 0.5;
}
export function latY(lat: number): number {
  const sin = Math.sin((lat * Math.PI) / 180);
  const y = 0.5 - (0.25 * Math.log((1 + sin) / (1 - sin))) / Math.PI;
  return y < 0 ? 0 : y > 1 ? 1 : y;
}
export function xLng(x: number): number {
  return (x - 0.5) * 360;
}
export function yLat(y: number): number {
  const y2 = ((180 - y * 360) * Math.PI) / 180;
  return (360 * Math.atan(Math.exp(y2))) / Math.PI - 90;
}

/** `a` copied onto shared memory. */
function copied<T extends Uint8Array | Int32Array | Float64Array>(a: T): T {
  const out = shared(a.constructor as TypedArrayOf<T>, a.length);
  out.set(a as never);
  return out;
}
