import { COLUMNS, type Column } from './rows.js';

/** A stored record (the answer JSON without location), as the import wrote it. */
interface Record {
  id: string;
  name: string;
  name_en: string | null;
  type: string;
  tags: string[];
  stages: string[];
  district: { code: string; name: string };
  address: string | null;
  opening_hours: string | null;
  free: boolean | null;
  booking_required: boolean | null;
  phone: string | null;
  url: string | null;
  source: string | null;
  coord_precision_m: number | null;
  notes: string | null;
}

const text = (v: string | null | undefined) => v ?? '';
const flag = (v: boolean | null | undefined) => (v === null || v === undefined ? '' : v ? 'true' : 'false');

/**
 * A stored resource as the CSV row that would import to exactly it: WGS-84 coordinates (in full), terms by
 * id, flags as true/false, absent values as empty cells. Export writes these rows; a merge import starts
 * from them. Re-importing the row gives the same record, so an export imports back as all unchanged.
 */
export function rowOfRecord(doc: string, lng: number, lat: number): { [c in Column]: string } {
  const r = JSON.parse(doc) as Record;
  return {
    id: r.id, name: r.name, name_en: text(r.name_en), type: r.type, lng: String(lng), lat: String(lat), crs: 'wgs84',
    district: r.district.code, address: text(r.address), tags: r.tags.join('|'), stages: r.stages.join('|'),
    opening_hours: text(r.opening_hours), free: flag(r.free), booking_required: flag(r.booking_required), phone: text(r.phone),
    url: text(r.url), source: text(r.source), coord_precision_m: r.coord_precision_m === null ? '' : String(r.coord_precision_m), notes: text(r.notes),
  };
}

/**
 * The row an update imports: the stored row with the given columns laid over it. A column the file does
 * not have keeps its stored value; an empty cell clears it. The district is derived from the point unless
 * the file states it, and stored coordinates are WGS-84, so they come with `crs: wgs84` when the file moves
 * nothing.
 */
export function mergeRow(stored: { [c in Column]: string }, given: Partial<{ [c in Column]: string }>): { [c in Column]: string } {
  const merged = { ...stored, ...given };
  if (!('district' in given)) merged.district = '';
  if (!('lng' in given) && !('lat' in given)) merged.crs = 'wgs84';
  else if (!('crs' in given)) merged.crs = '';
  return merged;
}

/** Cells of a CSV line in `COLUMNS` order, quoted where needed (RFC 4180). */
export function csvCells(row: { [c in Column]: string }): string {
  return COLUMNS.map((c) => {
    const v = row[c];
    return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }).join(',');
}
