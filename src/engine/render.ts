import { type Crs, fromWgs84, roundCoord } from '../geo/crs.js';
import type { Ref, View } from './view.js';

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
 * Resources of a view as JSON texts: each stored record (of the version the view indexed) with its
 * `location` in `crs` and the extras, in the order of `refs`. Records come from the record cache, the
 * rest in one store read per snapshot.
 */
export async function resourcesJson(view: View, refs: readonly Ref[], crs: Crs, extras: RenderExtras = {}): Promise<string[]> {
  const docs = await view.records(refs, true);
  return refs.map(({ snap, i }, k) => {
    const [lng, lat] = fromWgs84([snap.lng[i], snap.lat[i]], crs);
    const distance = extras.distancesKm ? `,"distance_m":${Math.round(extras.distancesKm[k] * 1000)}` : '';
    const slot = extras.slots ? `,"slot":${JSON.stringify(extras.slots[k])}` : '';
    return `${docs[k]},"location":{"lng":${roundCoord(lng)},"lat":${roundCoord(lat)}}${distance}${slot}}`;
  });
}

/** `resourcesJson` as GeoJSON Features (coordinates in `crs`, the record as `properties`). */
export async function resourceFeatures(view: View, refs: readonly Ref[], crs: Crs, extras: RenderExtras = {}): Promise<string[]> {
  const records = await resourcesJson(view, refs, crs, extras);
  return records.map((json, k) => feature(refs[k], crs, json));
}

/** One resource as a GeoJSON Feature with `properties` already rendered. */
export function feature({ snap, i }: Ref, crs: Crs, properties: string): string {
  const [lng, lat] = fromWgs84([snap.lng[i], snap.lat[i]], crs);
  return `{"type":"Feature","id":${JSON.stringify(snap.idOf(i))},"geometry":{"type":"Point","coordinates":[${roundCoord(lng)},${roundCoord(lat)}]},"properties":${properties}}`;
}
