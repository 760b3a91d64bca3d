import gcoord from 'gcoord';
import type { LngLat } from './api.js';

/** The systems a base map may be drawn in. */
export type MapCrs = 'wgs84' | 'gcj02';

const SYSTEM = { wgs84: gcoord.WGS84, gcj02: gcoord.GCJ02 } as const;

/** A WGS-84 point (GPS, a link) in the map's system, to 1e-6° (about 10 cm). */
export function fromWgs84(p: LngLat, crs: MapCrs): LngLat {
  return crs === 'wgs84' ? p : round(gcoord.transform(p, gcoord.WGS84, SYSTEM[crs]) as LngLat);
}

/** A point of the map's system in WGS-84, to 1e-6°. */
export function toWgs84(p: LngLat, crs: MapCrs): LngLat {
  return crs === 'wgs84' ? p : round(gcoord.transform(p, SYSTEM[crs], gcoord.WGS84) as LngLat);
}

function round([lng, lat]: LngLat): LngLat {
  return [Math.round(lng * 1e6) / 1e6, Math.round(lat * 1e6) / 1e6];
}
