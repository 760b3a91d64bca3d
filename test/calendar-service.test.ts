import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { formatShanghai } from '../src/time.js';
import { bumpStructure } from '../src/store/db.js';
import { HEADER, ROOT, csvLine, rawSqlite, testService, type TestService } from './support.js';

/**
 * China's calendar in service: `GET /v1/calendar`, `PH` in search and clusters, and the years operators
 * load with `npm run calendar`, picked up by a running service without a restart.
 */

const base = { type: 'museum', tags: '智育|历史', stages: 'primary|junior', source: 'test', district: '东城区' };
/** "Closed on Mondays except public holidays", as Beijing's museums write it. */
const MUSEUM = { ...base, id: 'museum', name: '测试博物馆', lng: 116.3908, lat: 39.9163, opening_hours: 'Tu-Su 09:00-17:00; PH 09:00-17:00' };
/** Open every day but the public holidays. */
const CLOSED_ON_PH = { ...base, id: 'closed-on-ph', name: '节假日闭馆馆', lng: 116.3974, lat: 39.9051, opening_hours: 'Mo-Su 09:00-17:00; PH off' };

const fixture = (name: string) => join(ROOT, 'test', 'fixtures', name);

let svc: TestService;
beforeEach(async () => {
  svc = await testService({ seed: false });
  const report = await svc.importText([HEADER, csvLine(MUSEUM), csvLine(CLOSED_ON_PH)].join('\n'));
  expect(report.inserted).toBe(2);
});
afterEach(() => svc.close());

const calendar = (query: Record<string, string>) => request(svc.app).get('/v1/calendar').query(query);
const openAt = async (at: string) => {
  const res = await request(svc.app).get('/v1/resources').query({ open_at: at });
  expect(res.status).toBe(200);
  return res.body.items.map((r: { id: string }) => r.id) as string[];
};

/** Runs `npm run calendar -- …` on the test service's database, as an operator would, in its own process. */
function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/calendar.ts', ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH, EDUMAP_DB: svc.config.dbPath }, encoding: 'utf8', timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('GET /v1/calendar', () => {
  test('2026-02-17 is PH (春节), 2026-02-14 and 2026-02-28 are make-up working days, 2026-06-01 is not PH', async () => {
    const res = await calendar({ from: '2026-02-13', to: '2026-06-01' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ covered_through: '2026-12-31', from: '2026-02-13', to: '2026-06-01' });
    const byDate = new Map(res.body.days.map((d: { date: string }) => [d.date, d]));
    expect(byDate.get('2026-02-17')).toEqual({ date: '2026-02-17', holiday: '春节' });
    expect(byDate.get('2026-02-14')).toEqual({ date: '2026-02-14', workday: true });
    expect(byDate.get('2026-02-28')).toEqual({ date: '2026-02-28', workday: true });
    expect(byDate.has('2026-06-01')).toBe(false); // 儿童节: a holiday for children only, never PH
    expect(byDate.has('2026-03-08')).toBe(false); // 妇女节: likewise
    expect(byDate.get('2026-05-04')).toEqual({ date: '2026-05-04', holiday: '劳动节' }); // inside 劳动节 5/1–5, not as 青年节
    const dates = res.body.days.map((d: { date: string }) => d.date);
    expect(dates).toEqual([...dates].sort());
    expect(res.body.days.every((d: { estimated?: true }) => d.estimated === undefined)).toBe(true);
  });

  test('2028, past covered_through, lists the statutory holidays marked estimated and no make-up working day', async () => {
    const res = await calendar({ from: '2028-01-01', to: '2028-12-31' });
    expect(res.status).toBe(200);
    expect(res.body.covered_through).toBe('2026-12-31');
    expect(res.body.days.length).toBeGreaterThan(10);
    expect(res.body.days.every((d: { estimated?: true; holiday?: string }) => d.estimated === true && d.holiday)).toBe(true);
    expect(res.body.days[0]).toEqual({ date: '2028-01-01', holiday: '元旦', estimated: true });
  });

  test('without from and to it lists a year from today (Asia/Shanghai)', async () => {
    const before = formatShanghai(new Date()).slice(0, 10);
    const res = await calendar({});
    const after = formatShanghai(new Date()).slice(0, 10);
    expect(res.status).toBe(200);
    expect([before, after]).toContain(res.body.from);
    const [y, m, d] = res.body.from.split('-').map(Number);
    expect(res.body.to).toBe(new Date(Date.UTC(y + 1, m - 1, d) - 86_400_000).toISOString().slice(0, 10));
    expect((await calendar({ from: '2028-02-29' })).body.to).toBe('2029-02-28');
  });

  test('three years is the widest range: 1,096 days pass, 1,097 are a 400 naming query.to', async () => {
    expect((await calendar({ from: '2026-01-01', to: '2028-12-31' })).status).toBe(200);
    const res = await calendar({ from: '2026-01-01', to: '2029-01-01' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'query.to', message: expect.stringMatching(/1097 days; at most 1096/) }]);
  });

  test.each([
    [{ from: '2026-02-30' }, 'query.from', 'must be a date written YYYY-MM-DD, such as 2027-02-06'],
    [{ from: '2026-1-5' }, 'query.from', 'must be a date written YYYY-MM-DD, such as 2027-02-06'],
    [{ to: 'tomorrow' }, 'query.to', 'must be a date written YYYY-MM-DD, such as 2027-02-06'],
    [{ from: '2026-10-07', to: '2026-10-01' }, 'query.to', 'must not be before from (2026-10-07)'],
    [{ from: '2026-10-01', year: '2026' }, 'query.year', 'is not a known parameter'],
  ])('a 400 problem naming the field for %j', async (query, path, message) => {
    const res = await calendar(query);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors).toEqual([{ path, message }]);
  });
});

