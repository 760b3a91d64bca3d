import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FieldError } from '../errors.js';
import { DATE_MESSAGE, fieldErrorsOf } from '../validation.js';
import { dayNumber, weekday } from './dates.js';
import type { HolidayRange, YearData } from './year.js';

// ajv-formats is CommonJS; its default export is the plugin function at run time.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** Longest holiday a file may give, in days: anything longer is a typo in a date (the longest yet: 10, 2020). */
export const MAX_HOLIDAY_DAYS = 31;

const DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', format: 'date' } as const;

/**
 * JSON Schema (2020-12) of the file an operator loads when the State Council announces a year, e.g.
 * `{ "year": 2027, "source": "国办发明电〔2026〕…号", "holidays": [{ "name": "元旦", "from": "2027-01-01",
 * "to": "2027-01-03" }, …], "workdays": ["2027-02-07", …] }`. `to` may be left out for a one-day holiday.
 */
export const YEAR_FILE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://edumap.dev/schemas/calendar-year.json',
  title: "One year of China's public holidays and make-up working days, as the State Council announced them",
  type: 'object',
  additionalProperties: false,
  required: ['year', 'source', 'holidays', 'workdays'],
  properties: {
    year: { type: 'integer', minimum: 2000, maximum: 2100, description: 'The year the notice arranges.' },
    source: { type: 'string', minLength: 1, maxLength: 300, pattern: '\\S', description: 'The notice: its title or number, or its URL.' },
    holidays: {
      type: 'array',
      minItems: 1,
      maxItems: 30,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'from'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 40, pattern: '\\S', description: 'As the notice writes it: 春节, 中秋节、国庆节.' },
          from: { ...DATE, description: 'First day off.' },
          to: { ...DATE, description: 'Last day off, included; default `from`.' },
        },
      },
    },
    workdays: {
      type: 'array',
      maxItems: 30,
      uniqueItems: true,
      items: { ...DATE, description: 'A Saturday or Sunday worked instead (调休上班).' },
      description: 'Make-up working days; [] when the notice has none.',
    },
  },
} as const;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateShape = ajv.compile(YEAR_FILE_SCHEMA);

/** The shape the schema admits. */
interface YearFile {
  year: number;
  source: string;
  holidays: { name: string; from: string; to?: string }[];
  workdays: string[];
}

/**
 * Validates a parsed year file: its shape by `YEAR_FILE_SCHEMA`, then what a schema cannot say (dates in
 * that year, ranges in order and apart, make-up days on weekends and outside the holidays). Returns the
 * year, normalised (sorted, every `to` filled in), or every problem as `{ path, message }` with paths such
 * as `holidays[1].to`. Pure: reads nothing, changes nothing.
 */
export function validateYearFile(doc: unknown): { year: YearData } | { errors: FieldError[] } {
  if (!validateShape(doc)) return { errors: fieldErrorsOf(validateShape.errors ?? [], '', patternMessage) };
  const file = doc as unknown as YearFile;
  const errors: FieldError[] = [];
  const inYear = (date: string, path: string) => {
    if (date.slice(0, 4) === String(file.year) || date.startsWith(`${file.year - 1}-12-`)) return true;
    errors.push({ path, message: `must be in ${file.year} (or in December ${file.year - 1}, for a holiday that begins before New Year)` });
    return false;
  };

  const holidays: (HolidayRange & { at: number })[] = [];
  file.holidays.forEach((h, i) => {
    const to = h.to ?? h.from;
    const fromOk = inYear(h.from, `holidays[${i}].from`);
    const toOk = h.to === undefined || inYear(h.to, `holidays[${i}].to`);
    if (!fromOk || !toOk) return;
    const days = dayNumber(to) - dayNumber(h.from) + 1;
    if (days < 1) errors.push({ path: `holidays[${i}].to`, message: `must not be before from (${h.from})` });
    else if (days > MAX_HOLIDAY_DAYS) errors.push({ path: `holidays[${i}].to`, message: `makes a holiday of ${days} days; at most ${MAX_HOLIDAY_DAYS}` });
    else holidays.push({ name: h.name.trim(), from: h.from, to, at: i });
  });
  holidays.sort((a, b) => (a.from < b.from ? -1 : 1));
  for (let k = 1; k < holidays.length; k++) {
    const [a, b] = [holidays[k - 1], holidays[k]];
    if (b.from <= a.to) {
      const [first, second] = a.at < b.at ? [a, b] : [b, a];
      errors.push({ path: `holidays[${second.at}]`, message: `overlaps holidays[${first.at}] (${first.name} ${first.from}–${first.to}); list each day once` });
    }
  }

  file.workdays.forEach((date, k) => {
    if (!inYear(date, `workdays[${k}]`)) return;
    const day = weekday(date);
    if (day !== 0 && day !== 6) {
      errors.push({ path: `workdays[${k}]`, message: `is a ${WEEKDAY_NAMES[day]}; a make-up working day (调休上班) is a Saturday or Sunday` });
    }
    const inside = holidays.find((h) => h.from <= date && date <= h.to);
    if (inside) errors.push({ path: `workdays[${k}]`, message: `is inside holidays[${inside.at}] (${inside.name}); a day is either off or worked` });
  });

  if (errors.length) return { errors };
  return {
    year: {
      year: file.year,
      source: file.source.trim(),
      holidays: holidays.map(({ name, from, to }) => ({ name, from, to })),
      workdays: [...file.workdays].sort(),
    },
  };
}

/** `validateYearFile` of a file's text; text that is not JSON is one error at the root (path `''`). */
export function parseYearFile(text: string): { year: YearData } | { errors: FieldError[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { errors: [{ path: '', message: `is not JSON: ${(e as Error).message}` }] };
  }
  return validateYearFile(doc);
}

/** A year as a file `validateYearFile` accepts (to store it, or to print it for an operator to edit). */
export function toYearFile(year: YearData): YearFile {
  return {
    year: year.year,
    source: year.source,
    holidays: year.holidays.map((h) => (h.from === h.to ? { name: h.name, from: h.from } : { ...h })),
    workdays: [...year.workdays],
  };
}

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A date that misses its pattern is asked for as a date; any other pattern here is `\S`, "not blank". */
function patternMessage(e: { keyword: string }, path: string): string | undefined {
  if (e.keyword !== 'pattern') return undefined;
  return /(^|\.)(from|to)$|^workdays\[\d+\]$/.test(path) ? DATE_MESSAGE : 'must not be blank';
}
