import iconv from 'iconv-lite';
import gcoordModule from 'gcoord';
import { distance } from 'geokdbush';
import { readdirSync, readFileSync } from 'node:fs';
import { AppError } from '../src/errors.js';
import { Checkers } from '../src/import/checkers.js';
import { testService, csvLine, HEADER, OPERATOR, type TestService, CURRENT_ROWS } from './support.js';

const gcoord = gcoordModule as unknown as typeof gcoordModule.default;

const base = {
  type: 'museum', tags: '智育|历史', stages: 'primary|junior', opening_hours: 'Tu-Su 09:00-17:00; PH off',
  free: '是', booking_required: 'true', source: 'test',
};
const palace = { ...base, id: 'palace', name: '故宫博物院', lng: 116.3908, lat: 39.9163, district: '东城区' };
const library = { ...base, id: 'nlc', name: '中国国家图书馆', type: 'library', lng: 116.3236, lat: 39.9425, district: '110108', tags: 'zhi.reading' };
const nationalMuseum = { ...base, id: 'nmc', name: '中国国家博物馆', lng: 116.3974, lat: 39.9051, district: '东城区' };

let svc: TestService;
beforeEach(async () => {
  svc = await testService({ seed: false });
});
afterEach(() => svc.close());

const count = async () => (await svc.db.value<number>(`SELECT count(*) FROM resources WHERE ${CURRENT_ROWS}`))!;
const stored = (id: string) => svc.db.get<{ lng: number; lat: number; name: string; district: string; doc: string }>(
  `SELECT * FROM resources WHERE id = ? AND ${CURRENT_ROWS}`, [id]);

