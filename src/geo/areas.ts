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

/**
 * An immutable spatial index of areas: rbush over bounding boxes narrows the candidates, turf's exact
 * point-in-polygon test confirms them.
 */
export class AreaIndex {
  private readonly tree = new RBush<Entry>();
  private readonly byId = new Map<string, Area>();

  constructor(readonly areas: readonly Area[]) {
    const entries = areas.map((area) => {
      const [minX, minY, maxX, maxY] = turfBbox(area.geometry);
      this.byId.set(area.id, area);
      return { minX, minY, maxX, maxY, area };
    });
    this.tree.load(entries);
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

  /** The district holding the WGS-84 point, or undefined outside Beijing. */
  districtOf(point: LngLat): Area | undefined {
    return this.containing(point, 'district')[0];
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
