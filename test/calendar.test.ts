import { readFileSync } from 'node:fs';
import { Calendar } from '../src/calendar/calendar.js';
import { addDays, weekday } from '../src/calendar/dates.js';
import { estimateYear } from '../src/calendar/estimate.js';
import { isOpenAt, openIntervals, parseHoursWithCalendar, type CalendarHours } from '../src/calendar/hours.js';
import { packageCalendar, packageYears } from '../src/calendar/official.js';
import { parseYearFile, toYearFile, validateYearFile } from '../src/calendar/year-file.js';
import type { YearData } from '../src/calendar/year.js';
import OpeningHours from 'opening_hours';
import { fromShanghaiWallClock, parseDateTime, shanghaiWallClock } from '../src/time.js';

/** The opening_hours library alone, with its own cn holidays: the oracle (and the mistake) the calendar's PH is checked against. */
function parseHours(text: string): { hours: OpeningHours } | { error: string } {
  try {
    return { hours: new OpeningHours(text, { lat: 39.9042, lon: 116.4074, address: { country_code: 'cn', state: '北京市' } }) };
  } catch (e) {
    return { error: String(e).split('\n')[0].trim() };
  }
}
const libraryIsOpenAt = (hours: OpeningHours, instant: Date) => hours.getState(shanghaiWallClock(instant));
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
/** A year file the tests know to be valid, as YearData. */
const load = (name: string): YearData => {
  const parsed = parseYearFile(fixture(name));
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.year;
};
/** The State Council's notices, transcribed by hand: the independent facts the package is checked against. */
const NOTICE_2026 = load('calendar-2026-notice.json');
const NOTICE_2025 = load('calendar-2025-notice.json');
const EXAMPLE_2027 = load('calendar-2027-example.json');

const calendar = packageCalendar();
const at = (text: string) => parseDateTime(text)!;
const everyDay = (from: string, to: string) => {
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
};
/** The holiday name a notice gives a date, or undefined. */
const noticeHoliday = (notice: YearData, date: string) => notice.holidays.find((h) => h.from <= date && date <= h.to)?.name;
const hours = (text: string, cal: Calendar = calendar): CalendarHours => {
  const parsed = parseHoursWithCalendar(text, cal);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.hours;
};

