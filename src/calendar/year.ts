import { addDays } from './dates.js';

/**
 * The holidays and make-up working days (调休) of one year, as the State Council announces them each
 * November, and the day-by-day view a calendar answers with.
 */

/** One day as the calendar knows it. Dates are Asia/Shanghai calendar dates. */
export interface CalendarDay {
  /** `YYYY-MM-DD`. */
  readonly date: string;
  /** The public holiday (`PH`) this day belongs to, by its Chinese name (`春节`); absent on other days. */
  readonly holiday?: string;
  /** A make-up working day (调休上班): a Saturday or Sunday on which people work. */
  readonly workday?: true;
  /** The year has not been announced: the day follows the statute, and any 调休 is unknown. */
  readonly estimated?: true;
}

/** One holiday of a year: consecutive days, both ends included. */
export interface HolidayRange {
  /** Chinese name, as the notice writes it (`春节`, `中秋节、国庆节`). */
  readonly name: string;
  /** First day, `YYYY-MM-DD`. */
  readonly from: string;
  /** Last day, `YYYY-MM-DD` (equal to `from` for a one-day holiday). */
  readonly to: string;
}

/**
 * The arrangement of one announced year. Its days lie in that year, or in the last days of December
 * of the year before (a 元旦 holiday may begin on 30 December); they are listed by date, without overlaps.
 */
export interface YearData {
  readonly year: number;
  /** Where the data come from: the notice (`国办发明电〔2025〕7号`), or the package that carried it. */
  readonly source: string;
  /** In date order. */
  readonly holidays: readonly HolidayRange[];
  /** Make-up working days, `YYYY-MM-DD`, in date order. */
  readonly workdays: readonly string[];
}

/** Days given as `[date, name]` in date order, grouped into ranges of consecutive days of one name. */
export function holidayRanges(days: Iterable<readonly [string, string]>): HolidayRange[] {
  const ranges: HolidayRange[] = [];
  for (const [date, name] of days) {
    const last = ranges[ranges.length - 1];
    if (last && last.name === name && addDays(last.to, 1) === date) ranges[ranges.length - 1] = { ...last, to: date };
    else ranges.push({ name, from: date, to: date });
  }
  return ranges;
}
