import { Calendar } from '../calendar/calendar.js';
import { packageYears } from '../calendar/official.js';
import { validateYearFile } from '../calendar/year-file.js';
import type { YearData } from '../calendar/year.js';
import type { CalendarYearRow } from '../store/calendar.js';

/**
 * The calendar in service: the years of the `chinese-days` package, each stored year (loaded by an
 * operator) in place of the package's data for that year, and the statute's estimate for the rest.
 */
export function serviceCalendar(rows: readonly CalendarYearRow[]): Calendar {
  return Calendar.fromYears([...packageYears(), ...rows.map(storedYear)]);
}

/**
 * A stored year file, checked again: it passed when it was loaded, so a failure means the rules have
 * changed since; the error names the year and what to do rather than serve a calendar it cannot vouch for.
 */
function storedYear(row: CalendarYearRow): YearData {
  let doc: unknown;
  try {
    doc = JSON.parse(row.file);
  } catch (e) {
    throw new Error(`calendar_years: the stored file of ${row.year} is not JSON; load it again with npm run calendar -- import FILE.json`, { cause: e });
  }
  const checked = validateYearFile(doc);
  if ('errors' in checked || checked.year.year !== row.year) {
    const why = 'errors' in checked ? checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ') : `it holds ${checked.year.year}`;
    throw new Error(`calendar_years: the stored file of ${row.year} fails the checks (${why}); load a corrected one with npm run calendar -- import FILE.json`);
  }
  return checked.year;
}