describe('the announced years (package chinese-days)', () => {
  test.each([[NOTICE_2026], [NOTICE_2025]])('agree day by day with the State Council notice of %#', (notice) => {
    for (const date of everyDay(`${notice.year}-01-01`, `${notice.year}-12-31`)) {
      const day = calendar.day(date);
      const name = noticeHoliday(notice, date);
      expect([date, day.holiday !== undefined]).toEqual([date, name !== undefined]);
      if (name !== undefined) expect([date, name.includes(day.holiday!)]).toEqual([date, true]); // 国庆节、中秋节 ⊇ 中秋节
      expect([date, day.workday === true]).toEqual([date, notice.workdays.includes(date)]);
      expect(day.estimated).toBeUndefined();
    }
  });

  test('2026-02-17 (春节, 初一) is a public holiday and not a working day', () => {
    expect(calendar.day('2026-02-17')).toEqual({ date: '2026-02-17', holiday: '春节' });
    expect(calendar.isHoliday('2026-02-17')).toBe(true);
    expect(calendar.isWorkday('2026-02-17')).toBe(false);
  });

  test('the make-up Saturdays 2026-02-14 and 2026-02-28 are working days', () => {
    for (const date of ['2026-02-14', '2026-02-28']) {
      expect(weekday(date)).toBe(6);
      expect(calendar.day(date)).toEqual({ date, workday: true });
      expect(calendar.isWorkday(date)).toBe(true);
      expect(calendar.isHoliday(date)).toBe(false);
    }
  });

  test('3/8 (妇女节) and 6/1 (儿童节) are holidays for some groups only, never public holidays', () => {
    expect(calendar.isHoliday('2026-03-08')).toBe(false);
    expect(calendar.isHoliday('2026-06-01')).toBe(false);
    expect(calendar.isWorkday('2026-06-01')).toBe(true); // a Monday
  });

  test('5/4 (青年节) is no public holiday of its own, but 2026-05-04 lies inside 劳动节 5/1–5', () => {
    expect(calendar.day('2026-05-04')).toEqual({ date: '2026-05-04', holiday: '劳动节' });
    expect(calendar.isHoliday('2025-05-04')).toBe(true); // 劳动节 2025 was 5/1–5 too
    expect(calendar.isHoliday('2024-05-04')).toBe(true); // 2024: 5/1–5
    expect(calendar.isHoliday('2023-05-04')).toBe(false); // 2023: 4/29–5/3
  });

  test('ordinary days: a Monday works, a Saturday does not', () => {
    expect(calendar.day('2026-10-12')).toEqual({ date: '2026-10-12' });
    expect(calendar.isWorkday('2026-10-12')).toBe(true);
    expect(calendar.isWorkday('2026-03-07')).toBe(false);
  });

  test("the days the package leaves out of 端午 2011 and 2012 are filled in from the notices", () => {
    expect(calendar.day('2011-06-05')).toEqual({ date: '2011-06-05', holiday: '端午节' });
    expect(calendar.day('2012-06-23')).toEqual({ date: '2012-06-23', holiday: '端午节' });
    expect(calendar.days('2012-06-21', '2012-06-25').map((d) => d.date)).toEqual(['2012-06-22', '2012-06-23', '2012-06-24']);
    expect(calendar.isHoliday('2015-06-21')).toBe(false); // 2015: "6月20日放假，6月22日（星期一）补休": the Sunday is no holiday
  });

  test('every make-up working day the package carries is a Saturday or Sunday', () => {
    const workdays = packageYears().flatMap((y) => y.workdays);
    expect(workdays.length).toBeGreaterThan(100);
    for (const date of workdays) expect([date, [0, 6].includes(weekday(date))]).toEqual([date, true]);
  });

  test('every package year passes the checks of an operator-loaded file', () => {
    for (const year of packageYears()) expect([year.year, validateYearFile(toYearFile(year))]).toEqual([year.year, { year }]);
  });

  test('coveredThrough is the last day of the last announced year', () => {
    expect(calendar.coveredThrough).toBe('2026-12-31');
    expect(packageYears()[0].year).toBe(2004);
  });
});

describe('calendar.days(from, to)', () => {
  test('lists only holidays and make-up working days, both ends included, in date order', () => {
    expect(calendar.days('2026-09-20', '2026-10-10')).toEqual([
      { date: '2026-09-20', workday: true },
      ...everyDay('2026-09-25', '2026-09-27').map((date) => ({ date, holiday: '中秋节' })),
      ...everyDay('2026-10-01', '2026-10-07').map((date) => ({ date, holiday: '国庆节' })),
      { date: '2026-10-10', workday: true },
    ]);
  });

  test('a range without notable days is empty; one day is a range', () => {
    expect(calendar.days('2026-07-01', '2026-08-31')).toEqual([]);
    expect(calendar.days('2026-02-14', '2026-02-14')).toEqual([{ date: '2026-02-14', workday: true }]);
  });

  test('a whole year holds the notice: 33 days off and 6 make-up working days in 2026', () => {
    const days = calendar.days('2026-01-01', '2026-12-31');
    expect(days.filter((d) => d.holiday).length).toBe(NOTICE_2026.holidays.reduce((n, h) => n + everyDay(h.from, h.to).length, 0));
    expect(days.filter((d) => d.holiday).length).toBe(33);
    expect(days.filter((d) => d.workday).map((d) => d.date)).toEqual(NOTICE_2026.workdays);
  });

  test('a range reaching past the announced years goes on with estimated holidays', () => {
    expect(calendar.days('2026-12-30', '2027-01-02')).toEqual([{ date: '2027-01-01', holiday: '元旦', estimated: true }]);
  });

  test('misuse is a plain error that names the argument', () => {
    expect(() => calendar.days('2026-10-10', '2026-10-01')).toThrow(/before from/);
    expect(() => calendar.day('2026-2-1')).toThrow(/calendar.day: "2026-2-1" is not a date/);
    expect(() => calendar.isHoliday('2026-02-30')).toThrow(/not a date/);
  });
});

