import { Readable } from 'node:stream';
import { COLUMNS, csvLine as genLine, generateRows } from '../../scripts/gen.js';
import { importCsv } from '../../src/import/csv.js';
import { ResourceReader } from '../../src/store/resource-reader.js';
import { HEADER, csvLine, testService, type TestService } from '../support.js';

// The dialect-specific reads of resource-reader.ts: PostgreSQL's COPY scan and string_agg names against
// SQLite's group_concat ones, over the same writes — SQLite is the oracle.

const base = { type: 'museum', tags: '智育', stages: 'primary', free: '是', source: 'test' };
/** Ids whose order differs between byte order and a language's collation; a name with a tab and a backslash. */
const tricky = [
  { ...base, id: 'b10', name: 'B10 \\ 馆', lng: 116.40, lat: 39.91 },
  { ...base, id: 'B9', name: '乙\t九', lng: 116.41, lat: 39.92, name_en: 'Nine' },
  { ...base, id: 'a-1', name: '甲', lng: 116.42, lat: 39.93, opening_hours: 'Tu-Su 09:00-17:00; PH off' },
  { ...base, id: 'a.1', name: '甲点', lng: 116.43, lat: 39.94, free: '' },
  { ...base, id: 'A:1', name: '甲冒', lng: 116.44, lat: 39.95 },
];

let lite: TestService;
let pg: TestService;
beforeAll(async () => {
  [lite, pg] = await Promise.all([testService({ seed: false, backend: 'sqlite' }), testService({ seed: false, backend: 'postgres' })]);
  const csv = COLUMNS.join(',') + '\n' + [...generateRows(2000, 11)].map(genLine).join('');
  for (const svc of [lite, pg]) {
    expect((await svc.importText(csv)).inserted).toBe(2000);
    expect((await svc.importText([HEADER, ...tricky.map(csvLine)].join('\n'))).inserted).toBe(tricky.length);
  }
}, 120_000);
afterAll(async () => {
  await Promise.all([lite?.close(), pg?.close()]);
});

const scans = async () => Promise.all([new ResourceReader(lite.db).scan(), new ResourceReader(pg.db).scan()]);

test('the scan of PostgreSQL is the scan of SQLite: the same lines, ids, order and generation', async () => {
  const [a, b] = await scans();
  expect(b.size).toBe(2005);
  expect(b.ids).toEqual(a.ids);
  expect(b.text).toBe(a.text);
  expect(b.names).toBe(a.names);
  expect(b.names.split('\n')).toHaveLength(2005);
  expect(b.versions).toBeUndefined();
  expect(b.generation).toBe(a.generation);
  expect(b.ids.slice(0, 6)).toEqual(['A:1', 'B9', 'a-1', 'a.1', 'b10', 'gen-11-0001']); // byte order, as JS compares
});

test('with published batches not yet folded, both list every candidate line with its batch and tombstone flag', async () => {
  const edit = [HEADER, csvLine({ ...tricky[0], name: 'B10 改' }), csvLine({ ...tricky[2], lng: 116.421 })].join('\n');
  for (const svc of [lite, pg]) {
    const report = await importCsv(Readable.from([edit]), { db: svc.db, tax: svc.tax, areas: svc.holder.current.areas });
    expect(report.updated).toBe(2);
  }
  const [a, b] = await scans();
  expect(b.versions).toBeDefined();
  expect(b.ids).toEqual(a.ids);
  expect(b.text).toBe(a.text);
  expect(b.names).toBe(a.names);
  expect(b.names).toContain('B10 改');
  expect(b.names).toContain('B10 \\ 馆'); // the replaced version's line too: the engine picks the winner
  expect(b.versions!.batches).toEqual(a.versions!.batches);
  expect(b.versions!.deleted).toEqual(a.versions!.deleted);
  expect([...b.versions!.precedence]).toEqual([...a.versions!.precedence]);
  for (const svc of [lite, pg]) await svc.maintenance.run();
});

test('names come in the scan, one line per resource, a tab as stored', async () => {
  for (const svc of [lite, pg]) {
    await svc.holder.rebuild();
    await svc.holder.settled(); // every change folded into the base
  }
  const [a, b] = await scans();
  expect(b.names).toBe(a.names);
  const lines = b.names.split('\n');
  expect(lines).toHaveLength(b.ids.length);
  expect(lines[b.ids.indexOf('B9')]).toBe('乙\t九\u0001Nine');
  expect(lines[b.ids.indexOf('b10')]).toBe('B10 改\u0001');
  expect(pg.holder.current.base.seqs).toEqual(lite.holder.current.base.seqs);
});
