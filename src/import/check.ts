import type { StagedRow } from '../store/resource-versions.js';
import { mergeRow, rowOfRecord } from './columns.js';
import type { Column, Rejection, RowValidator } from './rows.js';

/** A row as read from the file: its line and the cells of the columns the file has. */
export interface FileRow { line: number; cells: Partial<{ [c in Column]: string }> }

/** What checking a row needs of its stored version. */
export interface StoredVersion { deleted: number; lng: number; lat: number; district: string; doc: string }

/** A file row after checking: valid or not, and the version to write when it changes something. */
export interface CheckedRow { line: number; id: string; valid: boolean; staged?: StagedRow }

/**
 * Checks file rows against their stored versions: each merged with the stored row (a column the file lacks
 * keeps its value), validated, its stored district checked against the key's scope (`outside`), and
 * compared with what is stored (an equal row stages nothing). Rejections go to `reject`; rows without an
 * id are left out (the validator has rejected them). A pure function of its inputs, so that worker
 * threads can run it.
 */
export function checkRows(rows: readonly FileRow[], current: ReadonlyMap<string, StoredVersion>, validator: RowValidator,
  outside: ((district: string) => string | null) | undefined, reject: (r: Rejection) => void): CheckedRow[] {
  const out: CheckedRow[] = [];
  for (const { line, cells } of rows) {
    const id = cells.id ?? '';
    const stored = id ? current.get(id) : undefined;
    const live = stored && !stored.deleted ? stored : undefined;
    const merged = live ? mergeRow(rowOfRecord(live.doc, live.lng, live.lat), cells) : { ...cells };
    const outcome = validator.check(merged as Record<string, string>, line);
    const why = live && outside?.(live.district);
    if ('rejections' in outcome) outcome.rejections.forEach(reject);
    else if (why) reject({ line, column: 'district', value: live.district, reason: `out_of_scope: ${why}` });
    const valid = !('rejections' in outcome) && !why;
    const same = valid && live && live.doc === outcome.row.doc && live.lng === outcome.row.lng && live.lat === outcome.row.lat;
    if (id) out.push({ line, id, valid, staged: valid && !same ? (outcome as { row: StagedRow }).row : undefined });
  }
  return out;
}
