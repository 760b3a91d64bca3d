import { Lunar } from 'lunar-typescript';
import { addDays } from './dates.js';
import { holidayRanges, type YearData } from './year.js';

/**
 * The statutory holidays of a year that has not been announced, by 《全国年节及纪念日放假办法》 as revised
 * from 2025: 元旦 1 Jan; 春节 除夕 (the last day of the lunar year) and lunar 1/1–1/3; 清明节 on the day of
 * the solar term; 劳动节 1–2 May; 端午节 lunar 5/5; 中秋节 lunar 8/15; 国庆节 1–3 Oct. The notices add
 * bridging days and make-up working days each year; those cannot be derived, so none are estimated.
 * Lunar dates and solar terms come from `lunar-typescript` (MIT; astronomical, offline).
 */
export function estimateYear(year: number): YearData {
  const days = new Map<string, string>();
  const add = (name: string, from: string, count = 1) => {
    for (let i = 0; i < count; i++) {
      const date = addDays(from, i);
      const other = days.get(date);
      days.set(date, other ? `${other}、${name}` : name); // e.g. 中秋节 on 1–3 Oct (2028)
    }
  };
  const iso = (y: number, m: number, d: number) => isoDate(y, m, d);
  const lunar = (m: number, d: number) => solarDate(Lunar.fromYmd(year, m, d).getSolar());

  add('元旦', iso(year, 1, 1));
  // 除夕 is the day before lunar 1/1 whether lunar month 12 has 29 or 30 days.
  add('春节', addDays(lunar(1, 1), -1), 4);
  add('清明节', qingming(year));
  add('劳动节', iso(year, 5, 1), 2);
  add('端午节', lunar(5, 5));
  add('中秋节', lunar(8, 15));
  add('国庆节', iso(year, 10, 1), 3);

  const holidays = holidayRanges([...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  return { year, source: 'estimated from the statute (2025 revision)', holidays, workdays: [] };
}

/** The date (Beijing time) of the solar term 清明 in a Gregorian year. */
function qingming(year: number): string {
  // Lunar year `year` begins between 21 Jan and 20 Feb, so its table holds the 清明 of April of `year`.
  const solar = Lunar.fromYmd(year, 1, 1).getJieQiTable()['清明'];
  if (!solar || solar.getYear() !== year) throw new Error(`lunar-typescript: no 清明 for ${year} in the lunar year's table; has the library changed?`);
  return solarDate(solar);
}

/** `YYYY-MM-DD` with four year digits (the library's `toYmd` writes year 999 as `999`). */
function isoDate(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function solarDate(solar: { getYear(): number; getMonth(): number; getDay(): number }): string {
  return isoDate(solar.getYear(), solar.getMonth(), solar.getDay());
}
