import gcoordModule from 'gcoord';

// gcoord is CommonJS whose typings declare an ES default export; at run time that default is module.exports.
const gcoord = gcoordModule as unknown as typeof gcoordModule.default;

/** Coordinate reference systems the API speaks: GPS/OSM, Amap/Tencent, Baidu. */
export const CRS_NAMES = ['wgs84', 'gcj02', 'bd09'] as const;
export type Crs = (typeof CRS_NAMES)[number];

/** A position as `[lng, lat]` in decimal degrees. */
export type LngLat = [number, number];

const GCOORD: Record<Crs, typeof gcoord.WGS84 | typeof gcoord.GCJ02 | typeof gcoord.BD09> = {
  wgs84: gcoord.WGS84,
  gcj02: gcoord.GCJ02,
  bd09: gcoord.BD09,
};

/** True for a string naming one of the supported systems. */
export function isCrs(name: string): name is Crs {
  return (CRS_NAMES as readonly string[]).includes(name);
}

/** Converts a point given in `crs` to WGS-84 (the stored system). A WGS-84 input is returned as is. */
export function toWgs84(point: LngLat, crs: Crs): LngLat {
  if (crs === 'wgs84') return point;
  return gcoord.transform(point, GCOORD[crs], gcoord.WGS84) as LngLat;
}

/** Converts a stored WGS-84 point to `crs` for an answer. */
export function fromWgs84(point: LngLat, crs: Crs): LngLat {
  if (crs === 'wgs84') return point;
  return gcoord.transform(point, gcoord.WGS84, GCOORD[crs]) as LngLat;
}

/** Rounds a coordinate to 7 decimals (about 1 cm), the precision of every answer. */
export function roundCoord(value: number): number {
  return Math.round(value * 1e7) / 1e7;
}
