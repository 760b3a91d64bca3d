import { invalidField } from '../errors.js';
import { parseDateTime } from '../time.js';
import type { View } from './view.js';
import type { SearchQuery } from './search.js';
import { decodeCursor, parseLngLat, parseTagGroups, termParam, type SearchParams } from './params.js';

/**
 * Compiles API search parameters into an engine query over `view`: coordinates to WGS-84, terms resolved,
 * the area looked up. Throws 400s naming the field.
 */
export function compileSearch(view: View, p: SearchParams): SearchQuery {
  const crs = p.crs ?? 'wgs84';
  const tax = view.tax;
  const query: SearchQuery = { limit: p.limit ?? 10 };
  if (p.near !== undefined) query.near = parseLngLat(p.near, crs, 'query.near');
  if (p.radius_km !== undefined) {
    if (!query.near) throw invalidField('query.radius_km', 'needs near');
    query.radiusKm = p.radius_km;
  }
  if (p.bbox !== undefined) query.bbox = parseBbox(p.bbox, crs);
  if (p.area !== undefined) {
    const area = view.area(p.area);
    if (!area) throw invalidField('query.area', `no area '${p.area}'; see GET /v1/areas`);
    query.area = area;
  }
  if (p.tag) query.tags = parseTagGroups(tax, p.tag, (k) => `query.tag[${k}]`);
  if (p.type !== undefined) query.types = list(p.type).map((t) => termParam(tax, t, ['type'], 'query.type'));
  if (p.stage !== undefined) query.stages = list(p.stage).map((s) => termParam(tax, s, ['stage'], 'query.stage'));
  if (p.open_at !== undefined) {
    const at = parseDateTime(p.open_at);
    if (!at) throw invalidField('query.open_at', 'must be an ISO 8601 date-time such as 2026-12-05T14:00 or 2026-12-05T14:00+08:00');
    query.openAt = at;
  }
  if (p.free !== undefined) query.free = p.free;
  if (p.q !== undefined) query.q = p.q.trim();
  if (p.cursor !== undefined) query.after = decodeCursor(p.cursor, p, Boolean(query.near));
  return query;
}

/** `minLng,minLat,maxLng,maxLat` in `crs`, as WGS-84; a 400 naming `query.bbox`. */
export function parseBbox(text: string, crs: SearchParams['crs'] & string): [number, number, number, number] {
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.length !== 4 || v.some((x) => !Number.isFinite(x))) throw invalidField('query.bbox', 'must be four numbers');
  const sw = parseLngLat(`${v[0]},${v[1]}`, crs, 'query.bbox');
  const ne = parseLngLat(`${v[2]},${v[3]}`, crs, 'query.bbox');
  if (sw[0] > ne[0] || sw[1] > ne[1]) throw invalidField('query.bbox', 'must be minLng,minLat,maxLng,maxLat with min ≤ max');
  return [sw[0], sw[1], ne[0], ne[1]];
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}
