import { checkedFromWire, checkedToWire, rowsFromWire, rowsToWire } from '../src/import/wire.js';
import type { CheckedRow, FileRow } from '../src/import/check.js';
import type { StagedRow } from '../src/store/resource-versions.js';

/** The flat form in which chunks of an import cross to a checking thread and back. */
describe('import chunks on the wire', () => {
  const staged = (id: string, line: number): StagedRow => ({
    line, id, name: `名 ${id}`, nameEn: line % 2 ? null : `Name ${id}`, type: 'museum', lng: 116.4 + line / 1000, lat: 39.9,
    district: '110101', tags: ['zhi.science', 'mei'], stages: [], openingHours: line % 2 ? 'Tu-Su 09:00-17:00' : null,
    free: line % 3 === 0 ? null : line % 3 === 1, bookingRequired: false, doc: JSON.stringify({ id, line }),
  });

  it('gives back the same file rows, telling an empty cell from a column the row lacks', () => {
    const rows: FileRow[] = [
      { line: 2, cells: { id: 'a', name: '甲', notes: '' } },
      { line: 3, cells: { id: 'b', name: '', notes: 'x\ty' } },
      { line: 5, cells: { id: 'c', notes: 'z' } }, // no name cell at all: the stored name is kept
    ];
    const back = rowsFromWire(structuredClone(rowsToWire(rows)));
    expect(back).toEqual(rows);
    expect('name' in back[2].cells).toBe(false);
    expect(back[1].cells.name).toBe('');
  });

  it('gives back the same checked rows: invalid, unchanged and staged, in order', () => {
    const checked: CheckedRow[] = [
      { line: 2, id: 'a', valid: true, staged: staged('a', 2) },
      { line: 3, id: 'b', valid: false },
      { line: 4, id: 'c', valid: true },
      { line: 5, id: 'd', valid: true, staged: staged('d', 5) },
      { line: 6, id: 'e', valid: true, staged: staged('e', 6) },
    ];
    expect(checkedFromWire(structuredClone(checkedToWire(checked)))).toEqual(checked);
  });

  it('carries an empty chunk', () => {
    expect(rowsFromWire(rowsToWire([]))).toEqual([]);
    expect(checkedFromWire(checkedToWire([]))).toEqual([]);
  });
});
