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

/**
 * A search answer as the UTF-8 bytes that go out: `head`, the resources of `refs` as `resourcesJson`
 * renders them (joined by commas), then `tail`. Records the cache holds are written from it byte by byte,
 * with no string made per record (`RecordCache.write`); the others are read first, as `resourcesJson`
 * reads them, and written from their text.
 */
export async function answerBytes(view: View, refs: readonly Ref[], crs: Crs, extras: RenderExtras, head: string, tail: string): Promise<Buffer> {
  const texts = new Map<number, string>();
  for (;;) {
    // Written without a wait, so that one scratch serves every answer.
    const end = writeAnswer(refs, crs, extras, head, tail, texts);
    if (end >= 0) {
      const body = Buffer.allocUnsafe(end);
      scratch.bytes.copy(body, 0, 0, end);
      return body;
    }
    // A record the cache does not hold (rare once it is warm): read every such one, and write again. (No
    // look first: at 1M resources each look-up misses the CPU's caches, and the write looks anyway.)
    const lacking = refs.flatMap(({ snap, i }, k) => (texts.has(k) || snap.ctx.records.has(snap.seqs[i]) ? [] : [k]));
    if (!lacking.includes(-end - 1)) lacking.push(-end - 1);
    const docs = await view.records(lacking.map((k) => refs[k]), true);
    lacking.forEach((k, j) => texts.set(k, docs[j]));
  }
}

/** The bytes `answerBytes` writes into before copying them out. */
const scratch = { bytes: Buffer.allocUnsafe(64 * 1024) };

/** Writes an answer into `scratch`; its length, or −(k + 1) when the cache no longer holds the record of `refs[k]` (nor `texts`). */
function writeAnswer(refs: readonly Ref[], crs: Crs, extras: RenderExtras, head: string, tail: string, texts: Map<number, string>): number {
  let at = writeText(head, 0);
  for (let k = 0; k < refs.length; k++) {
    const { snap, i } = refs[k];
    if (k) at = writeText(',', at);
    const text = texts.get(k);
    if (text !== undefined) at = writeText(text, at);
    else {
      let end: number;
      while ((end = snap.ctx.records.write(snap.seqs[i], snap, i, scratch.bytes, at)) === -2) grow(scratch.bytes.length * 2);
      if (end < 0) return -(k + 1);
      at = end;
    }
    const [lng, lat] = fromWgs84([snap.lng[i], snap.lat[i]], crs);
    const distance = extras.distancesKm ? `,"distance_m":${Math.round(extras.distancesKm[k] * 1000)}` : '';
    const slot = extras.slots ? `,"slot":${JSON.stringify(extras.slots[k])}` : '';
    at = writeText(`,"location":{"lng":${roundCoord(lng)},"lat":${roundCoord(lat)}}${distance}${slot}}`, at);
  }
  return writeText(tail, at);
}

/**
 * Writes `text` as UTF-8 into `scratch` at `at` (grown as needed); where it ends. What answers add to
 * records (keys, numbers, cursors) is ASCII, copied here by char code: cheaper, for a few dozen
 * characters, than a call to `Buffer.write`, which the first other character falls back to.
 */
function writeText(text: string, at: number): number {
  if (at + text.length * 3 > scratch.bytes.length) grow(Math.max(scratch.bytes.length * 2, at + text.length * 3));
  const out = scratch.bytes;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c > 127) return at + out.write(text, at, 'utf8');
    out[at + k] = c;
  }
  return at + text.length;
}

function grow(size: number): void {
  const next = Buffer.allocUnsafe(size);
  scratch.bytes.copy(next);
  scratch.bytes = next;
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
