import { invalidField } from '../errors.js';
import { DATE_MESSAGE } from '../validation.js';
import type { Calendar } from './calendar.js';
import { dayNumber, fromDayNumber, isIsoDate, shanghaiDate } from './dates.js';
import type { CalendarDay } from './year.js';

/** What `GET /v1/calendar` answers: the notable days of a range of dates. */
export interface CalendarListing {
  /** The last day up to which every year is announced; later days are `estimated`. */
  covered_through: string;
  /** The range answered, both ends included (`YYYY-MM-DD`). */
  from: string;
  to: string;
  /** Holidays and make-up working days in the range, in date order; ordinary days are left out. */
  days: CalendarDay[];
}

/** Widest range of one listing, in days, both ends included: any three years (366 + 365 + 365). */
export const MAX_LISTING_DAYS = 1096;

/**
 * The holidays and make-up working days from `from` to `to` (`YYYY-MM-DD`, both included). `from`
 * defaults to today in Beijing (from `nowMs`), `to` to the day before the same date a year later. A 400
 * names `query.from` or `query.to` for a date that is not one, `to` before `from`, or more than
 * `MAX_LISTING_DAYS` days.
 */
export function calendarListing(calendar: Calendar, range: { from?: string; to?: string }, nowMs: number): CalendarListing {
  const from = range.from ?? shanghaiDate(new Date(nowMs));
  if (!isIsoDate(from)) throw invalidField('query.from', DATE_MESSAGE);
  if (range.to !== undefined && !isIsoDate(range.to)) throw invalidField('query.to', DATE_MESSAGE);
  const to = range.to ?? aYearOn(from);
  if (to < from) throw invalidField('query.to', `must not be before from (${from})`);
  const span = dayNumber(to) - dayNumber(from) + 1;
  if (span > MAX_LISTING_DAYS) {
    throw invalidField('query.to', `makes a range of ${span} days; at most ${MAX_LISTING_DAYS} (three years), e.g. to=${fromDayNumber(dayNumber(from) + MAX_LISTING_DAYS - 1)}`);
  }
  return { covered_through: calendar.coveredThrough, from, to, days: calendar.days(from, to) };
}

/** The day before the same date a year later: 2026-03-15 → 2027-03-14; 2028-02-29 → 2029-02-28. */
function aYearOn(date: string): string {
  const next = Date.UTC(Number(date.slice(0, 4)) + 1, Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
  return fromDayNumber(next / 86_400_000 - 1);
}
