import { distance } from 'geokdbush';
import { booleanPointInPolygon } from '@turf/turf';
import type { Sql } from '../src/store/sql.js';
import { CURRENT_ROWS } from './support.js';
import type { Taxonomy } from '../src/taxonomy/taxonomy.js';
import type { Calendar } from '../src/calendar/calendar.js';
import { isOpenAt, parseHoursWithCalendar } from '../src/calendar/hours.js';
import { packageCalendar } from '../src/calendar/official.js';
import { search, type SearchQuery } from '../src/engine/search.js';
import { View } from '../src/engine/view.js';
import { expandTerm, termsOfFacet } from '../src/taxonomy/taxonomy.js';

/** A stored resource as the brute-force oracle sees it, read straight from SQL (not through a snapshot). */
export interface Plain {
  id: string; lng: number; lat: number; district: string; terms: string[]; stages: string[];
  free: number | null; hours: string | null; name: string; name_en: string | null; type: string;
}

export async function readPlain(db: Sql): Promise<Plain[]> {
  const rows = await db.all<Omit<Plain, 'terms' | 'stages'> & { terms: string; stages: string }>(`SELECT id, lng, lat, district, terms,
    stages, free, opening_hours AS hours, name, name_en, type FROM resources WHERE ${CURRENT_ROWS}`);
  return rows.map((r) => ({ ...r, terms: r.terms ? r.terms.split('|') : [], stages: r.stages ? r.stages.split('|') : [] }));
}

/**
 * The answer a search must give, by brute force: test every resource against every condition, then
 * order by (great-circle distance, id) or by id. Returns ids and distances (km). Opening hours are read
 * as the service reads them, with `PH` = the holidays of `calendar` (default: the package's years alone).
 */
export function oracle(tax: Taxonomy, all: Plain[], q: SearchQuery, calendar: Calendar = packageCalendar()): { id: string; km?: number }[] {
  const ancestors = (id: string) => {
    const out: string[] = [];
    for (let at: string | null = id; at !== null; at = tax.byId.get(at)?.parent ?? null) out.push(at);
    return out;
  };
  const related = (s: string) => new Set([...expandTerm(tax, s), ...ancestors(s)]);
  const hoursMemo = new Map<string, boolean>();
  const openAt = (text: string, at: Date) => {
    if (!hoursMemo.has(text)) {
      const parsed = parseHoursWithCalendar(text, calendar);
      hoursMemo.set(text, 'hours' in parsed && isOpenAt(parsed.hours, at));
    }
    return hoursMemo.get(text)!;
  };
  const hits = all.filter((r) => {
    const expanded = new Set(r.terms.flatMap(ancestors));
    if (q.tags && !q.tags.every((group) => group.some((t) => expanded.has(t)))) return false;
    if (q.types?.length && !q.types.includes(r.type)) return false;
    if (q.stages?.length && !q.stages.some((s) => r.stages.some((own) => related(own).has(s)))) return false;
    if (q.free !== undefined && r.free !== (q.free ? 1 : 0)) return false;
    // A district by the stored adcode; any other area (a school district) by its polygon, holes included,
    // the boundary inside.
    if (q.area && (q.area.kind === 'district' ? r.district !== q.area.id : !booleanPointInPolygon([r.lng, r.lat], q.area.geometry))) return false;
    if (q.bbox) {
      const [w, s, e, n] = q.bbox;
      if (r.lng < w || r.lng > e || r.lat < s || r.lat > n) return false;
    }
    if (q.q) {
      const needle = q.q.toLowerCase();
      if (!r.name.toLowerCase().includes(needle) && !(r.name_en ?? '').toLowerCase().includes(needle)) return false;
    }
    if (q.openAt) {
      if (!r.hours || !openAt(r.hours, q.openAt)) return false;
    }
    return true;
  });
  if (!q.near) return hits.map((r) => ({ id: r.id })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const [lng, lat] = q.near;
  return hits
    .map((r) => ({ id: r.id, km: distance(lng, lat, r.lng, r.lat) }))
    .filter((x) => q.radiusKm === undefined || x.km <= q.radiusKm)
    .sort((a, b) => a.km - b.km || (a.id < b.id ? -1 : 1));
}

/** Runs a query over a view to the end through its keyset cursor, `limit` at a time. */
export function allPages(view: View, q: SearchQuery): { id: string; km?: number }[] {
  const out: { id: string; km?: number }[] = [];
  let after: SearchQuery['after'];
  for (let page = 0; page <= view.size + 1; page++) {
    const r = search(view, { ...q, after });
    r.refs.forEach((ref, k) => out.push({ id: View.idOf(ref), km: r.distancesKm?.[k] }));
    if (!r.more) return out;
    const last = r.refs.length - 1;
    after = { id: View.idOf(r.refs[last]), distanceKm: r.distancesKm?.[last] };
  }
  throw new Error('too many pages');
}

/** A random search over a view's areas and the taxonomy: every filter, alone and combined. */
export function randomQuery(view: View, rand: () => number): SearchQuery {
  const tax = view.tax;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const taggable = tax.terms.filter((t) => tax.facets[t.facet].taggable).map((t) => t.id);
  const q: SearchQuery = { limit: rand() < 0.1 ? 1 + Math.floor(rand() * 3) : 5 + Math.floor(rand() * 40) };
  if (rand() < 0.7) q.near = [115.9 + rand() * 1.2, 39.6 + rand() * 0.9];
  if (q.near && rand() < 0.4) q.radiusKm = rand() < 0.1 ? 0.001 : 1 + rand() * 30;
  if (rand() < 0.5) q.tags = [[pick(taggable)]];
  if (rand() < 0.2) (q.tags ??= []).push([pick(taggable), pick(taggable)]);
  if (rand() < 0.1) q.tags = [['lao.service']]; // 0.1 % of the rows: the sub-index path
  if (rand() < 0.25) q.types = rand() < 0.5 ? [pick(termsOfFacet(tax, 'type'))] : [pick(termsOfFacet(tax, 'type')), pick(termsOfFacet(tax, 'type'))];
  if (rand() < 0.2) q.stages = [pick(termsOfFacet(tax, 'stage'))];
  if (rand() < 0.2) q.free = rand() < 0.5;
  const schools = view.areas.list('school_district');
  if (rand() < 0.25) q.area = view.areas.get(pick(view.districts));
  else if (schools.length && rand() < 0.15) q.area = pick(schools);
  if (rand() < 0.15) {
    const [w, s] = [116 + rand() * 0.8, 39.7 + rand() * 0.5];
    q.bbox = [w, s, w + rand() * 0.3, s + rand() * 0.3];
  }
  if (rand() < 0.1) q.q = pick(['科技', '公园', 'museum', 'PARK', '0', '海淀']);
  if (rand() < 0.2) q.openAt = new Date(Date.UTC(2026, 11, 1 + Math.floor(rand() * 14), Math.floor(rand() * 24)));
  return q;
}

/** A query as test output shows it (the area by id). */
export const describeQuery = (q: SearchQuery) => JSON.stringify({ ...q, area: q.area?.id });