describe('CSV import', () => {
  test('a GB18030 file with GCJ-02 coordinates is stored in WGS-84, agreeing with gcoord to within 1 m', async () => {
    const rows = [palace, library].map((r) => {
      const [lng, lat] = gcoord.transform([r.lng, r.lat], gcoord.WGS84, gcoord.GCJ02) as [number, number];
      return { ...r, lng: lng.toFixed(7), lat: lat.toFixed(7) };
    });
    const bytes = iconv.encode([HEADER, ...rows.map(csvLine)].join('\r\n'), 'gb18030');
    expect(bytes.includes(Buffer.from('故宫'))).toBe(false); // really not UTF-8

    const report = await svc.importText(bytes, { crs: 'gcj02' });

    expect(report).toMatchObject({ encoding: 'gb18030', inserted: 2, rejected_rows: 0, applied: true });
    for (const r of rows) {
      const expected = gcoord.transform([Number(r.lng), Number(r.lat)], gcoord.GCJ02, gcoord.WGS84) as [number, number];
      const got = (await stored(r.id))!;
      expect(distance(got.lng, got.lat, expected[0], expected[1]) * 1000).toBeLessThan(1);
    }
    expect((await stored('palace'))!.name).toBe('故宫博物院');
    // And the GCJ-02 offset (~500 m in Beijing) was really removed.
    expect(distance((await stored('palace'))!.lng, (await stored('palace'))!.lat, Number(rows[0].lng), Number(rows[0].lat)) * 1000).toBeGreaterThan(300);
  });

  test('a per-row crs column overrides the option; bd09 converts too', async () => {
    const [lng, lat] = gcoord.transform([palace.lng, palace.lat], gcoord.WGS84, gcoord.BD09) as [number, number];
    const report = await svc.importText([HEADER, csvLine({ ...palace, lng, lat, crs: 'bd09' })].join('\n'), { crs: 'gcj02' });
    expect(report.inserted).toBe(1);
    const got = (await stored('palace'))!;
    expect(distance(got.lng, got.lat, palace.lng, palace.lat) * 1000).toBeLessThan(1);
  });

  test('UTF-8 with a BOM is read as UTF-8', async () => {
    const text = '\uFEFF' + [HEADER, csvLine(palace)].join('\n');
    const report = await svc.importText(Buffer.from(text, 'utf8'));
    expect(report).toMatchObject({ encoding: 'utf8', inserted: 1 });
    expect((await stored('palace'))!.name).toBe('故宫博物院');
  });

  test('bad rows of many kinds are each reported with line, column and reason; the valid rows are applied', async () => {
    const lines = [
      HEADER,
      csvLine(palace), // line 2: valid
      csvLine({ ...palace, id: 'no-name', name: '' }), // 3
      csvLine({ ...palace, id: 'bad-type', type: 'castle' }), // 4
      csvLine({ ...palace, id: 'bad-lat', lat: 'north' }), // 5
      csvLine({ ...palace, id: 'shanghai', lng: 121.4737, lat: 31.2304, district: '' }), // 6
      csvLine({ ...palace, id: 'wrong-district', district: '海淀区' }), // 7
      csvLine({ ...palace, id: 'unknown-tag', tags: 'zhi|sciense' }), // 8
      csvLine({ ...palace, id: 'no-domain', tags: '古都' }), // 9
      csvLine({ ...palace, id: 'bad-hours', opening_hours: 'Tu-Su 09:00-17:0x' }), // 10
      csvLine({ ...palace, name: 'duplicate id' }), // 11
      'short,row,only', // 12
      csvLine({ ...palace, id: 'bad-free', free: 'maybe' }), // 13
      csvLine({ ...palace, id: 'bad id!' }), // 14
      csvLine({ ...palace, id: 'bad-stage', stages: 'university' }), // 15
      csvLine({ ...palace, id: 'bad-crs', crs: 'utm' }), // 16
      csvLine({ ...palace, id: 'no-such-district', district: '浦东新区' }), // 17
      csvLine(library), // 18: valid
    ];
    const report = await svc.importText(lines.join('\n'));

    const at = (line: number) => report.rejected.filter((r) => r.line === line).map((r) => r.column);
    expect(at(3)).toEqual(['name']);
    expect(at(4)).toEqual(['type']);
    expect(at(5)).toEqual(['lat']);
    expect(at(6)).toEqual(['lng,lat']);
    expect(at(7)).toEqual(['district']);
    expect(at(8)).toEqual(['tags']);
    expect(at(9)).toEqual(['tags']);
    expect(at(10)).toEqual(['opening_hours']);
    expect(at(11)).toEqual(['id']);
    expect(at(12)).toEqual(['row']);
    expect(at(13)).toEqual(['free']);
    expect(at(14)).toEqual(['id']);
    expect(at(15)).toEqual(['stages']);
    expect(at(16)).toEqual(['crs']);
    expect(at(17)).toEqual(['district']);
    expect(report.rejected_rows).toBe(15);
    const reason = (line: number) => report.rejected.find((r) => r.line === line)!;
    expect(reason(6).reason).toMatch(/outside Beijing/);
    expect(reason(7).reason).toMatch(/东城区 \(110101\)/);
    expect(reason(8)).toMatchObject({ value: 'sciense' });
    expect(reason(8).reason).toMatch(/did you mean 'zhi.science'/);
    expect(reason(9).reason).toMatch(/五育/);
    expect(reason(11).reason).toMatch(/line 2/);
    expect(report).toMatchObject({ rows: 17, inserted: 2, applied: true });
    expect(await count()).toBe(2);
    expect((await stored('palace'))!.name).toBe('故宫博物院');
  });

  test('--strict applies nothing when one row is rejected', async () => {
    await svc.importText([HEADER, csvLine(library)].join('\n'));
    const report = await svc.importText([HEADER, csvLine(palace), csvLine({ ...palace, id: 'x', type: 'castle' })].join('\n'), { strict: true });
    expect(report).toMatchObject({ applied: false, strict: true, rejected_rows: 1, inserted: 1 });
    expect(await count()).toBe(1);
    expect(await stored('palace')).toBeUndefined();
  });

  test('--dry-run counts what would change and writes nothing', async () => {
    const report = await svc.importText([HEADER, csvLine(palace), csvLine(library)].join('\n'), { dryRun: true });
    expect(report).toMatchObject({ applied: false, dry_run: true, inserted: 2 });
    expect(await count()).toBe(0);
  });

  test('importing the same file twice reports every row unchanged; an edit is one update', async () => {
    const file = [HEADER, csvLine(palace), csvLine(library)].join('\n');
    expect(await svc.importText(file)).toMatchObject({ inserted: 2, updated: 0, unchanged: 0 });
    const generation = svc.holder.current.generation;
    expect(await svc.importText(file)).toMatchObject({ inserted: 0, updated: 0, unchanged: 2 });
    expect(svc.holder.current.generation).toBe(generation); // nothing changed, nothing rebuilt

    const edited = [HEADER, csvLine({ ...palace, name: '故宫' }), csvLine(library)].join('\n');
    expect(await svc.importText(edited)).toMatchObject({ inserted: 0, updated: 1, unchanged: 1 });
    expect((await stored('palace'))!.name).toBe('故宫');
    expect(await count()).toBe(2);
  });

  test('a short file ending in a newline, with `|` in its cells, is read as comma-separated (never guessed)', async () => {
    // Guessing the delimiter from these lines picks `|`: the empty last line breaks the commas' count.
    const file = `${[HEADER, csvLine(palace), csvLine(library), csvLine(nationalMuseum)].join('\n')}\n`;
    expect(await svc.importText(file)).toMatchObject({ inserted: 3, rejected: [] });
    expect((await stored('nlc'))!.name).toBe('中国国家图书馆');
  });

  test('a column the importer does not know rejects the whole file, naming it', async () => {
    const header = HEADER.replace(',lat,', ',lta,');
    const attempt = svc.importText([header, csvLine(palace)].join('\n'));
    await expect(attempt).rejects.toThrow(AppError);
    await expect(attempt).rejects.toThrow(/unknown column 'lta'; did you mean 'lat'/);
    expect(await count()).toBe(0);
  });

  test('a header without id, or with lng but not lat, rejects the file; a new row without a required column is rejected', async () => {
    const header = HEADER.replace(',tags,', ',address2,').replace('address2', 'notes2');
    await expect(svc.importText([header].join('\n'))).rejects.toThrow(/unknown column 'notes2'|required column 'tags'/);
    await expect(svc.importText('name,type,lng,lat,tags\n')).rejects.toThrow(/required column 'id' is missing/);
    await expect(svc.importText('id,name,lng\n')).rejects.toThrow(/column 'lat' is missing: lng and lat come together/);
    // Without `tags`, a new resource's row is rejected (an existing one would keep its tags).
    const report = await svc.importText(['id,name,type,lng,lat', 'new-one,新馆,museum,116.39,39.91'].join('\n'));
    expect(report.rejected).toEqual([expect.objectContaining({ line: 2, column: 'tags', reason: 'is required' })]);
  });

  test('an empty file is rejected', async () => {
    await expect(svc.importText('')).rejects.toThrow(/header row is required/);
  });

  test('bytes invalid in the chosen encoding reject the file instead of importing mojibake', async () => {
    const bytes = iconv.encode([HEADER, csvLine(palace)].join('\n'), 'gb18030');
    await expect(svc.importText(bytes, { encoding: 'utf8' })).rejects.toThrow(/not valid utf-8/);
    expect(await count()).toBe(0);
  });

  test('a quoted field may span lines (and is rejected: a line break is a control character); line numbers stay true', async () => {
    const lines = [HEADER, csvLine({ ...library, address: '中关村南大街\n33号' }), csvLine({ ...palace, type: 'castle' }), csvLine(nationalMuseum)];
    const report = await svc.importText(lines.join('\n'));
    expect(report.inserted).toBe(1);
    expect(report.rejected).toEqual([
      expect.objectContaining({ line: 2, column: 'address', reason: 'contains a control character (U+000A); only tab is allowed in text' }),
      expect.objectContaining({ line: 4, column: 'type' }),
    ]);
  });

  test('control characters other than tab are rejected in every text column, each with its reason', async () => {
    const lines = [HEADER,
      csvLine({ ...library, name: '国家\r图书馆' }),
      csvLine({ ...palace, address: '景山前街\u001b[31m4号' }),
      csvLine({ ...nationalMuseum, notes: '东门\t入口' })];
    const report = await svc.importText(lines.join('\n'));
    expect(report.rejected).toEqual([
      expect.objectContaining({ line: 2, column: 'name', reason: expect.stringMatching(/control character \(U\+000D\)/) }),
      expect.objectContaining({ line: 3, column: 'address', reason: expect.stringMatching(/control character \(U\+001B\)/) }),
    ]);
    expect(report.inserted).toBe(1); // a tab is allowed
  });

  test('the district is computed when absent, and the row carries the source and coordinates precision', async () => {
    await svc.importText([HEADER, csvLine({ ...library, district: '', coord_precision_m: 200 })].join('\n'));
    const doc = JSON.parse((await stored('nlc'))!.doc);
    expect(doc.district).toEqual({ code: '110108', name: '海淀区' });
    expect(doc.coord_precision_m).toBe(200);
    expect(doc.free).toBe(true);
    expect(doc.tags).toEqual(['zhi.reading']);
  });
});