describe('a loaded year', () => {
  test('a newly announced year (2027, an example file) counts instead of the estimate', () => {
    const before = calendar.day('2027-02-10');
    const loaded = calendar.withYear(EXAMPLE_2027);
    expect(before).toEqual({ date: '2027-02-10', estimated: true }); // the statute gives 2/5–2/8
    expect(loaded.day('2027-02-10')).toEqual({ date: '2027-02-10', holiday: '春节' });
    expect(loaded.day('2027-02-20')).toEqual({ date: '2027-02-20', workday: true });
    expect(loaded.isWorkday('2027-02-20')).toBe(true);
    expect(loaded.day('2027-03-10')).toEqual({ date: '2027-03-10' }); // ordinary, and no longer estimated
  });

  test('extends coveredThrough, but only without a gap', () => {
    expect(calendar.withYear(EXAMPLE_2027).coveredThrough).toBe('2027-12-31');
    const only2028 = { ...estimateYear(2028), source: 'a test' };
    expect(calendar.withYear(only2028).coveredThrough).toBe('2026-12-31');
    expect(calendar.withYear(only2028).withYear(EXAMPLE_2027).coveredThrough).toBe('2028-12-31');
  });

  test("replaces the package's data for its year, all of it", () => {
    const corrected: YearData = {
      ...NOTICE_2026,
      holidays: NOTICE_2026.holidays.map((h) => (h.name === '国庆节' ? { ...h, to: '2026-10-08' } : h)),
      workdays: NOTICE_2026.workdays.filter((d) => d !== '2026-10-10'),
    };
    const loaded = calendar.withYear(corrected);
    expect(loaded.day('2026-10-08')).toEqual({ date: '2026-10-08', holiday: '国庆节' });
    expect(loaded.day('2026-10-10')).toEqual({ date: '2026-10-10' });
    expect(loaded.yearData(2026)).toBe(corrected);
  });

  test('does not change the calendar it was derived from', () => {
    calendar.withYear(EXAMPLE_2027);
    expect(calendar.day('2027-02-10').estimated).toBe(true);
    expect(calendar.yearData(2027)).toBeUndefined();
    expect(calendar.years.map((y) => y.year)).toEqual(Array.from({ length: 23 }, (_, i) => 2004 + i));
  });

  test('may begin in the December before: 元旦 2027 from 2026-12-31 marks that day too', () => {
    const withEve: YearData = { ...EXAMPLE_2027, holidays: [{ name: '元旦', from: '2026-12-31', to: '2027-01-02' }, ...EXAMPLE_2027.holidays.slice(1)] };
    expect(calendar.withYear(withEve).day('2026-12-31')).toEqual({ date: '2026-12-31', holiday: '元旦' });
    expect(calendar.day('2026-12-31')).toEqual({ date: '2026-12-31' });
  });
});

