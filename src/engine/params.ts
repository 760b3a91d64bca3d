import { hash } from 'node:crypto';
import { AppError, invalidField } from '../errors.js';
import { resolveTerm, TAG_FACETS, UnknownTermError, type Taxonomy } from '../taxonomy/taxonomy.js';
import { type Crs, type LngLat, toWgs84 } from '../geo/crs.js';
import { parseDateTime, SHANGHAI_OFFSET_MIN } from '../time.js';

/** Who a quota is for: individuals (families) or school groups. */
export type Kind = 'individual' | 'group';

/** Search parameters as the API takes them, already shape-checked by the contract. */
export interface SearchParams {
  near?: string;
  radius_km?: number;
  bbox?: string;
  area?: string;
  tag?: string[];
  type?: string;
  stage?: string;
  open_at?: string;
  free?: boolean;
  q?: string;
  limit?: number;
  cursor?: string;
  crs?: Crs;
  /** Availability: a slot starting in the window with `seats` free places of `kind`. */
  available_from?: string;
  available_to?: string;
  seats?: number;
  kind?: Kind;
}

/** What an availability-aware query asks for: a slot starting in [fromMs, toMs) with `seats` free places of `kind`. */
export interface Need {
  fromMs: number;
  toMs: number;
  seats: number;
  kind: Kind;
}

const DAY_MS = 86_400_000;
/** Widest availability window, in days. */
const MAX_WINDOW_DAYS = 92;
/** How far ahead `POST /v1/match` looks for seats when the request names no time, in days. */
export const MATCH_DAYS_AHEAD = 7;

const DATETIME_HINT = 'must be an ISO 8601 date-time such as 2026-12-05T14:00 or 2026-12-05T14:00+08:00';

/** Parses a `lng,lat` pair given in `crs` into WGS-84, or a 400 naming `field`. */
export function parseLngLat(text: string, crs: Crs, field: string): LngLat {
  const [lng, lat] = text.split(',').map((s) => Number(s.trim()));
  return point(lng, lat, crs, field, field);
}

/** A point given as numbers in `crs`, in WGS-84; a 400 naming the field of the bad coordinate. */
export function point(lng: number, lat: number, crs: Crs, lngField: string, latField: string): LngLat {
  if (!(Math.abs(lng) <= 180)) throw invalidField(lngField, 'longitude must be between -180 and 180');
  if (!(Math.abs(lat) <= 90)) throw invalidField(latField, 'latitude must be between -90 and 90');
  return toWgs84([lng, lat], crs);
}

/** Resolves one taxonomy term (id or alias) of the given facets, or a 400 naming `field` with suggestions. */
export function termParam(tax: Taxonomy, name: string, facets: readonly string[], field: string): string {
  try {
    return resolveTerm(tax, name, facets);
  } catch (e) {
    if (!(e instanceof UnknownTermError)) throw e;
    throw new AppError('unknown_term', e.message, { errors: [{ path: field, message: e.message }], extra: { suggestions: e.suggestions } });
  }
}

/**
 * Tag groups as search (`tag=a|b`, repeatable) and match (`needs.tags: ["a|b"]`) take them: the groups
 * all hold, a group holds with any of its terms. `field(k)` names the k-th value in errors; an empty group
 * is a 400.
 */
export function parseTagGroups(tax: Taxonomy, values: readonly string[], field: (k: number) => string): string[][] {
  return values.map((value, k) => {
    const group = value.split('|').map((s) => s.trim()).filter(Boolean);
    if (!group.length) throw invalidField(field(k), 'is empty: give a term, or several as a|b');
    return group.map((name) => termParam(tax, name, TAG_FACETS, field(k)));
  });
}

/** Epoch ms of an ISO 8601 date-time (Asia/Shanghai without offset), or a 400 naming `field`. */
export function instant(text: string, field: string): number {
  const at = parseDateTime(text);
  if (!at) throw invalidField(field, DATETIME_HINT);
  return at.getTime();
}

/** Midnight, Asia/Shanghai, of the day holding an instant, in epoch ms. */
export function dayStartOf(ms: number): number {
  const offset = SHANGHAI_OFFSET_MIN * 60_000;
  return Math.floor((ms + offset) / DAY_MS) * DAY_MS - offset;
}

