import { type Crs, fromWgs84, roundCoord } from '../geo/crs.js';
import type { Snapshot } from './snapshot.js';

/**
 * Renders resource i of a snapshot as JSON text: the stored record of the version the snapshot indexed,
 * with its location in `crs` and, for a `near` search, `distance_m` (metres, rounded).
 */
export function resourceJson(snap: Snapshot, i: number, crs: Crs, distanceKm?: number): string {
  const doc = snap.reader.doc(snap.seqs[i]);
  if (doc === undefined) throw new Error(`resource version ${snap.seqs[i]} is gone; the snapshot outlived the retention grace`);
  const [lng, lat] = fromWgs84([snap.lng[i], snap.lat[i]], crs);
  const distance = distanceKm === undefined ? '' : `,"distance_m":${Math.round(distanceKm * 1000)}`;
  return `${doc.slice(0, -1)},"location":{"lng":${roundCoord(lng)},"lat":${roundCoord(lat)}}${distance}}`;
}

/** The same resource as a GeoJSON Feature (coordinates in `crs`). */
export function resourceFeature(snap: Snapshot, i: number, crs: Crs, distanceKm?: number): string {
  const [lng, lat] = fromWgs84([snap.lng[i], snap.lat[i]], crs);
  return `{"type":"Feature","id":${JSON.stringify(snap.ids[i])},"geometry":{"type":"Point","coordinates":[${roundCoord(lng)},${roundCoord(lat)}]},"properties":${resourceJson(snap, i, crs, distanceKm)}}`;
}

/** Binary search for a public id in the snapshot; -1 when absent. */
export function indexOfId(snap: Snapshot, id: string): number {
  let lo = 0;
  let hi = snap.size - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = snap.ids[mid];
    if (at === id) return mid;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