describe('the year file an operator loads', () => {
  const good = () => JSON.parse(fixture('calendar-2027-example.json'));
  const errorsOf = (doc: unknown) => {
    const result = validateYearFile(doc);
    return 'errors' in result ? result.errors : [];
  };

  test('a valid file gives the year, sorted, every `to` filled in', () => {
    const result = validateYearFile(good());
    expect(result).toEqual({ year: EXAMPLE_2027 });
    expect(EXAMPLE_2027.holidays.find((h) => h.name === '端午节')).toEqual({ name: '端午节', from: '2027-06-09', to: '2027-06-09' });
  });

  test('an impossible date is named by its path', () => {
    const doc = good();
    doc.holidays[1].to = '2027-02-30';
    doc.workdays[0] = '2027-2-20';
    expect(errorsOf(doc)).toEqual([
      { path: 'holidays[1].to', message: 'must be a date written YYYY-MM-DD, such as 2027-02-06' },
      { path: 'workdays[0]', message: 'must be a date written YYYY-MM-DD, such as 2027-02-06' },
    ]);
  });

  test('an unknown field is refused, so that a misspelt one is never dropped', () => {
    const doc = good();
    doc.holidays[0].too = '2027-01-03';
    doc.note = 'draft';
    expect(errorsOf(doc)).toEqual(expect.arrayContaining([
      { path: 'holidays[0].too', message: 'is not a known field' },
      { path: 'note', message: 'is not a known field' },
    ]));
  });

  test('a required field that is missing is named', () => {
    const doc = good();
    delete doc.source;
    delete doc.holidays[2].from;
    expect(errorsOf(doc)).toEqual([
      { path: 'source', message: 'is required' },
      { path: 'holidays[2].from', message: 'is required' },
    ]);
  });

  test('a holiday range written backwards is refused at its `to`', () => {
    const doc = good();
    doc.holidays[1] = { name: '春节', from: '2027-02-12', to: '2027-02-05' };
    expect(errorsOf(doc)).toEqual([{ path: 'holidays[1].to', message: 'must not be before from (2027-02-12)' }]);
  });

  test('a date outside the year (other than the December before) is refused', () => {
    const doc = good();
    doc.holidays[6].to = '2028-10-07';
    doc.workdays.push('2026-11-28');
    expect(errorsOf(doc)).toEqual([
      { path: 'holidays[6].to', message: 'must be in 2027 (or in December 2026, for a holiday that begins before New Year)' },
      { path: 'workdays[4]', message: 'must be in 2027 (or in December 2026, for a holiday that begins before New Year)' },
    ]);
  });

  test('overlapping holidays are refused at the later entry', () => {
    const doc = good();
    doc.holidays.push({ name: '春节', from: '2027-02-12', to: '2027-02-13' });
    expect(errorsOf(doc)).toEqual([{ path: 'holidays[7]', message: 'overlaps holidays[1] (春节 2027-02-05–2027-02-12); list each day once' }]);
  });

  test('a make-up working day must be a weekend day outside the holidays', () => {
    const doc = good();
    doc.workdays = ['2027-02-17', '2027-02-06'];
    expect(errorsOf(doc)).toEqual([
      { path: 'workdays[0]', message: 'is a Wednesday; a make-up working day (调休上班) is a Saturday or Sunday' },
      { path: 'workdays[1]', message: 'is inside holidays[1] (春节); a day is either off or worked' },
    ]);
  });

  test('a holiday of more than 31 days is taken for a typo', () => {
    const doc = good();
    doc.holidays[6].to = '2027-11-07';
    expect(errorsOf(doc)).toEqual([{ path: 'holidays[6].to', message: 'makes a holiday of 38 days; at most 31' }]);
  });

  test('wrong types and blank names are named too', () => {
    expect(errorsOf([])).toEqual([{ path: '', message: 'must be object' }]);
    const doc = good();
    doc.year = '2027';
    doc.holidays[0].name = ' ';
    expect(errorsOf(doc)).toEqual([
      { path: 'year', message: 'must be integer' },
      { path: 'holidays[0].name', message: 'must not be blank' },
    ]);
  });

  test('text that is not JSON is one error at the root', () => {
    const result = parseYearFile('{ "year": 2027,');
    expect('errors' in result && result.errors.length === 1 && result.errors[0].path === '').toBe(true);
    expect('errors' in result && result.errors[0].message).toMatch(/^is not JSON: /);
  });
});

