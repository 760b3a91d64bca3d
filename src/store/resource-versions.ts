import type { Sql, Tx } from './sql.js';
import { placeholders } from './sql.js';
import type { BatchView } from './batches.js';

/** A validated, normalised row ready to be stored (coordinates WGS-84). */
export interface StagedRow {
  line: number;
  id: string;
  name: string;
  nameEn: string | null;
  type: string;
  lng: number;
  lat: number;
  district: string;
  tags: string[];
  stages: string[];
  openingHours: string | null;
  free: boolean | null;
  bookingRequired: boolean | null;
  /** The answer's JSON without `location` and `updated_at`. */
  doc: string;
}

/** A stored version of a resource, as writers compare against it. */
export interface VersionRow {
  seq: number;
  id: string;
  batch: number;
  deleted: number;
  lng: number;
  lat: number;
  district: string;
  doc: string;
  updated_at: string;
}

const toFlag = (b: boolean | null) => (b === null ? null : b ? 1 : 0);

/** `AND r.batch NOT IN (…)` for the hidden batches of a view, with its parameters. */
export function visible(view: BatchView): { sql: string; params: number[] } {
  return view.hidden.length ? { sql: ` AND r.batch NOT IN (${placeholders(view.hidden.length)})`, params: view.hidden } : { sql: '', params: [] };
}

/**
 * The version of each id that readers see now (the batch published last wins); tombstones included, so a
 * caller can tell "deleted" from "never existed" (`deleted = 1`).
 */
export async function currentVersions(t: Sql, ids: readonly string[], view: BatchView): Promise<Map<string, VersionRow>> {
  const out = new Map<string, VersionRow>();
  if (!ids.length) return out;
  const v = visible(view);
  const rows = await t.all<VersionRow>(`SELECT r.seq, r.id, r.batch, r.deleted, r.lng, r.lat, r.district, r.doc, r.updated_at
    FROM resources r WHERE r.retired_at IS NULL AND r.id IN (${placeholders(ids.length)})${v.sql}`, [...ids, ...v.params]);
  for (const row of rows) {
    const held = out.get(row.id);
    if (!held || (view.precedence.get(row.batch) ?? 0) > (view.precedence.get(held.batch) ?? 0)) out.set(row.id, row);
  }
  return out;
}

/** Writes new versions of resources into a batch (invisible until the batch is published). */
export async function insertVersions(t: Tx, batch: number, rows: readonly StagedRow[], at: string): Promise<void> {
  // Many rows per statement: a bulk import pays the per-statement cost once per ROWS_PER_INSERT rows.
  for (let k = 0; k < rows.length; k += ROWS_PER_INSERT) {
    const part = rows.slice(k, k + ROWS_PER_INSERT);
    await t.run(`INSERT INTO resources (id, name, name_en, type, lng, lat, district, terms, stages, opening_hours, free, booking_required,
        doc, updated_at, batch) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, part.flatMap((r) => [
      r.id, r.name, r.nameEn, r.type, r.lng, r.lat, r.district, r.tags.join('|'), r.stages.join('|'), r.openingHours,
      toFlag(r.free), toFlag(r.bookingRequired), r.doc, at, batch]));
  }
}

/** Rows per multi-row INSERT (15 parameters each: well inside SQLite's and PostgreSQL's limits). */
const ROWS_PER_INSERT = 100;

/**
 * Writes tombstones for resources into a batch: a version marked deleted, carrying the last record (so the
 * change feed can still say what went). Invisible until the batch is published.
 */
export async function insertTombstones(t: Tx, batch: number, victims: readonly VersionRow[], at: string): Promise<void> {
  for (const v of victims) {
    await t.run(`INSERT INTO resources (id, name, name_en, type, lng, lat, district, terms, stages, opening_hours, free, booking_required,
        doc, updated_at, batch, deleted)
      SELECT id, name, name_en, type, lng, lat, district, terms, stages, opening_hours, free, booking_required, doc, ?, ?, 1
        FROM resources WHERE seq = ?`, [at, batch, v.seq]);
  }
}

/**
 * Records that a batch lists these ids (each at its line), in order; returns, for each id listed before
 * (earlier in the chunk or in an earlier one: a duplicate), the line that listed it first.
 */
export async function listIds(t: Sql, batch: number, entries: readonly { id: string; line: number }[]): Promise<Map<string, number>> {
  const first = new Map<string, number>();
  const repeated = new Map<string, number>(); // id → first line, for repeats within the chunk
  for (const { id, line } of entries) {
    if (!first.has(id)) first.set(id, line);
    else if (!repeated.has(id)) repeated.set(id, first.get(id)!);
  }
  const unique = [...first];
  const fresh = new Set<string>();
  for (let k = 0; k < unique.length; k += ROWS_PER_INSERT * 5) {
    const part = unique.slice(k, k + ROWS_PER_INSERT * 5);
    const rows = await t.all<{ id: string }>(`INSERT INTO batch_listed (batch, id, line) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}
      ON CONFLICT (batch, id) DO NOTHING RETURNING id`, part.flatMap(([id, line]) => [batch, id, line]));
    for (const r of rows) fresh.add(r.id);
  }
  const before = unique.filter(([id]) => !fresh.has(id)).map(([id]) => id);
  const out = new Map<string, number>(repeated);
  for (let k = 0; k < before.length; k += 500) {
    const part = before.slice(k, k + 500);
    const rows = await t.all<{ id: string; line: number }>(`SELECT id, line FROM batch_listed WHERE batch = ? AND id IN (${placeholders(part.length)})`, [batch, ...part]);
    for (const r of rows) out.set(r.id, r.line);
  }
  return out;
}

/**
 * Up to `limit` current, undeleted resources after `afterId` (id order) that a sync batch does not list:
 * the candidates for deletion. `district` (when given) narrows to resources in those districts.
 */
export async function unlisted(t: Sql, batch: number, afterId: string, limit: number, view: BatchView,
  districts: readonly string[] | null): Promise<{ rows: VersionRow[]; lastId: string | null }> {
  const v = visible(view);
  // With no batch left to fold, an id has at most one unretired visible version, and SQL can filter by
  // district; otherwise the winner is chosen first, then its district tested.
  const single = view.precedence.size === 0;
  const inDistricts = single && districts ? ` AND r.district IN (${placeholders(districts.length)})` : '';
  const rows = await t.all<VersionRow>(`SELECT r.seq, r.id, r.batch, r.deleted, r.lng, r.lat, r.district, r.doc, r.updated_at
    FROM resources r WHERE r.retired_at IS NULL AND r.id > ?${v.sql}${inDistricts}
      AND NOT EXISTS (SELECT 1 FROM batch_listed l WHERE l.batch = ? AND l.id = r.id)
    ORDER BY r.id, r.seq LIMIT ?`, [afterId, ...v.params, ...(inDistricts ? districts! : []), batch, limit]);
  // A full page may end inside an id's versions: leave that id for the next page.
  const cut = !single && rows.length === limit ? rows[rows.length - 1].id : null;
  const current = new Map<string, VersionRow>();
  for (const row of rows) {
    if (row.id === cut) break;
    const held = current.get(row.id);
    if (!held || (view.precedence.get(row.batch) ?? 0) > (view.precedence.get(held.batch) ?? 0)) current.set(row.id, row);
  }
  const kept = [...current.values()].filter((r) => !r.deleted && (!districts || districts.includes(r.district)));
  const lastId = rows.length < limit ? null : cut !== null ? [...current.keys()].pop() ?? afterId : rows[rows.length - 1].id;
  return { rows: kept, lastId };
}
