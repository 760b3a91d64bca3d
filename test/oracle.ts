import { distance } from 'geokdbush';
import { booleanPointInPolygon } from '@turf/turf';
import type { Sql } from '../src/store/sql.js';
import { CURRENT_ROWS } from './support.js';
import type { Taxonomy } from '../src/taxonomy/taxonomy.js';
import { expandTerm } from '../src/taxonomy/taxonomy.js';
import type { Calendar } from '../src/calendar/calendar.js';
import { isOpenAt, parseHoursWithCalendar } from '../src/calendar/hours.js';
import { packageCalendar } from '../src/calendar/official.js';
import type { SearchQuery } from '../src/engine/search.js';

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
