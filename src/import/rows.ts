import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import { resolveTerm, TAG_FACETS, termsOfFacet, UnknownTermError } from '../taxonomy/taxonomy.js';
import type { AreaIndex } from '../geo/areas.js';
import { type Crs, isCrs, roundCoord, toWgs84 } from '../geo/crs.js';
import { parseHoursWithCalendar } from '../calendar/hours.js';
import { packageCalendar } from '../calendar/official.js';
import type { Calendar } from '../calendar/calendar.js';
import type { StagedRow } from '../store/resource-versions.js';

/** The CSV columns, in the order `npm run gen` and the bundled data write them. */
export const COLUMNS = [
  'id', 'name', 'name_en', 'type', 'lng', 'lat', 'crs', 'district', 'address', 'tags', 'stages',
  'opening_hours', 'free', 'booking_required', 'phone', 'url', 'source', 'coord_precision_m', 'notes',
] as const;
export type Column = (typeof COLUMNS)[number];

/** One problem with one row: 1-based line of the file, the column, the offending value, why. */
export interface Rejection { line: number; column: string; value: string; reason: string }

/**
 * Control characters a text cell may not hold (all but TAB): a bare CR or an escape in a name would pass
 * into every answer, log and calendar file that shows it.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true, false: false, '1': true, '0': false, yes: true, no: false, y: true, n: false,
  '是': true, '否': false, '有': true, '无': false,
};

/** Builds the JSON Schema of a CSV row (every value a string, as parsed). */
export function rowSchema(tax: Taxonomy): object {
  const decimal = '^[-+]?(\\d+\\.?\\d*|\\.\\d+)$';
  return {
    type: 'object',
    required: ['id', 'name', 'type', 'lng', 'lat', 'tags'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
      name: { type: 'string', minLength: 1, maxLength: 200 },
      name_en: { type: 'string', maxLength: 200 },
      type: { type: 'string', enum: termsOfFacet(tax, 'type') },
      lng: { type: 'string', pattern: decimal },
      lat: { type: 'string', pattern: decimal },
      crs: { type: 'string', enum: ['', 'wgs84', 'gcj02', 'bd09', 'WGS84', 'GCJ02', 'BD09'] },
      district: { type: 'string', maxLength: 40 },
      address: { type: 'string', maxLength: 300 },
      tags: { type: 'string', minLength: 1, maxLength: 1000 },
      stages: { type: 'string', maxLength: 200 },
      opening_hours: { type: 'string', maxLength: 500 },
      free: { type: 'string', enum: ['', ...Object.keys(BOOLEAN_WORDS), 'TRUE', 'FALSE', 'True', 'False'] },
      booking_required: { type: 'string', enum: ['', ...Object.keys(BOOLEAN_WORDS), 'TRUE', 'FALSE', 'True', 'False'] },
      phone: { type: 'string', pattern: '^[0-9+()\\- ]{0,40}$' },
      url: { type: 'string', maxLength: 500, pattern: '^(https?://[^\\s]+)?$' },
      source: { type: 'string', maxLength: 500 },
      coord_precision_m: { type: 'string', pattern: '^(\\d{1,6})?$' },
      notes: { type: 'string', maxLength: 2000 },
    },
  };
}

const MESSAGES: Record<string, (e: ErrorObject) => string> = {
  required: () => 'is required',
  minLength: () => 'is required',
  enum: (e) => `must be one of ${(e.params.allowedValues as string[]).filter(Boolean).slice(0, 16).join(', ')}`,
  pattern: (e) => (e.instancePath === '/lng' || e.instancePath === '/lat' ? 'is not a decimal number' : `has an invalid format`),
  maxLength: (e) => `is longer than ${e.params.limit} characters`,
};

/** Everything a row needs to be checked against. */
export interface RowContext {
  tax: Taxonomy;
  areas: AreaIndex;
  /** The system of `lng`/`lat` when a row has no `crs` of its own. */
  crs: Crs;
  /** Why a resource in this district is outside the importing key's scope (null: inside); none: all inside. */
  outside?: (district: string) => string | null;
}

/** The compiled row schema per taxonomy: compiling costs tens of ms, and every import and edit needs one. */
const compiled = new WeakMap<Taxonomy, ValidateFunction>();
function rowValidatorOf(tax: Taxonomy): ValidateFunction {
  let validate = compiled.get(tax);
  if (!validate) compiled.set(tax, (validate = new Ajv({ allErrors: true }).compile(rowSchema(tax))));
  return validate;
}

/**
 * Validates and normalises CSV rows: shape by JSON Schema (ajv), then the rules a schema cannot state —
 * the point lies in Beijing, a stated district agrees with it, terms are known, opening_hours parses.
 */
export class RowValidator {
  private readonly validate: ValidateFunction;
  /**
   * The calendar hours are parsed with. Whether they parse does not depend on it (a calendar says what `PH`
   * means, not whether `PH` may be written), so the package's serves every import.
   */
  private readonly calendar: Calendar = packageCalendar();
  /** District adcode, full name and short name (海淀) → adcode. */
  private readonly districtKeys = new Map<string, string>();

  constructor(private readonly ctx: RowContext) {
    this.validate = rowValidatorOf(ctx.tax);
    for (const area of ctx.areas.list('district')) {
      for (const key of [area.id, area.name, area.name.replace(/区$/, '')]) this.districtKeys.set(key, area.id);
    }
  }