describe('estimated years (the statute as revised from 2025)', () => {
  test('2028 is estimated: its days say so, and no make-up working day is guessed', () => {
    expect(calendar.day('2028-01-26')).toEqual({ date: '2028-01-26', holiday: '春节', estimated: true });
    expect(calendar.day('2028-03-01')).toEqual({ date: '2028-03-01', estimated: true });
    const days = calendar.days('2028-01-01', '2028-12-31');
    expect(days.every((d) => d.estimated && d.holiday && !d.workday)).toBe(true);
    expect(days.length).toBe(12); // 元旦 1, 春节 4, 清明 1, 劳动 2, 端午 1, 国庆 3 (中秋 falls on 10/3, inside it)
    expect(calendar.isWorkday('2028-01-26')).toBe(false);
  });

  test('the estimate of 2026 agrees with the notice: 除夕 2/16, 初一 2/17, 清明 4/5, 端午 6/19, 中秋 9/25', () => {
    const est = estimateYear(2026);
    expect(est.holidays).toEqual([
      { name: '元旦', from: '2026-01-01', to: '2026-01-01' },
      { name: '春节', from: '2026-02-16', to: '2026-02-19' },
      { name: '清明节', from: '2026-04-05', to: '2026-04-05' },
      { name: '劳动节', from: '2026-05-01', to: '2026-05-02' },
      { name: '端午节', from: '2026-06-19', to: '2026-06-19' },
      { name: '中秋节', from: '2026-09-25', to: '2026-09-25' },
      { name: '国庆节', from: '2026-10-01', to: '2026-10-03' },
    ]);
    expect(est.workdays).toEqual([]);
  });

  test.each([[NOTICE_2026], [NOTICE_2025]])('every statutory day estimated lies inside the holiday of the same name in notice %#', (notice) => {
    for (const h of estimateYear(notice.year).holidays) {
      for (const date of everyDay(h.from, h.to)) expect([date, noticeHoliday(notice, date)?.includes(h.name)]).toEqual([date, true]);
    }
  });

  test('除夕 is the last day of the lunar year: lunar 12/29 in 2025 and 2026, 12/30 in 2024', () => {
    const eve = (year: number) => estimateYear(year).holidays.find((h) => h.name === '春节')!.from;
    expect(eve(2025)).toBe('2025-01-28'); // 腊月廿九; 初一 was 1/29
    expect(eve(2026)).toBe('2026-02-16'); // 腊月廿九; 初一 2/17
    expect(eve(2024)).toBe('2024-02-09'); // 腊月三十; 初一 2/10
  });

  test('the lunar and solar-term days (初一–初三, 清明, 端午, 中秋) fall on announced holidays in every year 2008–2026', () => {
    for (const year of packageYears().filter((y) => y.year >= 2008)) {
      const est = estimateYear(year.year).holidays.filter((h) => ['春节', '清明节', '端午节', '中秋节', '中秋节、国庆节'].includes(h.name));
      const days = est.flatMap((h) => everyDay(h.name === '春节' ? addDays(h.from, 1) : h.from, h.to)); // 除夕 was off only 2008–13 and from 2025
      expect(days.length).toBe(6);
      for (const date of days) expect([date, noticeHoliday(year, date) !== undefined]).toEqual([date, true]);
    }
  });

  test('holidays that meet share the day: 中秋 2028 on 10/3 is 中秋节、国庆节', () => {
    expect(calendar.day('2028-10-03')).toEqual({ date: '2028-10-03', holiday: '中秋节、国庆节', estimated: true });
  });
});

