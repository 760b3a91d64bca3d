import { Readable } from 'node:stream';
import Papa from 'papaparse';
import { closest } from 'fastest-levenshtein';
import { AppError, type FieldError } from '../errors.js';
import type { Database, Tx } from '../store/sql.js';
import { Staging, type ApplyCounts } from '../store/resource-staging.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { AreaIndex } from '../geo/areas.js';
import type { Crs } from '../geo/crs.js';
import { COLUMNS, type Rejection, RowValidator } from './rows.js';

export type Encoding = 'auto' | 'utf8' | 'gb18030';

/** Options of one import, as the CLI flags and the HTTP query parameters name them. */
export interface ImportOptions {
  /** System of coordinates in rows without a `crs` column value (default wgs84). */
  crs?: Crs;
  encoding?: Encoding;
  /** Validate and count, write nothing. */
  dryRun?: boolean;
  /** All or nothing: one rejected row and nothing is applied. */
  strict?: boolean;
  /** Called as input is consumed, with the bytes read so far. */
  onProgress?: (bytes: number) => void;
  /** Called for every rejection, also those past `maxReported`. */
  onRejection?: (r: Rejection) => void;
  /** How many rejections the report lists (all are counted). Default 10,000. */
  maxReported?: number;
  /** Runs inside the write transaction just before it commits. */
  beforeCommit?: () => void;
  /** Called after each chunk of valid rows is staged, with how many are staged so far. */
  afterChunk?: (staged: number) => void;
  /** Why a resource in a district is outside the importing key's scope (null: inside): such rows are rejected. */
  outside?: (district: string) => string | null;
  /** Runs inside the transaction that applies the rows (the audit entry), with what the import did. */
  inside?: (t: Tx, summary: ApplyCounts & { rejected_rows: number }) => Promise<void>;
  now?: Date;
}

/** The outcome of an import, as the CLI prints it and `POST /v1/imports` answers it. */
export interface ImportReport {
  dry_run: boolean;
  strict: boolean;
  /** True when the valid rows were written. */
  applied: boolean;
  encoding: 'utf8' | 'gb18030';
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected_rows: number;
  rejected: Rejection[];
  /** True when more rejections happened than `rejected` lists. */
  rejected_truncated: boolean;
  seconds: number;
  /** Of `seconds`, the time spent in the final transaction (or, for a dry run, the comparison). */
  apply_seconds: number;
}

export interface ImportDeps { db: Database; tax: Taxonomy; areas: AreaIndex }

const REQUIRED_COLUMNS = ['id', 'name', 'type', 'lng', 'lat', 'tags'];
/** A header with more problems than this is not a resource file: list this many and stop. */
const MAX_HEADER_ERRORS = 20;
/** Longest value a rejection quotes back, in characters. */
const MAX_QUOTED = 200;

/** `text` cut to `max` characters, marked with an ellipsis when cut. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
const SAMPLE_BYTES = 64 * 1024;

/**
 * Imports a CSV of resources: streamed (memory stays flat whatever the size), decoded (UTF-8 with or
 * without BOM, or GB18030), validated row by row, staged in a TEMP table, then applied in one transaction.
 * A file-level defect (unknown column, undecodable bytes) throws AppError('invalid_csv') and writes nothing.
 */
export async function importCsv(input: AsyncIterable<Buffer | string>, deps: ImportDeps, options: ImportOptions = {}): Promise<ImportReport> {
  const started = performance.now();
  const now = options.now ?? new Date();
  const maxReported = options.maxReported ?? 10_000;
  const report: ImportReport = {
    dry_run: Boolean(options.dryRun), strict: Boolean(options.strict), applied: false, encoding: 'utf8',
    rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected_rows: 0, rejected: [], rejected_truncated: false, seconds: 0, apply_seconds: 0,
  };
  let lastRejectedLine = -1;
  const rejectRow = (rejection: Rejection) => {
    // A report quotes what was wrong, not a whole 10 MB field.
    const r = rejection.value.length > MAX_QUOTED ? { ...rejection, value: clip(rejection.value, MAX_QUOTED) } : rejection;
    options.onRejection?.(r);
    if (r.line !== lastRejectedLine) report.rejected_rows++;
    lastRejectedLine = r.line;
    if (report.rejected.length < maxReported) report.rejected.push(r);
    else report.rejected_truncated = true;
  };

  const validator = new RowValidator({ tax: deps.tax, areas: deps.areas, crs: options.crs ?? 'wgs84', outside: options.outside });
  const staging = new Staging(deps.db).duplicates((row, firstLine) =>
    rejectRow({ line: row.line, column: 'id', value: row.id, reason: `duplicate id; line ${firstLine} already has it` }));
  try {
    const text = Readable.from(decode(input, options.encoding ?? 'auto', (enc) => (report.encoding = enc), options.onProgress));
    let header: string[] | undefined;
    let nextLine = 1;
    await new Promise<void>((resolve, reject) => {
      let failure: unknown;
      let flushing: Promise<void> = Promise.resolve();
      let staged = 0;
      Papa.parse<string[]>(text, {
        skipEmptyLines: false,
        step: (result, parser) => {
          // Track true line numbers: a record starts on the line after the previous one ended.
          const fields = result.data;
          const line = nextLine;
          nextLine += 1 + countNewlines(fields);
          try {
            if (fields.length === 1 && fields[0].trim() === '') return; // an empty line
            if (!header) {
              header = checkHeader(fields);
              return;
            }
            report.rows++;
            if (result.errors.length) {
              rejectRow({ line, column: 'row', value: '', reason: `not valid CSV: ${result.errors[0].message}` });
              return;
            }
            if (fields.length !== header.length) {
              rejectRow({ line, column: 'row', value: '', reason: `has ${fields.length} fields; the header has ${header.length}` });
              return;
            }
            const row: Record<string, string> = {};
            for (let i = 0; i < header.length; i++) row[header[i]] = fields[i].trim();
            const checked = validator.check(row, line);
            if ('rejections' in checked) checked.rejections.forEach(rejectRow);
            else if (staging.add(checked.row)) {
              // A chunk is full: write it before reading on.
              parser.pause();
              staged += staging.chunk;
              flushing = staging.flush().then(() => {
                options.afterChunk?.(staged);
                parser.resume();
              }, (e: unknown) => {
                failure = e;
                parser.abort();
              });
            }
          } catch (e) {
            failure = e;
            parser.abort();
          }
        },
        complete: () => void flushing.then(() => (failure ? reject(failure) : resolve())),
        error: (e: Error) => reject(failure ?? e),
      });
    });
    if (!header) throw new AppError('invalid_csv', 'the file is empty: a header row is required', { errors: [{ path: 'header', message: 'is missing' }] });

    // Rejections are found in stream order, except duplicates, found as rows are staged: list by line.
    report.rejected.sort((a, b) => a.line - b.line);
    const mayApply = !options.dryRun && !(options.strict && report.rejected_rows > 0);
    const applyStarted = performance.now();
    const inside = options.inside && ((t: Tx, counts: ApplyCounts) => options.inside!(t, { ...counts, rejected_rows: report.rejected_rows }));
    const counts = mayApply ? await staging.apply(now, options.beforeCommit, inside) : await staging.classify();
    Object.assign(report, counts, { applied: mayApply, apply_seconds: (performance.now() - applyStarted) / 1000 });
    return report;
  } finally {
    await staging.drop();
    report.seconds = (performance.now() - started) / 1000;
  }
}

