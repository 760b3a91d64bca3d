import { createHash } from 'node:crypto';
import { AppError, invalidField } from '../errors.js';
import { resolveTerm, UnknownTermError } from '../taxonomy/taxonomy.js';
import { type Crs, type LngLat, toWgs84 } from '../geo/crs.js';
import { parseDateTime } from '../time.js';
import { TAG_FACETS } from '../import/rows.js';
import type { Snapshot } from './snapshot.js';
import type { SearchQuery } from './search.js';

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
  /** Availability (see `parseNeed` in src/booking/availability.ts): applied through `SearchQuery.accept`. */
  available_from?: string;
  available_to?: string;
  seats?: number;
  kind?: 'individual' | 'group';
}

/** Parses a `lng,lat` pair given in `crs` into WGS-84, or a 400 naming `field`. */
export function parseLngLat(text: string, crs: Crs, field: string): LngLat {
  const [lng, lat] = text.split(',').map((s) => Number(s.trim()));
  if (!(Math.abs(lng) <= 180)) throw invalidField(field, 'longitude must be between -180 and 180');
  if (!(Math.abs(lat) <= 90)) throw invalidField(field, 'latitude must be between -90 and 90');
  return toWgs84([lng, lat], crs);
}

/** Resolves one taxonomy term (id or alias) of the given facets, or a 400 naming `field` with suggestions. */
export function termParam(snap: Snapshot, name: string, facets: readonly string[], field: string): string {
  try {
    return resolveTerm(snap.tax, name, facets);
  } catch (e) {
    if (!(e instanceof UnknownTermError)) throw e;
    throw new AppError('unknown_term', e.message, [{ path: field, message: e.message }], { suggestions: e.suggestions });
  }
}

/** Compiles API search parameters into an engine query over `snap`. Throws 400s naming the field. */
export function compileSearch(snap: Snapshot, p: SearchParams): SearchQuery {
  const crs = p.crs ?? 'wgs84';
  const query: SearchQuery = { limit: p.limit ?? 10 };
  if (p.near !== undefined) query.near = parseLngLat(p.near, crs, 'query.near');
  if (p.radius_km !== undefined) {
    if (!query.near) throw invalidField('query.radius_km', 'needs near');
    query.radiusKm = p.radius_km;
  }
  if (p.bbox !== undefined) {
    const v = p.bbox.split(',').map((s) => Number(s.trim()));
    if (v.some((x) => !Number.isFinite(x))) throw invalidField('query.bbox', 'must be four numbers');
    const sw = parseLngLat(`${v[0]},${v[1]}`, crs, 'query.bbox');
    const ne = parseLngLat(`${v[2]},${v[3]}`, crs, 'query.bbox');
    if (sw[0] > ne[0] || sw[1] > ne[1]) throw invalidField('query.bbox', 'must be minLng,minLat,maxLng,maxLat with min ≤ max');
    query.bbox = [sw[0], sw[1], ne[0], ne[1]];
  }
  if (p.area !== undefined) {
    const area = snap.area(p.area);
    if (!area) throw invalidField('query.area', `no area '${p.area}'; see GET /v1/areas`);
    query.area = area;
  }
  if (p.tag) {
    query.tags = p.tag.map((value, k) => {
      const group = value.split('|').map((s) => s.trim()).filter(Boolean);
      if (!group.length) throw invalidField(`query.tag[${k}]`, 'is empty');
      return group.map((name) => termParam(snap, name, TAG_FACETS, `query.tag[${k}]`));
    });
  }
  if (p.type !== undefined) query.types = list(p.type).map((t) => termParam(snap, t, ['type'], 'query.type'));
  if (p.stage !== undefined) query.stages = list(p.stage).map((s) => termParam(snap, s, ['stage'], 'query.stage'));
  if (p.open_at !== undefined) {
    const at = parseDateTime(p.open_at);
    if (!at) throw invalidField('query.open_at', 'must be an ISO 8601 date-time such as 2026-12-05T14:00 or 2026-12-05T14:00+08:00');
    query.openAt = at;
  }
  if (p.free !== undefined) query.free = p.free;
  if (p.q !== undefined) query.q = p.q.trim();
  if (p.cursor !== undefined) query.after = decodeCursor(p.cursor, fingerprint(p), Boolean(query.near));
  return query;
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** What a cursor is bound to: the query minus its paging. A cursor used with other filters is a 400. */
function fingerprint(p: SearchParams): string {
  const { cursor: _c, limit: _l, ...rest } = p as SearchParams & { format?: string };
  delete (rest as { format?: string }).format;
  const canonical = JSON.stringify(Object.keys(rest).sort().map((k) => [k, (rest as Record<string, unknown>)[k]]));
  return createHash('sha1').update(canonical).digest('base64url').slice(0, 12);
}

/** The cursor that continues after the given item. */
export function encodeCursor(p: SearchParams, last: { id: string; distanceKm?: number }): string {
  return Buffer.from(JSON.stringify({ f: fingerprint(p), id: last.id, d: last.distanceKm })).toString('base64url');
}

function decodeCursor(text: string, expected: string, near: boolean): { id: string; distanceKm?: number } {
  let value: { f?: unknown; id?: unknown; d?: unknown };
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('invalid_cursor', 'the cursor is not one this service issued', [{ path: 'query.cursor', message: 'is malformed' }]);
  }
  if (value === null || typeof value !== 'object' || typeof value.id !== 'string' || (near && typeof value.d !== 'number')) {
    throw new AppError('invalid_cursor', 'the cursor is not one this service issued', [{ path: 'query.cursor', message: 'is malformed' }]);
  }
  if (value.f !== expected) {
    throw new AppError('invalid_cursor', 'the cursor belongs to a different query; repeat the same filters or start without a cursor',
      [{ path: 'query.cursor', message: 'belongs to a different query' }]);
  }
  return { id: value.id, distanceKm: near ? (value.d as number) : undefined };
}