describe('far-off dates are answered or refused with a 400, never a 500', () => {
  test.each(['0100-01-01', '0999-12-30', '9999-01-01'])('GET /v1/calendar for the year of %s: its estimated holidays', async (from) => {
    const res = await calendar({ from, to: `${from.slice(0, 4)}-12-31` });
    expect(res.status).toBe(200);
    expect(res.body.days.every((d: { estimated?: true }) => d.estimated)).toBe(true);
  });

  test.each(['0099-12-31T10:00', '0999-12-31T23:00', '9999-12-31T23:59-12:00'])('open_at=%s is a 400 naming query.open_at', async (at) => {
    const res = await request(svc.app).get('/v1/resources').query({ open_at: at });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('query.open_at');
  });

  test('the edges that are served: open_at in the years 1000 and 9998', async () => {
    for (const at of ['1000-01-01T00:00', '9998-12-31T23:59-12:00']) expect((await request(svc.app).get('/v1/resources').query({ open_at: at })).status).toBe(200);
  });
});

describe('PH in search and clusters means the calendar', () => {
  test('open_at finds a Tu-Su museum open on Monday 2026-10-05 (National Day) and closed on Monday 2026-10-12', async () => {
    expect(await openAt('2026-10-05T10:00')).toEqual(['museum']); // and closed-on-ph is closed on the holiday
    expect(await openAt('2026-10-12T10:00')).toEqual(['closed-on-ph']); // an ordinary Monday
    expect(await openAt('2026-02-17T10:00')).toEqual(['museum']); // 春节, which the opening_hours library does not know
    expect((await openAt('2026-06-01T10:00')).sort()).toEqual(['closed-on-ph']); // 6/1 is a Monday, and no PH
  });

  test('clusters filter open_at with the same calendar', async () => {
    const markers = async (at: string) => {
      const res = await request(svc.app).get('/v1/clusters').query({ bbox: '116.3,39.85,116.5,39.95', zoom: 18, open_at: at });
      expect(res.status).toBe(200);
      return res.body.items.map((m: { id: string }) => m.id);
    };
    expect(await markers('2026-10-05T10:00')).toEqual(['museum']);
    expect(await markers('2026-10-12T10:00')).toEqual(['closed-on-ph']);
  });
});