function countNewlines(fields: string[]): number {
  let n = 0;
  for (const f of fields) for (let at = f.indexOf('\n'); at >= 0; at = f.indexOf('\n', at + 1)) n++;
  return n;
}

/** Validates the header row: every column known (a misspelt `lat` must not be dropped), required ones present. */
function checkHeader(record: string[]): string[] {
  const header = record.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim().toLowerCase());
  const errors: FieldError[] = [];
  const known = COLUMNS as readonly string[];
  // A misspelling most likely stands for a column the header lacks.
  const absent = known.filter((c) => !header.includes(c));
  header.forEach((name, i) => {
    if (errors.length >= MAX_HEADER_ERRORS) return;
    if (!known.includes(name)) {
      const cell = clip(name, 64);
      const guess = closest(cell, absent.length ? absent : [...known]);
      errors.push({ path: `header[${i}]`, message: `unknown column '${clip(record[i], 64)}'; did you mean '${guess}'?` });
    } else if (header.indexOf(name) !== i) {
      errors.push({ path: `header[${i}]`, message: `column '${name}' appears twice` });
    }
  });
  for (const name of REQUIRED_COLUMNS) {
    if (!header.includes(name)) errors.push({ path: 'header', message: `required column '${name}' is missing` });
  }
  if (errors.length) throw new AppError('invalid_csv', errors.map((e) => e.message).join('; '), { errors });
  return header;
}

/**
 * Decodes a byte stream to text. `auto` looks at the first 64 KiB: a UTF-8 BOM or valid UTF-8 means UTF-8,
 * anything else GB18030 (what Excel on a Chinese Windows writes as "CSV"). Decoding is fatal: a byte
 * sequence invalid in the chosen encoding rejects the file rather than importing mojibake.
 */
async function* decode(
  input: AsyncIterable<Buffer | string>, encoding: Encoding, chosen: (e: 'utf8' | 'gb18030') => void,
  onProgress?: (bytes: number) => void,
): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  let head: Buffer[] = [];
  let headBytes = 0;
  let bytes = 0;
  const start = (sample: Buffer) => {
    const name = encoding === 'auto' ? sniff(sample) : encoding;
    chosen(name);
    decoder = new TextDecoder(name === 'utf8' ? 'utf-8' : 'gb18030', { fatal: true });
  };
  const run = (chunk: Buffer, final: boolean) => {
    try {
      return decoder!.decode(chunk, { stream: !final });
    } catch (e) {
      throw new AppError('invalid_csv', `the file is not valid ${decoder!.encoding} (within bytes ${bytes - chunk.length}–${bytes}); choose encoding=utf8 or gb18030`,
        { errors: [{ path: 'encoding', message: `bytes are not valid ${decoder!.encoding}` }], cause: e });
    }
  };
  for await (const part of input) {
    const chunk = typeof part === 'string' ? Buffer.from(part) : part;
    bytes += chunk.length;
    onProgress?.(bytes);
    if (!decoder) {
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes < SAMPLE_BYTES) continue;
      const sample = Buffer.concat(head);
      head = [];
      start(sample);
      yield run(sample, false);
      continue;
    }
    yield run(chunk, false);
  }
  if (!decoder) {
    const sample = Buffer.concat(head);
    start(sample);
    yield run(sample, true);
  } else {
    yield run(Buffer.alloc(0), true);
  }
}

/** UTF-8 when the sample has a UTF-8 BOM or decodes as UTF-8 (a cut trailing character allowed); else GB18030. */
export function sniff(sample: Buffer): 'utf8' | 'gb18030' {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf8';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return 'utf8';
  } catch {
    return 'gb18030';
  }
}