describe('opening_hours with PH read from the calendar', () => {
  const MUSEUM = 'Tu-Su 09:00-17:00; PH 09:00-17:00';
  const CLOSED_ON_PH = 'Mo-Su 09:00-17:00; PH off';

  test('a museum closed on Mondays opens on a Monday inside National Day (2026-10-05)', () => {
    expect(isOpenAt(hours(MUSEUM), at('2026-10-05T10:00'))).toBe(true);
    expect(isOpenAt(hours(MUSEUM), at('2026-10-12T10:00'))).toBe(false); // an ordinary Monday
    expect(isOpenAt(hours(MUSEUM), at('2026-10-05T08:00'))).toBe(false); // before opening
  });

  test('the library alone gets 2026-10-05 wrong: its cn PH stops at 10/3 (why this module exists)', () => {
    const plain = parseHours(MUSEUM);
    expect('hours' in plain && libraryIsOpenAt(plain.hours, at('2026-10-05T10:00'))).toBe(false);
  });

  test('PH off closes on 春节 (2026-02-17) and 5/4 inside 劳动节, never on 3/8 or 6/1', () => {
    const h = hours(CLOSED_ON_PH);
    expect(isOpenAt(h, at('2026-02-17T10:00'))).toBe(false);
    expect(isOpenAt(h, at('2026-05-04T10:00'))).toBe(false);
    expect(isOpenAt(h, at('2026-03-08T10:00'))).toBe(true);
    expect(isOpenAt(h, at('2026-06-01T10:00'))).toBe(true);
    const plain = parseHours(CLOSED_ON_PH);
    expect('hours' in plain && libraryIsOpenAt(plain.hours, at('2026-03-08T10:00'))).toBe(false); // the library's mistake
  });

  test('a loaded 2027 changes the answers for 2027, with a new calendar and no new parse', () => {
    const estimated = hours(CLOSED_ON_PH);
    const loaded = estimated.withCalendar(calendar.withYear(EXAMPLE_2027));
    expect(isOpenAt(estimated, at('2027-02-10T10:00'))).toBe(true); // not a statutory day
    expect(isOpenAt(loaded, at('2027-02-10T10:00'))).toBe(false); // 春节 2/5–12 in the file
    expect(isOpenAt(estimated, at('2027-02-10T10:00'))).toBe(true); // the first is unchanged
    expect(isOpenAt(hours(CLOSED_ON_PH, calendar.withYear(EXAMPLE_2027)), at('2027-02-10T10:00'))).toBe(false);
  });

  test('open intervals over National Day: every day 09:00–17:00 through Sunday 10/11, not Monday 10/12', () => {
    const got = openIntervals(hours(MUSEUM), at('2026-10-04T00:00'), at('2026-10-13T00:00'));
    expect(got).toEqual(everyDay('2026-10-04', '2026-10-11').map((d) => ({ start: at(`${d}T09:00`), end: at(`${d}T17:00`), unknown: false })));
  });

  test('open intervals are cut to the range asked, and one that runs past midnight stays one', () => {
    // 10/7 is read through a rewrite with 10/6 and 10/7 as holidays, 10/8 through another: one interval all the same.
    const h = hours('Mo-Su 20:00-02:00; PH 20:00-02:00');
    expect(openIntervals(h, at('2026-10-07T21:00'), at('2026-10-09T01:00'))).toEqual([
      { start: at('2026-10-07T21:00'), end: at('2026-10-08T02:00'), unknown: false },
      { start: at('2026-10-08T20:00'), end: at('2026-10-09T01:00'), unknown: false },
    ]);
    expect(openIntervals(h, at('2026-10-02T01:00'), at('2026-10-02T01:00'))).toEqual([]);
  });

  test("a PH rule takes the whole day, even the hours running into it from the evening before (the library's rule)", () => {
    const h = hours('Mo-Su 20:00-02:00; PH 20:00-02:00');
    expect(openIntervals(h, at('2026-09-30T12:00'), at('2026-10-01T12:00'))).toEqual([
      { start: at('2026-09-30T20:00'), end: at('2026-10-01T00:00'), unknown: false },
    ]);
  });

  test('PH inside a comment is no holiday; hours without PH are the library parse itself', () => {
    const h = hours('Mo-Su 09:00-17:00 "PH: ask at the gate"');
    expect(h.usesPublicHolidays).toBe(false);
    expect(hours(CLOSED_ON_PH).usesPublicHolidays).toBe(true);
    expect(hours('Mo-Su 09:00-17:00; public holidays off').usesPublicHolidays).toBe(true); // corrected to PH by the library
  });

  test('what cannot be rewritten, or parsed, is an error', () => {
    expect(parseHoursWithCalendar('Mo-Fr 10:00-12:00; PH Mo[1] off', calendar)).toEqual({ error: expect.stringMatching(/PH followed by weekdays/) });
    expect(parseHoursWithCalendar('Mo-Fr 25:00-26:00', calendar)).toEqual(parseHours('Mo-Fr 25:00-26:00')); // the library's own complaint
    expect(() => isOpenAt({ text: 'x' } as CalendarHours, new Date())).toThrow(/parseHoursWithCalendar/);
  });

  /**
   * The oracle: a calendar whose holidays are exactly the library's own cn list (1/1, 3/8, 5/1, 5/4, 6/1,
   * 10/1–3) must give the library's own answers, for PH in every position the syntax allows.
   */
  describe('with the library holidays as the calendar, answers equal the library', () => {
    const LIBRARY_CN: YearData[] = [2025, 2026, 2027].map((year) => ({
      year,
      source: 'opening_hours 3.15 cn PH',
      holidays: [['元旦', '01-01', '01-01'], ['妇女节', '03-08', '03-08'], ['劳动节', '05-01', '05-01'], ['青年节', '05-04', '05-04'],
        ['儿童节', '06-01', '06-01'], ['国庆节', '10-01', '10-03']].map(([name, from, to]) => ({ name, from: `${year}-${from}`, to: `${year}-${to}` })),
      workdays: [],
    }));
    const libraryCalendar = Calendar.fromYears(LIBRARY_CN);
    const TEXTS = [
      'Tu-Su 09:00-17:00; PH 09:00-17:00',
      'Mo-Su 09:00-17:00; PH off',
      'Tu-Su 09:00-16:30; Mo,PH 10:00-15:00',
      'Mo-Fr 08:00-18:00; Sa,Su,PH off',
      'Mo-Fr 08:00-18:00; PH,Sa 09:00-12:00',
      'Mo-Fr 10:00-20:00; PH +1 day off',
      'Mo-Su 10:00-20:00; PH -1 day 10:00-14:00',
      'Mo-Fr 18:00-02:00; PH 20:00-03:00',
      'Mo-Su 20:00-02:00; PH off',
      'Mo-Fr 10:00-18:00; PH Mo-Fr off',
      'Tu-Su 09:00-17:00; PH Sa,Su 08:00-18:00',
      'Mo-Fr 09:00-17:00; PH Fr-Mo 10:00-11:00',
      'Mo-Fr 10:00-12:00, PH 14:00-16:00',
      'Mo-Fr 08:00-12:00 || PH "by appointment"',
      'Mo-Su 09:00-17:00; Jan-Mar PH off',
      '24/7; PH off',
      'Mo-Su 09:00-17:00; public holidays off',
      'Mo-Su 09:00-17:00; PH 10:00-12:00 "holiday hours"',
      'Tu-Su 09:00-17:00; PH,PH +1 day off',
      'Sa,PH +1 day,Su 10:00-16:00',
      'Mo-Su 09:00-17:00; PH -1 day 09:00-12:00; PH off',
      'Mo-Fr 22:00-26:00; PH off',
      'Mo-Su 09:00+; PH off',
      'Mo-Su sunrise-sunset; PH off',
      'Apr-Oct Tu-Su 08:30-17:00; Nov-Mar Tu-Su 08:30-16:30',
    ];
    // Weeks around each of the library's holidays, and the turn of the year.
    const WINDOWS: [string, string][] = [['2025-12-27', '2026-01-04'], ['2026-03-05', '2026-03-11'], ['2026-04-28', '2026-05-07'],
      ['2026-05-29', '2026-06-03'], ['2026-09-28', '2026-10-06']];
    const HALF_HOURS = WINDOWS.flatMap(([from, to]) => everyDay(from, to)).flatMap((d) =>
      Array.from({ length: 48 }, (_, k) => at(`${d}T${String(k >> 1).padStart(2, '0')}:${k % 2 ? '30' : '00'}`)));
    /** Adjacent intervals of the same kind merged, comments left out (the library names holidays in them). */
    const normalised = (list: { start: Date; end: Date; unknown: boolean }[]) => list.reduce<{ start: number; end: number; unknown: boolean }[]>((out, i) => {
      const last = out[out.length - 1];
      if (last && last.end === i.start.getTime() && last.unknown === i.unknown) last.end = i.end.getTime();
      else out.push({ start: i.start.getTime(), end: i.end.getTime(), unknown: i.unknown });
      return out;
    }, []);

    test.each(TEXTS)('%s', (text) => {
      const ours = hours(text, libraryCalendar);
      const theirs = parseHours(text);
      if (!('hours' in theirs)) throw new Error(theirs.error);
      const mismatches = HALF_HOURS.filter((t) => isOpenAt(ours, t) !== libraryIsOpenAt(theirs.hours, t));
      expect(mismatches.map((t) => t.toISOString())).toEqual([]);
      for (const [from, to] of WINDOWS) {
        const [a, b] = [at(`${from}T00:00`), at(`${addDays(to, 1)}T00:00`)];
        const library = theirs.hours.getOpenIntervals(shanghaiWallClock(a), shanghaiWallClock(b))
          .map(([start, end, unknown]) => ({ start: fromShanghaiWallClock(start), end: fromShanghaiWallClock(end), unknown }));
        expect(normalised(openIntervals(ours, a, b))).toEqual(normalised(library));
      }
    });
  });
});
