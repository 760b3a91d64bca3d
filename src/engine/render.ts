import { type Crs, fromWgs84, roundCoord } from '../geo/crs.js';
import type { Snapshot } from './snapshot.js';

/** A free slot as answers show it (the earliest that fits an availability need). */
export interface FreeSlot {
  id: number;
  start: string;
  end: string;
  remaining: { individual: number; group: number };
}

/** What each rendered resource may carry besides its record. */
export interface RenderExtras {
  /** Great-circle distance from the search point, in km (answered as `distance_m`, rounded). */
  distancesKm?: readonly number[] | null;
  /** The slot each would book (answered as `slot`), for availability searches. */
  slots?: readonly (FreeSlot | null)[];
}

/**
 * Resources of a snapshot as JSON texts: each stored record (of the version the snapshot indexed) with its
 * `location` in `crs` and the extras, in the order of `indices`. Records are read in one store call.
 */
export async function resourcesJson(snap: Snapshot, indices: readonly number[], crs: Crs, extras: RenderExtras = {}): Promise<string[]> {
  const docs = await snap.records(indices);
  return indices.map((i, k) => {
    const [lng, lat] = fromWgs84([snap.lng[i], snap.lat[i]], crs);
    const distance = extras.distancesKm ? `,"distance_m":${Math.round(extras.distancesKm[k] * 1000)}` : '';
    const slot = extras.slots ? `,"slot":${JSON.stringify(extras.slots[k])}` : '';
    return `${docs[k].slice(0, -1)},"location":{"lng":${roundCoord(lng)},"lat":${roundCoord(lat)}}${distance}${slot}}`;
  });
}

/** `resourcesJson` as GeoJSON Features (coordinates in `crs`, the record as `properties`). */
export async function resourceFeatures(snap: Snapshot, indices: readonly number[], crs: Crs, extras: RenderExtras = {}): Promise<string[]> {
  const records = await resourcesJson(snap, indices, crs, extras);
  return records.map((json, k) => {
    const [lng, lat] = fromWgs84([snap.lng[indices[k]], snap.lat[indices[k]]], crs);
    return `{"type":"Feature","id":${JSON.stringify(snap.ids[indices[k]])},"geometry":{"type":"Point","coordinates":[${roundCoord(lng)},${roundCoord(lat)}]},"properties":${json}}`;
  });
}
