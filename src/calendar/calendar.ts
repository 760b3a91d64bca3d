import { addDays, assertIsoDate, isIsoDate, weekday, yearOf } from './dates.js';
import { estimateYear } from './estimate.js';
import type { CalendarDay, YearData } from './year.js';

/**
 * China's public holidays and make-up working days (调休): the announced years (from the `chinese-days`
 * package, or loaded by an operator), and the statute's estimate for every other year. Immutable:
 * `withYear` answers a new calendar, so a snapshot can hold one and swap it whole.
 * Dates are Asia/Shanghai calendar dates written `YYYY-MM-DD`; nothing depends on the process's time zone.
 */
export class Calendar {
  /** The last date up to which every year is announced (e.g. `2026-12-31`): `covered_through` of `GET /v1/calendar`. */
  readonly coveredThrough: string;
  private readonly announced: ReadonlyMap<number, YearData>;
  /** Holidays and make-up working days of the announced years, by date. */
  private readonly notable: ReadonlyMap<string, CalendarDay>;
  /** The same, in date order. */
  private readonly notableDays: readonly CalendarDay[];

  private constructor(announced: ReadonlyMap<number, YearData>) {
    this.announced = announced;
    const notable = new Map<string, CalendarDay>();
    // In year order, so that a notice's days in December of the year before (元旦 from 30 Dec) win.
    for (const year of [...announced.keys()].sort((a, b) => a - b)) {
      const data = announced.get(year)!;
      for (const h of data.holidays) {
        for (let date = h.from; date <= h.to; date = addDays(date, 1)) notable.set(date, { date, holiday: h.name });
      }
      for (const date of data.workdays) notable.set(date, { date, workday: true });
    }
    this.notable = notable;
    this.notableDays = [...notable.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
    let last = Math.min(...announced.keys());
    while (announced.has(last + 1)) last++;
    this.coveredThrough = `${last}-12-31`;
  }

  /** A calendar of these announced years; of two with the same year, the later one counts. */
  static fromYears(years: Iterable<YearData>): Calendar {
    const announced = new Map<number, YearData>();
    for (const data of years) announced.set(checkedYear(data).year, data);
    if (announced.size === 0) throw new Error('Calendar.fromYears needs at least one announced year (packageYears() has them)');
    return new Calendar(announced);
  }

  /** A new calendar in which `data` replaces whatever this one had for its year. This one is unchanged. */
  withYear(data: YearData): Calendar {
    return new Calendar(new Map(this.announced).set(checkedYear(data).year, data));
  }

  /** The announced years, in year order (to store the loaded ones, or to list them). */
  get years(): readonly YearData[] {
    return [...this.announced.values()].sort((a, b) => a.year - b.year);
  }

  /** The announced data of one year, or undefined when that year is estimated. */
  yearData(year: number): YearData | undefined {
    return this.announced.get(year);
  }

  /** What the calendar knows of one date: its holiday, whether it is a make-up working day, whether it is estimated. */
  day(date: string): CalendarDay {
    assertIsoDate(date, 'calendar.day');
    return this.known(date);
  }

  /** Whether the date is a public holiday (what `PH` means in opening_hours). */
  isHoliday(date: string): boolean {
    assertIsoDate(date, 'calendar.isHoliday');
    return this.known(date).holiday !== undefined;
  }

  /** Whether people work that day: Monday to Friday unless a holiday, and the make-up working days (调休). */
  isWorkday(date: string): boolean {
    assertIsoDate(date, 'calendar.isWorkday');
    const day = this.known(date);
    if (day.holiday !== undefined) return false;
    if (day.workday) return true;
    const dow = weekday(date);
    return dow !== 0 && dow !== 6;
  }

  /**
   * The notable days from `from` to `to`, both included, in date order: holidays and make-up working days
   * (ordinary days are left out). Estimated years contribute their statutory holidays, marked `estimated`.
   */
  days(from: string, to: string): CalendarDay[] {
    assertIsoDate(from, 'calendar.days from');
    assertIsoDate(to, 'calendar.days to');
    if (to < from) throw new Error(`calendar.days: to (${to}) is before from (${from})`);
    const out = this.notableDays.slice(firstAtOrAfter(this.notableDays, from), firstAtOrAfter(this.notableDays, addDays(to, 1)));
    let estimatedAny = false;
    for (let year = yearOf(from); year <= yearOf(to); year++) {
      if (this.announced.has(year)) continue;
      for (const day of estimatedDays(year).values()) {
        if (day.date < from || day.date > to || this.notable.has(day.date)) continue;
        out.push(day);
        estimatedAny = true;
      }
    }
    return estimatedAny ? out.sort((a, b) => (a.date < b.date ? -1 : 1)) : out;
  }

  /** `day` without the argument check (callers have checked). */
  private known(date: string): CalendarDay {
    const notable = this.notable.get(date);
    if (notable) return notable;
    if (this.announced.has(yearOf(date))) return { date };
    return estimatedDays(yearOf(date)).get(date) ?? { date, estimated: true };
  }
}

const estimates = new Map<number, ReadonlyMap<string, CalendarDay>>();

/** The estimated holidays of a year, by date (computed once per year, then shared by every calendar). */
function estimatedDays(year: number): ReadonlyMap<string, CalendarDay> {
  let days = estimates.get(year);
  if (!days) {
    const map = new Map<string, CalendarDay>();
    for (const h of estimateYear(year).holidays) {
      for (let date = h.from; date <= h.to; date = addDays(date, 1)) map.set(date, { date, holiday: h.name, estimated: true });
    }
    estimates.set(year, (days = map));
  }
  return days;
}

/** Index of the first day dated `date` or later, by binary search. */
function firstAtOrAfter(days: readonly CalendarDay[], date: string): number {
  let lo = 0;
  let hi = days.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (days[mid].date < date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `data`, after the checks that keep a calendar consistent; throws a plain error naming what is wrong. */
function checkedYear(data: YearData): YearData {
  const inYear = (date: string) => isIsoDate(date) && (yearOf(date) === data.year || date.startsWith(`${data.year - 1}-12-`));
  const bad = [...data.holidays.flatMap((h) => [h.from, h.to]), ...data.workdays].find((date) => !inYear(date));
  if (!Number.isInteger(data.year) || bad !== undefined) {
    throw new Error(`calendar: year ${data.year} has the date ${JSON.stringify(bad)} outside it; check it with validateYearFile first`);
  }
  return data;
}