describe('npm run calendar', () => {
  test('import stores a valid year file as one write batch; list shows it and covered_through', async () => {
    const generation = svc.holder.current.generation;
    const run = cli('import', fixture('calendar-2027-example.json'));
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(run.out).toMatch(/^2027 loaded \(EXAMPLE for the tests.*\): 7 holidays, 28 days off, 4 make-up working days; it replaces the statute's estimate\n/);
    expect(run.out).toContain('covered through 2027-12-31');
    const stored = rawSqlite(svc).prepare('SELECT year, file FROM calendar_years').all() as { year: number; file: string }[];
    expect(stored.map((r) => r.year)).toEqual([2027]);
    expect(JSON.parse(stored[0].file)).toEqual(JSON.parse(readFileSync(fixture('calendar-2027-example.json'), 'utf8')));
    expect(Number(rawSqlite(svc).prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get())).toBe(generation + 1);

    const list = cli('list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toEqual({ covered_through: '2027-12-31', years: [{ year: 2027, source: expect.stringContaining('EXAMPLE'),
      loaded_at: expect.any(String), holidays: 7, days_off: 28, workdays: 4 }] });
    const again = cli('import', fixture('calendar-2027-example.json'));
    expect(again.out).toContain('it replaces the file loaded before');
    expect(cli('list').out).toMatch(/^2027 {2}loaded \S+ {2}7 holidays, 28 days off, 4 make-up working days {2}\(EXAMPLE/);
  });

  test('a refused file prints each problem as path: message, exits 1 and stores nothing', () => {
    const path = join(svc.dir, 'bad-2027.json');
    writeFileSync(path, JSON.stringify({ year: 2027, source: 'a typo', holidays: [{ name: '春节', from: '2027-02-05', to: '2027-02-01' }],
      workdays: ['2027-02-22', '2028-01-02'] }));
    const run = cli('import', path);
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err.split('\n').slice(1, -1)).toEqual([
      'holidays[0].to: must not be before from (2027-02-05)',
      'workdays[0]: is a Monday; a make-up working day (调休上班) is a Saturday or Sunday',
      'workdays[1]: must be in 2027 (or in December 2026, for a holiday that begins before New Year)',
    ]);
    writeFileSync(path, '{"year": 2027, "holidays": [');
    const notJson = cli('import', path, '--json');
    expect(notJson.code).toBe(1);
    expect(JSON.parse(notJson.out)).toEqual({ loaded: false, errors: [{ path: '', message: expect.stringMatching(/^is not JSON/) }] });
    expect(rawSqlite(svc).prepare('SELECT count(*) FROM calendar_years').pluck().get()).toBe(0);
  });

  test('usage errors exit 2: no command, an unknown command, no file or two, an unreadable file, an unknown flag', () => {
    for (const args of [[], ['load', 'x.json'], ['import'], ['import', 'a.json', 'b.json'], ['list', 'x'], ['import', join(svc.dir, 'none.json')], ['list', '--yes']]) {
      const run = cli(...args);
      expect([args, run.code]).toEqual([args, 2]);
      expect(run.err).toContain('usage: npm run calendar');
    }
    expect(cli('--help')).toMatchObject({ code: 0, out: expect.stringContaining('npm run calendar -- import FILE.json') });
  });

  test('a loaded 2027 changes the answers for 2027 in a running service, without a restart', async () => {
    const before = svc.holder.current;
    // 2027-02-10 is no statutory holiday (the estimate has 春节 2/5–8); the example file makes 春节 2/5–12.
    expect(await openAt('2027-02-10T10:00')).toEqual(['closed-on-ph', 'museum']); // a Wednesday
    expect((await calendar({ from: '2027-02-10', to: '2027-02-10' })).body).toMatchObject({ covered_through: '2026-12-31', days: [] });

    expect(cli('import', fixture('calendar-2027-example.json')).code).toBe(0); // another process, the same database
    expect(await svc.holder.refreshIfChanged()).toBe(true); // what every server's poll does
    expect(svc.holder.current).not.toBe(before);
    expect(await openAt('2027-02-10T10:00')).toEqual(['museum']); // PH 09:00-17:00
    expect((await calendar({ from: '2027-02-10', to: '2027-02-10' })).body).toEqual({ covered_through: '2027-12-31', from: '2027-02-10',
      to: '2027-02-10', days: [{ date: '2027-02-10', holiday: '春节' }] });
    expect(await openAt('2026-10-05T10:00')).toEqual(['museum']); // other years as they were
    expect(before.calendar.isHoliday('2027-02-10')).toBe(false); // the snapshot requests still hold is unchanged
  });

  test('a stored year that no longer passes the checks stops the build with a message naming it', async () => {
    rawSqlite(svc).prepare("INSERT INTO calendar_years (year, file, loaded_at) VALUES (2027, '{\"year\": 2027}', 'now')").run();
    await svc.db.tx((t) => bumpStructure(t).then(() => undefined)); // as the calendar CLI does
    await expect(svc.holder.refreshIfChanged()).rejects.toThrow(/stored file of 2027 fails the checks \(source: is required.*npm run calendar -- import/);
    expect((await openAt('2026-10-05T10:00'))).toEqual(['museum']); // the snapshot in service stays
  });
});
