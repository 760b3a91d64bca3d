import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openStore, type Database } from '../store/db.js';
import { parseYearFile } from '../calendar/year-file.js';
import type { YearData } from '../calendar/year.js';
import { dayNumber } from '../calendar/dates.js';
import { loadedYears, loadYear } from '../engine/calendar.js';
import { packageYears } from '../calendar/official.js';

const USAGE = `usage: npm run calendar -- import FILE.json [--json]
       npm run calendar -- list [--json]

China's public holidays and make-up working days (调休), in the database named by EDUMAP_DB (default
var/edumap.db). The years 2004–${packageYears().at(-1)!.year} come with the service (package chinese-days); when the State
Council announces the next year (each November), load it:

  { "year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [ { "name": "元旦", "from": "2027-01-01", "to": "2027-01-03" }, …, { "name": "端午节", "from": "2027-06-09" } ],
    "workdays": [ "2027-02-20", … ] }

A loaded year replaces whatever the service had for it (the package's data, the statute's estimate, or a
file loaded before). Running servers pick it up within a second (EDUMAP_POLL_MS), without a restart.
list: the years loaded, and covered_through (the last day of the last announced year without a gap).
Exit 0: done; 1: the file was refused (each problem printed as path: message); 2: usage error.`;

/** The calendar CLI. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (command === 'list' && rest.length === 0) return list(values.json!);
  if (command !== 'import' || rest.length !== 1) {
    const problem = command === 'import' ? 'give exactly one year file' : command === 'list' ? 'list takes no arguments' : command === undefined
      ? 'give a command: import or list' : `unknown command '${command}'`;
    console.error(`${problem}\n\n${USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(rest[0], 'utf8');
  } catch (e) {
    console.error(`cannot read '${rest[0]}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const checked = parseYearFile(text);
  if ('errors' in checked) {
    if (values.json) console.log(JSON.stringify({ loaded: false, errors: checked.errors }));
    else {
      console.error(`${rest[0]} was not loaded:`);
      for (const e of checked.errors) console.error(`${e.path || '(file)'}: ${e.message}`);
    }
    return 1;
  }
  return withDb(async (db) => {
    const { replaced, calendar } = await loadYear(db, checked.year, new Date());
    if (values.json) {
      console.log(JSON.stringify({ loaded: true, year: checked.year.year, replaced, covered_through: calendar.coveredThrough }));
    } else {
      const instead = replaced ? 'the file loaded before' : packageYears().some((y) => y.year === checked.year.year) ? "the package's data" : "the statute's estimate";
      console.log(`${checked.year.year} loaded (${checked.year.source}): ${summary(checked.year)}; it replaces ${instead}`);
      console.log(`covered through ${calendar.coveredThrough}; running servers pick it up within a second`);
    }
    return 0;
  });
}

async function list(json: boolean): Promise<number> {
  return withDb(async (db) => {
    const { years, calendar } = await loadedYears(db);
    if (json) {
      console.log(JSON.stringify({
        covered_through: calendar.coveredThrough,
        years: years.map(({ year, loadedAt }) => ({ year: year.year, source: year.source, loaded_at: loadedAt,
          holidays: year.holidays.length, days_off: daysOff(year), workdays: year.workdays.length })),
      }));
      return 0;
    }
    if (!years.length) console.log(`no year loaded: the package's years 2004–${packageYears().at(-1)!.year}, estimated after`);
    for (const { year, loadedAt } of years) console.log(`${year.year}  loaded ${loadedAt}  ${summary(year)}  (${year.source})`);
    console.log(`covered through ${calendar.coveredThrough}`);
    return 0;
  });
}

async function withDb(work: (db: Database) => Promise<number>): Promise<number> {
  const config = loadConfig(process.env, {}, { secrets: 'unused' });
  const db = await openStore(config.dbPath);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

function summary(year: YearData): string {
  return `${year.holidays.length} holidays, ${daysOff(year)} days off, ${year.workdays.length} make-up working days`;
}

function daysOff(year: YearData): number {
  return year.holidays.reduce((n, h) => n + dayNumber(h.to) - dayNumber(h.from) + 1, 0);
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (err) => {
  console.error(err);
  process.exitCode = 1;
});
