import { booleanValid, kinks } from '@turf/turf';
import type { MultiPolygon, Polygon } from 'geojson';
import { AppError } from '../errors.js';
import type { Database } from '../store/sql.js';
import { AreaStore } from '../store/areas.js';
import { bumpStructure } from '../store/db.js';
import { formatShanghai } from '../time.js';
import type { Area } from '../geo/areas.js';
import { toWgs84, type Crs, type LngLat } from '../geo/crs.js';
import type { SnapshotHolder } from '../engine/holder.js';
import type { Audit } from '../access/audit.js';
import type { Principal } from '../access/keys.js';
import { assertArea } from '../access/scope.js';

/** A feature the upload refused: its position in `features`, where, and why. */
export interface AreaRejection { feature: number; path: string; reason: string }

/** What an upload of areas did. */
export interface AreaReport { created: string[]; updated: string[]; rejected: AreaRejection[] }

/** Most features one upload may hold. */
const MAX_FEATURES = 5000;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * School districts (学区) as areas: uploaded as GeoJSON Polygon/MultiPolygon features (holes respected) in
 * any of the three CRS, stored in WGS-84, usable in `area=` of search, match and clusters once the answer
 * is back. Each feature is checked like an import row: a bad one is reported, the others are applied in
 * one write batch. Districts themselves are the bundled boundaries and cannot be replaced or deleted here.
 */
export class AreaEdits {
  private readonly store: AreaStore;

  constructor(private readonly db: Database, private readonly holder: SnapshotHolder, private readonly audit: Audit,
    private readonly clock: () => number = Date.now) {
    this.store = new AreaStore(db);
  }

  /** Stores the valid features of a FeatureCollection (upsert by `properties.id`), in scope of `by`. */
  async upload(collection: { features: unknown[] }, crs: Crs, by: Principal): Promise<AreaReport> {
    if (collection.features.length > MAX_FEATURES) {
      throw new AppError('payload_too_large', `at most ${MAX_FEATURES} features an upload; split the file`);
    }
    const snap = this.holder.current;
    const report: AreaReport = { created: [], updated: [], rejected: [] };
    const areas: Area[] = [];
    const seen = new Map<string, number>();
    collection.features.forEach((raw, k) => {
      const reject = (path: string, reason: string) => report.rejected.push({ feature: k, path: `features[${k}]${path}`, reason });
      const f = raw as { type?: unknown; geometry?: { type?: unknown; coordinates?: unknown }; properties?: Record<string, unknown> | null };
      const p = f.properties ?? {};
      if (f.type !== 'Feature') return reject('.type', "must be 'Feature'");
      if (typeof p.id !== 'string' || !ID.test(p.id)) return reject('.properties.id', 'must be an id of letters, digits and ._:- (at most 128)');
      if (typeof p.name !== 'string' || !p.name.trim() || p.name.length > 200) return reject('.properties.name', 'must be a name of 1–200 characters');
      if (p.kind !== 'school_district') return reject('.properties.kind', "must be 'school_district'");
      if (typeof p.parent !== 'string' || snap.areas.get(p.parent)?.kind !== 'district') {
        return reject('.properties.parent', 'must be the adcode of the Beijing district that holds it (110101…110119)');
      }
      const existing = snap.areas.get(p.id);
      if (existing?.kind === 'district') return reject('.properties.id', `'${p.id}' is a district; choose another id`);
      if (seen.has(p.id)) return reject('.properties.id', `repeats features[${seen.get(p.id)}]`);
      const geometry = convert(f.geometry, crs);
      if (typeof geometry === 'string') return reject('.geometry', geometry);
      try {
        assertArea(by, p.parent);
        if (existing) assertArea(by, existing.parentId);
      } catch (e) {
        if (e instanceof AppError) return reject('.properties.parent', `out_of_scope: ${e.message}`);
        throw e;
      }
      seen.set(p.id, k);
      const { id, name, kind: _k, parent, ...rest } = p;
      areas.push({ id, name: name.trim(), kind: 'school_district', parentId: parent, geometry, properties: rest });
      (existing ? report.updated : report.created).push(id);
    });
    if (areas.length) {
      await this.db.tx(async (t) => {
        await this.store.save(t, areas, formatShanghai(new Date(this.clock())));
        await bumpStructure(t);
        await this.audit.record(t, by, 'areas.upload', 'areas', { created: report.created.length, updated: report.updated.length, rejected: report.rejected.length });
      });
      await this.holder.rebuild();
    }
    return report;
  }

  /** Deletes a school district; a 404 for an unknown id, a 409 for a district (the bundled boundaries stay). */
  async remove(id: string, by: Principal): Promise<void> {
    const area = this.holder.current.areas.get(id);
    if (!area) throw new AppError('not_found', `no area '${id}'`);
    if (area.kind === 'district') throw new AppError('conflict', `'${id}' is a district; only school districts can be deleted`);
    assertArea(by, area.parentId);
    await this.db.tx(async (t) => {
      if (!(await this.store.remove(t, id))) return;
      await bumpStructure(t);
      await this.audit.record(t, by, 'area.delete', id);
    });
    await this.holder.rebuild();
  }
}

type Ring = number[][];

/** The geometry in WGS-84, or why it is not a valid Polygon/MultiPolygon of the given CRS. */
function convert(geometry: { type?: unknown; coordinates?: unknown } | undefined, crs: Crs): Polygon | MultiPolygon | string {
  if (!geometry || (geometry.type !== 'Polygon' && geometry.type !== 'MultiPolygon')) return 'must be a Polygon or a MultiPolygon';
  const polygons = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as unknown;
  if (!Array.isArray(polygons) || !polygons.length) return 'has no coordinates';
  const out: Ring[][] = [];
  for (const polygon of polygons as unknown[]) {
    if (!Array.isArray(polygon) || !polygon.length) return 'has a polygon without rings';
    const rings: Ring[] = [];
    for (const ring of polygon as unknown[]) {
      if (!Array.isArray(ring) || ring.length < 4) return 'has a ring of fewer than 4 positions';
      const points: Ring = [];
      for (const p of ring as unknown[]) {
        if (!Array.isArray(p) || p.length < 2 || !p.slice(0, 2).every((v) => typeof v === 'number' && Number.isFinite(v))) return 'has a position that is not [lng, lat]';
        if (Math.abs(p[0]) > 180 || Math.abs(p[1]) > 90) return 'has a position outside [-180, 180] × [-90, 90]';
        points.push(toWgs84([p[0], p[1]] as LngLat, crs));
      }
      const [a, b] = [points[0], points[points.length - 1]];
      if (a[0] !== b[0] || a[1] !== b[1]) return 'has a ring that does not close (first and last positions differ)';
      rings.push(points);
    }
    out.push(rings);
  }
  const result = (geometry.type === 'Polygon' ? { type: 'Polygon', coordinates: out[0] } : { type: 'MultiPolygon', coordinates: out }) as Polygon | MultiPolygon;
  // booleanValid checks rings and holes; kinks finds the self-intersections it lets through.
  return booleanValid(result) && kinks(result).features.length === 0 ? result : 'is not a valid polygon (a self-intersecting ring, or a hole outside its shell)';
}
