import RBush from 'rbush';
import { booleanPointInPolygon, bbox as turfBbox } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import type { LngLat } from './crs.js';

/** An area: a district (adcode) or an imported school district. Geometry in WGS-84. */
export interface Area {
  id: string;
  name: string;
  kind: 'district' | 'school_district';
  /** Adcode of the district that holds a school district; a district's own adcode. */
  parentId: string | null;
  geometry: Polygon | MultiPolygon;
  properties: Record<string, unknown>;
}

interface Entry { minX: number; minY: number; maxX: number; maxY: number; area: Area }
/** One edge of a district's outline, boxed for the sliver search. */
interface Edge { minX: number; minY: number; maxX: number; maxY: number; a: number[]; b: number[]; area: Area }

/** How far outside every district outline a point may lie and still be in the nearest district, in metres. */
export const SLIVER_M = 25;
/** SLIVER_M in degrees, generously (a degree of longitude at Beijing's 40°N is about 85 km; of latitude 111 km). */
const SLIVER_DEG = 0.0004;
const M_PER_DEG_LAT = 110_574;

/**
 * Metres from p to the segment ab, on a local equirectangular plane about p (exact to well under 1 % over the
 * few tens of metres that matter here).
 */
export function metresToSegment([px, py]: LngLat, a: number[], b: number[]): number {
  const kx = M_PER_DEG_LAT * Math.cos((py * Math.PI) / 180);
  const ax = (a[0] - px) * kx, ay = (a[1] - py) * M_PER_DEG_LAT;
  const bx = (b[0] - px) * kx, by = (b[1] - py) * M_PER_DEG_LAT;
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

/**
 * An immutable spatial index of areas: rbush over bounding boxes narrows the candidates, turf's exact
 * point-in-polygon test confirms them.
 */
export class AreaIndex {
  private readonly tree = new RBush<Entry>();
  private readonly byId = new Map<string, Area>();
  private readonly grid: DistrictGrid;
  private readonly edges = new RBush<Edge>();

  constructor(readonly areas: readonly Area[]) {
    const entries = areas.map((area) => {
      const [minX, minY, maxX, maxY] = turfBbox(area.geometry);
      this.byId.set(area.id, area);
      return { minX, minY, maxX, maxY, area };
    });
    this.tree.load(entries);
    const edges: Edge[] = [];
    for (const area of areas) {
      if (area.kind !== 'district') continue;
      for (const ring of ringsOf(area)) {
        for (let i = 1; i < ring.length; i++) {
          const a = ring[i - 1], b = ring[i];
          edges.push({ minX: Math.min(a[0], b[0]), minY: Math.min(a[1], b[1]), maxX: Math.max(a[0], b[0]), maxY: Math.max(a[1], b[1]), a, b, area });
        }
      }
    }
    this.edges.load(edges);
    this.grid = new DistrictGrid((p) => this.containing(p, 'district')[0] ?? this.nearestDistrict(p, SLIVER_M), areas.filter((a) => a.kind === 'district'));
  }

  /** The area with this id, if any. */
  get(id: string): Area | undefined {
    return this.byId.get(id);
  }

  /** Areas of `kind` that contain the WGS-84 point (boundary included), in id order. */
  containing([lng, lat]: LngLat, kind: Area['kind'] = 'district'): Area[] {
    const hits = this.tree.search({ minX: lng, minY: lat, maxX: lng, maxY: lat });
    return hits
      .filter((e) => e.area.kind === kind && booleanPointInPolygon([lng, lat], e.area.geometry))
      .map((e) => e.area)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * The district holding the WGS-84 point, or undefined outside Beijing. A point in no district polygon
   * but within `SLIVER_M` of one belongs to the nearest: adjacent districts' outlines do not meet exactly
   * (slivers of a metre or two between them), and a museum on the boundary is in Beijing all the same.
   */
  districtOf(point: LngLat): Area | undefined {
    return this.grid.districtOf(point);
  }

  /** The district nearest the point within `maxM` metres of its outline, if any. */
  private nearestDistrict([lng, lat]: LngLat, maxM: number): Area | undefined {
    let best: { area: Area; m: number } | undefined;
    for (const e of this.edges.search({ minX: lng - SLIVER_DEG, minY: lat - SLIVER_DEG, maxX: lng + SLIVER_DEG, maxY: lat + SLIVER_DEG })) {
      const m = metresToSegment([lng, lat], e.a, e.b);
      if (m <= maxM && (!best || m < best.m || (m === best.m && e.area.id < best.area.id))) best = { area: e.area, m };
    }
    return best?.area;
  }

  /** True when the WGS-84 point lies in (or on the edge of) the area. */
  contains(area: Area, [lng, lat]: LngLat): boolean {
    return booleanPointInPolygon([lng, lat], area.geometry);
  }

  /** All areas of a kind, in id order. */
  list(kind?: Area['kind']): Area[] {
    return this.areas.filter((a) => !kind || a.kind === kind).sort((a, b) => a.id.localeCompare(b.id));
  }
}

/** Reads the districts from a GeoJSON FeatureCollection with DataV properties (`adcode`, `name`). */
export function districtsFromGeoJson(collection: { features: Feature[] }): Area[] {
  return collection.features.map((f) => {
    const props = (f.properties ?? {}) as Record<string, unknown>;
    if (f.geometry.type !== 'Polygon' && f.geometry.type !== 'MultiPolygon') {
      throw new Error(`district ${String(props.adcode)} is a ${f.geometry.type}, not a polygon`);
    }
    return {
      id: String(props.adcode),
      name: String(props.name),
      kind: 'district' as const,
      parentId: null,
      geometry: f.geometry,
      properties: { center: props.center, centroid: props.centroid },
    };
  });
}

/**
 * Answers "which district?" in O(1) for most points. A grid over the districts marks every cell that a
 * boundary segment's bounding box touches; in any other cell all points lie in the same district (or all
 * outside), so the exact test runs once, at the cell's centre, and the answer is kept. Points in boundary
 * cells always get the exact test. Cells are half-open; each segment's box is widened by EDGE_PAD_DEG so
 * rounding in the cell arithmetic cannot leave a boundary in an unmarked cell.
 */
class DistrictGrid {
  private static readonly CELL_DEG = 0.005;
  private static readonly EDGE_PAD_DEG = 1e-9;
  private static readonly UNKNOWN = 0;
  private static readonly EDGE = -1;
  private static readonly OUTSIDE = -2;
  private readonly minX: number = 0;
  private readonly minY: number = 0;
  private readonly cols: number = 0;
  private readonly rows: number = 0;
  /** Per cell: UNKNOWN, EDGE, OUTSIDE, or 1 + the position of its district in `districts`. */
  private readonly cells: Int16Array = new Int16Array(0);
  /**
   * Per cell: 1 when an outline passes within SLIVER_DEG. Such a cell, though no outline crosses it, may hold
   * points outside every district yet within SLIVER_M of one: outside points there get the exact test.
   */
  private readonly near: Uint8Array = new Uint8Array(0);

  constructor(private readonly exact: (p: LngLat) => Area | undefined, private readonly districts: readonly Area[]) {
    if (!districts.length) return;
    const boxes = districts.map((a) => turfBbox(a.geometry));
    this.minX = Math.min(...boxes.map((b) => b[0]));
    this.minY = Math.min(...boxes.map((b) => b[1]));
    this.cols = Math.ceil((Math.max(...boxes.map((b) => b[2])) - this.minX) / DistrictGrid.CELL_DEG) + 1;
    this.rows = Math.ceil((Math.max(...boxes.map((b) => b[3])) - this.minY) / DistrictGrid.CELL_DEG) + 1;
    this.cells = new Int16Array(this.cols * this.rows);
    this.near = new Uint8Array(this.cols * this.rows);
    for (const area of districts) {
      for (const ring of ringsOf(area)) {
        for (let i = 1; i < ring.length; i++) {
          this.mark(ring[i - 1], ring[i], DistrictGrid.EDGE_PAD_DEG, (cell) => (this.cells[cell] = DistrictGrid.EDGE));
          this.mark(ring[i - 1], ring[i], SLIVER_DEG, (cell) => (this.near[cell] = 1));
        }
      }
    }
  }

  districtOf(point: LngLat): Area | undefined {
    const col = Math.floor((point[0] - this.minX) / DistrictGrid.CELL_DEG);
    const row = Math.floor((point[1] - this.minY) / DistrictGrid.CELL_DEG);
    if (!(col >= 0 && row >= 0 && col < this.cols && row < this.rows)) return this.exact(point);
    const cell = row * this.cols + col;
    let state = this.cells[cell];
    if (state === DistrictGrid.EDGE) return this.exact(point);
    if (state === DistrictGrid.UNKNOWN) {
      const centre: LngLat = [this.minX + (col + 0.5) * DistrictGrid.CELL_DEG, this.minY + (row + 0.5) * DistrictGrid.CELL_DEG];
      const area = this.exact(centre);
      state = area ? this.districts.indexOf(area) + 1 : DistrictGrid.OUTSIDE;
      this.cells[cell] = state;
    }
    if (state === DistrictGrid.OUTSIDE) return this.near[cell] ? this.exact(point) : undefined;
    return this.districts[state - 1];
  }

  /** Calls `set` for every cell that the segment's box, widened by `pad` degrees, touches. */
  private mark(a: number[], b: number[], pad: number, set: (cell: number) => void): void {
    const size = DistrictGrid.CELL_DEG;
    const col0 = Math.max(0, Math.floor((Math.min(a[0], b[0]) - pad - this.minX) / size));
    const col1 = Math.min(this.cols - 1, Math.floor((Math.max(a[0], b[0]) + pad - this.minX) / size));
    const row0 = Math.max(0, Math.floor((Math.min(a[1], b[1]) - pad - this.minY) / size));
    const row1 = Math.min(this.rows - 1, Math.floor((Math.max(a[1], b[1]) + pad - this.minY) / size));
    for (let row = row0; row <= row1; row++) {
      for (let col = col0; col <= col1; col++) set(row * this.cols + col);
    }
  }

}

/** Every ring (outer and holes) of an area's polygons. */
function ringsOf(area: Area): number[][][] {
  return area.geometry.type === 'Polygon' ? area.geometry.coordinates : area.geometry.coordinates.flat();
}
