import { Calendar } from '../calendar/calendar.js';
import { packageYears } from '../calendar/official.js';
import { toYearFile, validateYearFile } from '../calendar/year-file.js';
import type { YearData } from '../calendar/year.js';
import { CalendarStore, type CalendarYearRow } from '../store/calendar.js';
import { bumpStructure } from '../store/db.js';
import type { Database, Sql } from '../store/sql.js';

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

/** A year stored by `loadYear`, as `npm run calendar -- list` shows it. */
export interface LoadedYear {
  year: YearData;
  loadedAt: string;
}

/** The years operators loaded, decoded, with the calendar in service they make. */
export async function loadedYears(db: Sql): Promise<{ years: LoadedYear[]; calendar: Calendar }> {
  const rows = await new CalendarStore(db).list();
  return { years: rows.map((r) => ({ year: storedYear(r), loadedAt: r.loaded_at })), calendar: serviceCalendar(rows) };
}

/**
 * Stores a checked year (from `validateYearFile`) as one write batch: the row and a new data generation
 * in one transaction, so every server process swaps it in with its next snapshot. Returns whether it
 * replaced a year loaded before, and the calendar in service from then on.
 */
export async function loadYear(db: Database, year: YearData, loadedAt: Date): Promise<{ replaced: boolean; calendar: Calendar }> {
  const store = new CalendarStore(db);
  const replaced = await db.tx(async (t) => {
    const before = await store.save(t, year.year, JSON.stringify(toYearFile(year)), loadedAt.toISOString());
    await bumpStructure(t);
    return before;
  });
  return { replaced, calendar: serviceCalendar(await store.list()) };
}