describe('rows checked in threads', () => {
  test('the checking threads run at a lower CPU priority than the thread that answers requests', async () => {
    const checkers = new Checkers({ tax: svc.tax, areas: svc.holder.current.areas, crs: 'wgs84', by: OPERATOR }, 2);
    try {
      await Promise.all([checkers.check([], new Map()), checkers.check([], new Map())]); // both threads up and answering
      // Linux keeps a nice value per thread: field 19 of /proc/<pid>/task/<tid>/stat.
      const nice = (tid: string) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      const tids = readdirSync('/proc/self/task');
      expect(tids.filter((tid) => nice(tid) === 10)).toHaveLength(2);
      expect(nice(String(process.pid))).toBe(0);
    } finally {
      await checkers.close();
    }
  });

  test('a large file checked in a thread gives the report and the versions the main thread gives', async () => {
    // 9,000 rows (past the chunks checked on the main thread), with rejections, duplicates across chunks and updates.
    const rows: string[] = [];
    for (let k = 0; k < 9000; k++) {
      const row = { ...palace, id: `r${k % 8500}`, name: `场馆 ${k}`, lng: (116.3 + (k % 97) * 0.001).toFixed(6), lat: (39.9 + (k % 89) * 0.001).toFixed(6), district: '' };
      if (k % 1000 === 7) row.lng = '200'; // not in Beijing
      if (k % 1500 === 3) row.tags = 'no-such-term';
      rows.push(csvLine(row));
    }
    const file = [HEADER, ...rows].join('\n');
    const reports = [];
    const versions = [];
    for (const threads of [0, 1]) {
      const own = await testService({ seed: false });
      try {
        await own.importText([HEADER, csvLine({ ...palace, id: 'r5', name: '旧名' })].join('\n'));
        const report = await own.importText(file, { threads });
        const { seconds: _s, apply_seconds: _a, ...rest } = report;
        reports.push(rest);
        versions.push(await own.db.all(`SELECT id, name, lng, lat, district, terms, doc FROM resources WHERE ${CURRENT_ROWS} ORDER BY id`));
      } finally {
        await own.close();
      }
    }
    // 8,500 ids; 9 rows outside Beijing and 6 with an unknown tag rejected; r5 was there before; 500 repeated ids.
    expect(reports[0]).toMatchObject({ rows: 9000, updated: 1, inserted: 8500 - 15 - 1, rejected_rows: 500 + 9 + 6 });
    expect(reports[1]).toEqual(reports[0]);
    expect(versions[1]).toEqual(versions[0]);
  });
});

describe('hostile files get short answers', () => {
  test('a huge header cell and a huge field are quoted back clipped, not whole', async () => {
    await expect(svc.importText(`${HEADER},${'x'.repeat(100_000)}\n`)).rejects.toThrow(/unknown column 'x{64}…'/);
    const report = await svc.importText([HEADER, csvLine({ ...palace, name: 'n'.repeat(300), type: 'y'.repeat(50_000) })].join('\n'));
    const rejection = report.rejected.find((r) => r.column === 'type')!;
    expect(rejection.value.length).toBeLessThanOrEqual(201);
    expect(JSON.stringify(report).length).toBeLessThan(5000);
  });

  test('a header of thousands of unknown columns lists twenty problems', async () => {
    const header = Array.from({ length: 20_000 }, (_, k) => `c${k}`).join(',');
    try {
      await svc.importText(`${header}\n`);
      throw new Error('accepted');
    } catch (e) {
      expect((e as AppError).errors!.length).toBeLessThanOrEqual(20 + 6);
    }
  });
});