/** Availability parameters as `GET /v1/resources` (and `/v1/clusters`) take them. */
export type NeedParams = Pick<SearchParams, 'available_from' | 'available_to' | 'seats' | 'kind'>;

/**
 * Parses availability parameters; undefined when none is given. `available_to` defaults to the end of
 * `available_from`'s day (Asia/Shanghai), `seats` to 1, `kind` to individual. Throws a 400 naming the field.
 */
export function parseNeed(p: NeedParams, prefix = 'query', names = { from: 'available_from', to: 'available_to' }): Need | undefined {
  if (p.available_from === undefined) {
    const stray = (['available_to', 'seats', 'kind'] as const).find((k) => p[k] !== undefined);
    if (stray) throw invalidField(`${prefix}.${names.from}`, `is required with ${stray}`);
    return undefined;
  }
  const fromMs = instant(p.available_from, `${prefix}.${names.from}`);
  const toMs = p.available_to === undefined ? dayStartOf(fromMs) + DAY_MS : instant(p.available_to, `${prefix}.${names.to}`);
  if (toMs <= fromMs) throw invalidField(`${prefix}.${names.to}`, `must be after ${names.from}`);
  if (toMs - fromMs > MAX_WINDOW_DAYS * DAY_MS) throw invalidField(`${prefix}.${names.to}`, `must be at most ${MAX_WINDOW_DAYS} days after ${names.from}`);
  return { fromMs, toMs, seats: p.seats ?? 1, kind: p.kind ?? 'individual' };
}

/**
 * The availability need of `POST /v1/match`: `party` seats of a kind, in the window of `needs.time` —
 * `from`–`to`, or from `at` to the end of that day (Asia/Shanghai), or the coming 7 days without a time.
 * Undefined without a party. Throws a 400 naming the field.
 */
export function matchNeed(party: { seats: number; kind?: Kind } | undefined, time: { at?: string; from?: string; to?: string } | undefined,
  nowMs: number): Need | undefined {
  if (!party) return undefined;
  const kind = party.kind ?? 'individual';
  if (time?.from !== undefined && time.to !== undefined && time.at === undefined) {
    return parseNeed({ available_from: time.from, available_to: time.to, seats: party.seats, kind }, 'body.needs.time', { from: 'from', to: 'to' });
  }
  if (time?.at !== undefined) return parseNeed({ available_from: time.at, seats: party.seats, kind }, 'body.needs.time', { from: 'at', to: 'to' });
  return { fromMs: nowMs, toMs: nowMs + MATCH_DAYS_AHEAD * DAY_MS, seats: party.seats, kind };
}

/** What a cursor is bound to: the query minus its paging. A cursor used with other filters is a 400. */
export function fingerprint(p: SearchParams): string {
  const { cursor: _c, limit: _l, ...rest } = p as SearchParams & { format?: string };
  delete (rest as { format?: string }).format;
  const canonical = JSON.stringify(Object.keys(rest).sort().map((k) => [k, (rest as Record<string, unknown>)[k]]));
  return hash('sha1', canonical, 'base64url').slice(0, 12);
}

/** The cursor that continues after the given item. */
export function encodeCursor(p: SearchParams, last: { id: string; distanceKm?: number }): string {
  return Buffer.from(JSON.stringify({ f: fingerprint(p), id: last.id, d: last.distanceKm })).toString('base64url');
}

/** The position a cursor continues after; a 400 `invalid_cursor` when it is not ours or is for another query. */
export function decodeCursor(text: string, p: SearchParams, near: boolean): { id: string; distanceKm?: number } {
  const malformed = () => new AppError('invalid_cursor', 'the cursor is not one this service issued',
    { errors: [{ path: 'query.cursor', message: 'is malformed' }] });
  let value: { f?: unknown; id?: unknown; d?: unknown };
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (e) {
    throw new AppError('invalid_cursor', 'the cursor is not one this service issued', { errors: [{ path: 'query.cursor', message: 'is malformed' }], cause: e });
  }
  if (value === null || typeof value !== 'object' || typeof value.id !== 'string' || (near && typeof value.d !== 'number')) throw malformed();
  if (value.f !== fingerprint(p)) {
    throw new AppError('invalid_cursor', 'the cursor belongs to a different query; repeat the same filters or start without a cursor',
      { errors: [{ path: 'query.cursor', message: 'belongs to a different query' }] });
  }
  return { id: value.id, distanceKm: near ? (value.d as number) : undefined };
}
