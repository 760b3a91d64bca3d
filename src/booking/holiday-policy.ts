import { Calendar } from '../calendar/calendar.js';
import { openIntervals, type CalendarHours } from '../calendar/hours.js';
import { addDays, shanghaiDate, shanghaiMidnight, yearOf } from '../calendar/dates.js';

/**
 * What a schedule does on China's public holidays (the days `GET /v1/calendar` lists as `holiday`).
 * Only the holidays themselves change; every other day follows `hours` as written.
 *
 * - `hours` (default): `hours` decides, with `PH` meaning the calendar's holidays — `Tu-Su 09:00-16:00;
 *   PH off` has no slots on holidays, `Tu-Su 09:00-16:00; PH 09:00-16:00` opens them (a Monday too), and
 *   hours without `PH` treat a holiday like any other day of its weekday.
 * - `closed`: no slots on a holiday, whatever `hours` says.
 * - `as_weekday`: a holiday is an ordinary day of its weekday: the weekly rules decide and every `PH`
 *   rule is ignored (a Monday holiday of a `Tu-Su` museum stays closed, `PH off` is not applied).
 * - `open`: a holiday always opens: with the hours `hours` gives it when they open it; else with the
 *   hours of its weekday without the `PH` rules (a `PH off` on a Tuesday); else (a Monday of a `Tu-Su`
 *   museum) with the hours of the last ordinary day before it that opens, at most 14 days back (for
 *   National Day 10/1–7: those of 9/30).
 */
export type HolidayPolicy = 'hours' | 'closed' | 'open' | 'as_weekday';

/** How far back `open` looks for an ordinary day to copy the hours of, in days. */
const OPEN_LOOKBACK_DAYS = 14;
const DAY_MS = 86_400_000;

/** An open stretch, in epoch ms. */
export interface Stretch {
  start: number;
  end: number;
}

/**
 * The open stretches (not unknown) of `hours` from `from` to `to` (instants) under a holiday policy,
 * in time order, adjacent ones merged. `hours` is read with the calendar that decides the holidays.
 */
export function openStretches(hours: CalendarHours, policy: HolidayPolicy, from: Date, to: Date): Stretch[] {
  const calendar = hours.calendar;
  const base = known(hours, from.getTime(), to.getTime());
  if (policy === 'hours') return base;
  const holidays: string[] = [];
  for (let day = shanghaiDate(from); shanghaiMidnight(day).getTime() < to.getTime(); day = addDays(day, 1)) {
    if (calendar.isHoliday(day)) holidays.push(day);
  }
  if (!holidays.length) return base;

  // The same hours with no public holiday at all, in every year these days (and the days they look at) touch.
  const plain = hours.withCalendar(noHolidays(yearOf(shanghaiDate(from)) - 1, yearOf(shanghaiDate(to)) + 1));
  const replaced = new Set(holidays);
  const out = base.flatMap((s) => outside(s, replaced));
  for (const day of holidays) {
    const d0 = Math.max(shanghaiMidnight(day).getTime(), from.getTime());
    const d1 = Math.min(shanghaiMidnight(addDays(day, 1)).getTime(), to.getTime());
    if (policy === 'closed') continue;
    if (policy === 'as_weekday') {
      out.push(...known(plain, d0, d1));
      continue;
    }
    const own = known(hours, d0, d1);
    if (own.length) {
      out.push(...own);
      continue;
    }
    const weekday = known(plain, d0, d1);
    if (weekday.length) {
      out.push(...weekday);
      continue;
    }
    out.push(...copiedFromBefore(hours, day, d0, d1));
  }
  return merged(out.sort((a, b) => a.start - b.start));
}

/** The known-open stretches of `hours` in [fromMs, toMs). */
function known(hours: CalendarHours, fromMs: number, toMs: number): Stretch[] {
  return openIntervals(hours, new Date(fromMs), new Date(toMs)).filter((i) => !i.unknown).map((i) => ({ start: i.start.getTime(), end: i.end.getTime() }));
}

/** The parts of a stretch that lie outside the given days. */
function outside(s: Stretch, days: ReadonlySet<string>): Stretch[] {
  const parts: Stretch[] = [];
  let start = s.start;
  for (let day = shanghaiDate(new Date(s.start)); start < s.end; day = addDays(day, 1)) {
    const end = Math.min(s.end, shanghaiMidnight(addDays(day, 1)).getTime());
    if (!days.has(day)) parts.push({ start, end });
    start = end;
  }
  return merged(parts);
}

/** The hours of the last ordinary day before `day` that opens (at most OPEN_LOOKBACK_DAYS back), moved onto `day`. */
function copiedFromBefore(hours: CalendarHours, day: string, d0: number, d1: number): Stretch[] {
  for (let back = 1; back <= OPEN_LOOKBACK_DAYS; back++) {
    const earlier = addDays(day, -back);
    if (hours.calendar.isHoliday(earlier)) continue;
    const shift = back * DAY_MS; // Beijing has no daylight saving: a day is always 24 hours
    const stretches = known(hours, shanghaiMidnight(earlier).getTime(), shanghaiMidnight(addDays(earlier, 1)).getTime())
      .map((s) => ({ start: Math.max(s.start + shift, d0), end: Math.min(s.end + shift, d1) }))
      .filter((s) => s.end > s.start);
    if (stretches.length) return stretches;
  }
  return [];
}

/** Stretches in time order with touching ones joined. */
function merged(stretches: Stretch[]): Stretch[] {
  const out: Stretch[] = [];
  for (const s of stretches) {
    const last = out[out.length - 1];
    if (last && last.end === s.start) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

/** A calendar in which the years `first`–`last` have no public holiday (for `PH` read as never). */
function noHolidays(first: number, last: number): Calendar {
  const years = [];
  for (let year = first; year <= last; year++) years.push({ year, source: 'no public holidays', holidays: [], workdays: [] });
  return Calendar.fromYears(years);
}