  /** Checks one row (column name → trimmed value); returns the staged row or its rejections. */
  check(row: Record<string, string>, line: number): { row: StagedRow } | { rejections: Rejection[] } {
    const reject = (column: string, reason: string, value = row[column] ?? ''): Rejection => ({ line, column, value, reason });
    if (!this.validate(row)) {
      const seen = new Set<string>();
      const rejections: Rejection[] = [];
      for (const e of this.validate.errors!) {
        const column = e.keyword === 'required' ? (e.params.missingProperty as string) : e.instancePath.slice(1);
        if (seen.has(column)) continue;
        seen.add(column);
        rejections.push(reject(column, (MESSAGES[e.keyword] ?? ((x) => x.message ?? 'is invalid'))(e)));
      }
      return { rejections };
    }
    const rejections: Rejection[] = [];
    const { tax, areas } = this.ctx;
    for (const column of Object.keys(row)) {
      const bad = CONTROL.exec(row[column]);
      if (bad) {
        const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
        rejections.push(reject(column, `contains a control character (U+${code}); only tab is allowed in text`));
      }
    }
    if (rejections.length) return { rejections };

    const given: [number, number] = [Number(row.lng), Number(row.lat)];
    const crs = (row.crs || this.ctx.crs).toLowerCase();
    if (!isCrs(crs)) return { rejections: [reject('crs', 'must be one of wgs84, gcj02, bd09')] };
    if (Math.abs(given[0]) > 180) rejections.push(reject('lng', 'is not a longitude (-180 to 180)'));
    if (Math.abs(given[1]) > 90) rejections.push(reject('lat', 'is not a latitude (-90 to 90)'));
    let point: [number, number] = [0, 0];
    let district = undefined as ReturnType<AreaIndex['districtOf']>;
    if (!rejections.length) {
      const wgs = toWgs84(given, crs);
      point = [roundCoord(wgs[0]), roundCoord(wgs[1])];
      district = areas.districtOf(point);
      if (!district) {
        rejections.push(reject('lng,lat', `the point lies outside Beijing (${crs})`, `${row.lng},${row.lat}`));
      } else if (row.district) {
        const stated = this.districtKeys.get(row.district);
        if (!stated) rejections.push(reject('district', 'is not a Beijing district name or adcode'));
        else if (stated !== district.id) {
          rejections.push(reject('district', `disagrees with the point, which lies in ${district.name} (${district.id})`));
        }
      }
      const outside = district && this.ctx.outside?.(district.id);
      if (outside) rejections.push(reject('district', `out_of_scope: ${outside}`, district!.id));
    }

    const tags: string[] = [];
    for (const name of split(row.tags)) {
      try {
        const id = resolveTerm(tax, name, TAG_FACETS);
        if (!tags.includes(id)) tags.push(id);
      } catch (e) {
        if (!(e instanceof UnknownTermError)) throw e;
        rejections.push(reject('tags', e.message, name));
      }
    }
    if (tags.length && !tags.some((id) => tax.byId.get(id)!.facet === 'domain')) {
      rejections.push(reject('tags', 'needs at least one 五育 term (de, zhi, ti, mei, lao or one of their sub-terms)'));
    }
    const stages: string[] = [];
    for (const name of split(row.stages ?? '')) {
      try {
        const id = resolveTerm(tax, name, ['stage']);
        if (!stages.includes(id)) stages.push(id);
      } catch (e) {
        if (!(e instanceof UnknownTermError)) throw e;
        rejections.push(reject('stages', e.message, name));
      }
    }
    const hours = row.opening_hours || null;
    if (hours !== null) {
      const problem = this.hoursProblem(hours);
      if (problem) rejections.push(reject('opening_hours', `is not valid OSM opening_hours: ${problem}`));
    }
    if (rejections.length) return { rejections };

    const free = flag(row.free);
    const bookingRequired = flag(row.booking_required);
    const precision = row.coord_precision_m ? Number(row.coord_precision_m) : null;
    const record = {
      id: row.id,
      name: row.name,
      name_en: row.name_en || null,
      type: row.type,
      tags,
      stages,
      district: { code: district!.id, name: district!.name },
      address: row.address || null,
      opening_hours: hours,
      free,
      booking_required: bookingRequired,
      phone: row.phone || null,
      url: row.url || null,
      source: row.source || null,
      coord_precision_m: precision,
      notes: row.notes || null,
    };
    return {
      row: {
        line, id: row.id, name: row.name, nameEn: record.name_en, type: row.type, lng: point[0], lat: point[1],
        district: district!.id, tags, stages, openingHours: hours, free, bookingRequired,
        doc: JSON.stringify(record),
      },
    };
  }

  // Parsing opening_hours is slow (≈1 ms with the PH template); imports repeat the same few strings, so cache by text,
  // for every import of the process: the first chunks of an import are checked on the main thread.
  private hoursProblem(text: string): string | null {
    let problem = HOURS_PROBLEMS.get(text);
    if (problem === undefined) {
      const parsed = parseHoursWithCalendar(text, this.calendar);
      problem = 'error' in parsed ? parsed.error : null;
      if (HOURS_PROBLEMS.size < 10_000) HOURS_PROBLEMS.set(text, problem);
    }
    return problem;
  }
}

/** Why an opening_hours text does not parse (null: it does), by text; shared by every validator of the thread. */
const HOURS_PROBLEMS = new Map<string, string | null>();

function split(list: string): string[] {
  return list.split('|').map((s) => s.trim()).filter(Boolean);
}

function flag(text: string | undefined): boolean | null {
  if (!text) return null;
  return BOOLEAN_WORDS[text.toLowerCase()] ?? null;
}
