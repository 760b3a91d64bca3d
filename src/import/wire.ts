import type { StagedRow } from '../store/resource-versions.js';
import type { CheckedRow, FileRow } from './check.js';
import type { Column } from './rows.js';

/**
 * Chunks of rows as they cross to a checking thread and back, in flat lists rather than an object per row:
 * in a hand-timed 200k-row import the checking thread was busy about 20 µs a row beyond checking (33 µs) and
 * answering (5 µs), which is reading the structured clone of 2,000 objects of 19 properties a chunk.
 */

/** File rows: their lines, and the cells row after row in `columns`' order (null: the row lacks the column). */
export interface RowsOnWire { columns: Column[]; lines: number[]; cells: (string | null)[] }

export function rowsToWire(rows: readonly FileRow[]): RowsOnWire {
  const columns = (rows.length ? Object.keys(rows[0].cells) : []) as Column[];
  const lines: number[] = [];
  const cells: (string | null)[] = [];
  for (const row of rows) {
    lines.push(row.line);
    for (const c of columns) cells.push(row.cells[c] ?? null);
  }
  return { columns, lines, cells };
}

export function rowsFromWire({ columns, lines, cells }: RowsOnWire): FileRow[] {
  const rows: FileRow[] = [];
  for (let r = 0, at = 0; r < lines.length; r++) {
    const row: FileRow['cells'] = {};
    for (const c of columns) {
      const value = cells[at++];
      if (value !== null) row[c] = value;
    }
    rows.push({ line: lines[r], cells: row });
  }
  return rows;
}

/** The fields of a staged row, in the order they travel. */
const STAGED = ['line', 'id', 'name', 'nameEn', 'type', 'lng', 'lat', 'district', 'tags', 'stages', 'openingHours', 'free',
  'bookingRequired', 'doc'] as const satisfies readonly (keyof StagedRow)[];

/** Checked rows: per row its line, id and state (0 invalid, 1 valid and unchanged, 2 staged); the staged rows' fields flat. */
export interface CheckedOnWire { lines: number[]; ids: string[]; states: number[]; staged: unknown[] }

export function checkedToWire(checked: readonly CheckedRow[]): CheckedOnWire {
  const out: CheckedOnWire = { lines: [], ids: [], states: [], staged: [] };
  for (const c of checked) {
    out.lines.push(c.line);
    out.ids.push(c.id);
    out.states.push(!c.valid ? 0 : c.staged ? 2 : 1);
    if (c.staged) for (const key of STAGED) out.staged.push(c.staged[key]);
  }
  return out;
}

export function checkedFromWire({ lines, ids, states, staged }: CheckedOnWire): CheckedRow[] {
  const out: CheckedRow[] = [];
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    if (states[i] !== 2) {
      out.push({ line: lines[i], id: ids[i], valid: states[i] === 1 });
      continue;
    }
    const s = staged;
    const row: StagedRow = {
      line: s[at] as number, id: s[at + 1] as string, name: s[at + 2] as string, nameEn: s[at + 3] as string | null,
      type: s[at + 4] as string, lng: s[at + 5] as number, lat: s[at + 6] as number, district: s[at + 7] as string,
      tags: s[at + 8] as string[], stages: s[at + 9] as string[], openingHours: s[at + 10] as string | null,
      free: s[at + 11] as boolean | null, bookingRequired: s[at + 12] as boolean | null, doc: s[at + 13] as string,
    };
    at += STAGED.length;
    out.push({ line: lines[i], id: ids[i], valid: true, staged: row });
  }
  return out;
}
