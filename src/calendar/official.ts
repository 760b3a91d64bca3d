import { createRequire } from 'node:module';
import { Calendar } from './calendar.js';
import { yearOf } from './dates.js';
import { holidayRanges, type YearData } from './year.js';

/**
 * The State Council's arrangements as the npm package `chinese-days` (MIT) carries them: every year from
 * 2004 to the last notice it has (2026 in version 1.5.7). Its data file maps each date to
 * `"English name,中文名,days"`, for holidays and for make-up working days.
 */
interface PackageData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

const require = createRequire(import.meta.url);

// The package writes some names shorter than the notices do; answers use the notices' names.
const NOTICE_NAMES: Record<string, string> = { 清明: '清明节', 端午: '端午节', 中秋: '中秋节' };

/**
 * Days the package leaves out of a holiday its notice states whole; added unless the package has them.
 * 2011: "端午节：6月4日至6日放假公休，共3天"; 2012: "端午节：6月22日至24日放假公休，共3天" (6/23 was 端午 itself).
 */
const CORRECTIONS: Record<string, string> = { '2011-06-05': '端午节', '2012-06-23': '端午节' };

let cached: YearData[] | undefined;

/** Every year `chinese-days` carries, in year order, as `YearData` (parsed once, then shared). */
export function packageYears(): readonly YearData[] {
  if (cached) return cached;
  const data = require('chinese-days/dist/chinese-days.json') as PackageData;
  const version = (require('chinese-days/package.json') as { version: string }).version;
  const byYear = new Map<number, { holidays: [string, string][]; workdays: string[] }>();
  const yearEntry = (date: string) => {
    let entry = byYear.get(yearOf(date));
    if (!entry) byYear.set(yearOf(date), (entry = { holidays: [], workdays: [] }));
    return entry;
  };
  for (const [date, value] of Object.entries(data.holidays)) yearEntry(date).holidays.push([date, noticeName(value)]);
  for (const date of Object.keys(data.workdays)) yearEntry(date).workdays.push(date);
  for (const [date, name] of Object.entries(CORRECTIONS)) if (!(date in data.holidays)) yearEntry(date).holidays.push([date, name]);

  cached = [...byYear.entries()].sort(([a], [b]) => a - b).map(([year, entry]) => ({
    year,
    source: `chinese-days ${version}`,
    holidays: holidayRanges(entry.holidays.sort(([a], [b]) => (a < b ? -1 : 1))),
    workdays: entry.workdays.sort(),
  }));
  return cached;
}

/** The Chinese name in a package value such as `"Tomb-sweeping Day,清明,1"`, as the notices write it. */
function noticeName(value: string): string {
  const zh = value.split(',')[1];
  if (!zh) throw new Error(`chinese-days: unexpected holiday value ${JSON.stringify(value)}; has the package's data format changed?`);
  return NOTICE_NAMES[zh] ?? zh;
}

/** The calendar of the package's years alone: what the service starts with before any year is loaded. */
export function packageCalendar(): Calendar {
  return Calendar.fromYears(packageYears());
}
