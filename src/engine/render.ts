import { type Crs, fromWgs84, roundCoord } from '../geo/crs.js';
import type { Snapshot } from './snapshot.js';

/**
 * Renders resource i of a snapshot as JSON text: the stored record of the version the snapshot indexed,
 * with its location in `crs` and, for a `near` search, `distance_m` (metres, rounded).
 */
export function resourceJson(snap: Snapshot, i: number, crs: Crs, distanceKm?: number): string {
  return withLocation(snap, i, snap.reader.doc(snap.seqs[i]), crs, distanceKm);
}

/** `resourceJson` of several resources, their records read from the store in one statement. */
export function resourcesJson(snap: Snapshot, indices: readonly number[], crs: Crs, distancesKm?: readonly number[] | null): string[] {
  const docs = snap.reader.docs(indices.map((i) => snap.seqs[i]));
  return indices.map((i, k) => withLocation(snap, i, docs[k], crs, distancesKm?.[k]));
}

/** `resourcesJson` as GeoJSON Features (coordinates in `crs`). */
export function resourceFeatures(snap: Snapshot, indices: readonly number[], crs: Crs, distancesKm?: readonly number[] | null): string[] {
  return resourcesJson(snap, indices, crs, distancesKm).map((json, k) => {
    const [lng, lat] = fromWgs84([snap.lng[indices[k]], snap.lat[indices[k]]], crs);
    return `{"type":"Feature","id":${JSON.stringify(snap.ids[indices[k]])},"geometry":{"type":"Point","coordinates":[${roundCoord(lng)},${roundCoord(lat)}]},"properties":${json}}`;
  });
}

function withLocation(snap: Snapshot, i: number, doc: string | undefined, crs: Crs, distanceKm?: number): string {
  if (doc === undefined) throw new Error(`resource version ${snap.seqs[i]} is gone; the snapshot outlived the retention grace`);
  const [lng, lat] = fromWgs84([snap.lng[i], snap.lat[i]], crs);
  const distance = distanceKm === undefined ? '' : `,"distance_m":${Math.round(distanceKm * 1000)}`;
  return `${doc.slice(0, -1)},"location":{"lng":${roundCoord(lng)},"lat":${roundCoord(lat)}}${distance}}`;
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
