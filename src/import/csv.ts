import { Readable } from 'node:stream';
import Papa from 'papaparse';
import { closest } from 'fastest-levenshtein';
import { AppError, type FieldError } from '../errors.js';
import { bulkGap, type Database, type Tx } from '../store/sql.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { AreaIndex } from '../geo/areas.js';
import type { Crs } from '../geo/crs.js';
import { commandLine, type Principal } from '../access/keys.js';
import { resourceOutside } from '../access/scope.js';
import { COLUMNS, type Column, type Rejection, RowValidator } from './rows.js';
import { ImportBatch, type ApplyCounts, type FileRow, type PreparedChunk } from './batch.js';
import { Checkers } from './checkers.js';
import { decode, type Encoding } from './decode.js';

export type { Encoding } from './decode.js';

/** Options of one import, as the CLI flags and the HTTP query parameters name them. */
export interface ImportOptions {
  /** System of coordinates in rows without a `crs` column value (default wgs84). */
  crs?: Crs;
  encoding?: Encoding;
  /** Validate and count, write nothing. */
  dryRun?: boolean;
  /**
   * `upsert` (default): rows are inserted or updated by id. `sync`: also deletes the current resources in
   * the key's scope that the file does not list.
   */
  mode?: 'upsert' | 'sync';
  /** Who imports: scope and audit. Default: a command on the machine (an operator). */
  by?: Principal;
  /** All or nothing: one rejected row and nothing is applied. */
  strict?: boolean;
  /** Called as input is consumed, with the bytes read so far. */
  onProgress?: (bytes: number) => void;
  /** Called for every rejection, also those past `maxReported`. */
  onRejection?: (r: Rejection) => void;
  /** How many rejections the report lists (all are counted). Default 10,000. */
  maxReported?: number;
  /** Runs inside the publishing transaction just before it commits (a test hook for crash safety). */
  beforeCommit?: () => void;
  /** Threads that check rows of a large file (default: the cores but one, 1 to 4); 0 checks on the main thread. */
  threads?: number;
  /** Called after each chunk of rows is staged, with how many rows are staged so far. */
  afterChunk?: (staged: number) => void;
  /** Called when every row is staged, just before the publishing transaction (a test hook for crash safety). */
  beforePublish?: () => void;
  /** Runs inside the publishing transaction (the audit entry), with what the import did. */
  inside?: (t: Tx, summary: ApplyCounts & { rejected_rows: number; mode: 'upsert' | 'sync' }) => Promise<void>;
  now?: Date;
}

/** The outcome of an import, as the CLI prints it and `POST /v1/imports` answers it. */
export interface ImportReport {
  dry_run: boolean;
  strict: boolean;
  mode: 'upsert' | 'sync';
  /** True when the valid rows were written. */
  applied: boolean;
  encoding: 'utf8' | 'gb18030';
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Resources a sync deleted (or, for a dry run, would delete), and the first 10,000 of their ids. */
  deleted: number;
  deleted_ids: string[];
  rejected_rows: number;
  rejected: Rejection[];
  /** True when more rejections happened than `rejected` lists. */
  rejected_truncated: boolean;
  seconds: number;
  /** Of `seconds`, the time spent after the rows were staged: the sync's deletions and the publishing. */
  apply_seconds: number;
}

export interface ImportDeps { db: Database; tax: Taxonomy; areas: AreaIndex }

/** Rows staged per short transaction. */
const CHUNK = 2000;
/** Chunks checked on the main thread before checking threads start (a small file never waits for them). */
const THREADS_AFTER_CHUNKS = 2;
/** A header with more problems than this is not a resource file: list this many and stop. */
const MAX_HEADER_ERRORS = 20;
/** Longest value a rejection quotes back, in characters. */
const MAX_QUOTED = 200;

/** `text` cut to `max` characters, marked with an ellipsis when cut. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
/**
 * Imports a CSV of resources: streamed (memory stays flat whatever the size), decoded (UTF-8 with or
 * without BOM, or GB18030), each row merged with its stored version (a column the file lacks keeps its
 * value; an empty cell clears it) and validated, staged in short transactions as a batch nobody sees,
 * then published in one short transaction — all of it or nothing. A file-level defect (unknown column,
 * undecodable bytes) throws AppError('invalid_csv') and writes nothing.
 */
export async function importCsv(input: AsyncIterable<Buffer | string>, deps: ImportDeps, options: ImportOptions = {}): Promise<ImportReport> {
  const started = performance.now();
  const now = options.now ?? new Date();
  const maxReported = options.maxReported ?? 10_000;
  const report: ImportReport = {
    dry_run: Boolean(options.dryRun), strict: Boolean(options.strict), applied: false, encoding: 'utf8',
    mode: 'upsert', rows: 0, inserted: 0, updated: 0, unchanged: 0, deleted: 0, deleted_ids: [], rejected_rows: 0, rejected: [],
    rejected_truncated: false, seconds: 0, apply_seconds: 0,
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

  const by = options.by ?? commandLine('import');
  const mode = options.mode ?? 'upsert';
  report.mode = mode;
  if (by.role === 'venue') throw new AppError('out_of_scope', 'a venue key cannot import resources; ask the district bureau or an operator');
  const outside = (district: string) => resourceOutside(by, district);
  const validator = new RowValidator({ tax: deps.tax, areas: deps.areas, crs: options.crs ?? 'wgs84', outside });
  let batch: ImportBatch | undefined;
  let published = false;
  let checkers: Checkers | undefined;
  let chunks = 0;
  const threads = options.threads ?? Checkers.threads();
  try {
    const text = Readable.from(decode(input, options.encoding ?? 'auto', (enc) => (report.encoding = enc), options.onProgress));
    let header: Column[] | undefined;
    let nextLine = 1;
    let chunk: FileRow[] = [];
    let staged = 0;
    // Chunks are checked ahead, in threads once the file proves large, and written in file order: the
    // main thread parses and writes while the threads validate.
    const ahead: Promise<PreparedChunk>[] = [];
    const writeNext = async () => {
      const prepared = await ahead.shift()!;
      await batch!.write(prepared, rejectRow);
      staged += prepared.checked.length;
      options.afterChunk?.(staged);
      await bulkGap(deps.db); // requests waiting meanwhile (here or in another process) go before the next chunk
    };
    const stage = async (rows: FileRow[]) => {
      batch ??= await ImportBatch.open(deps.db, { kind: mode === 'sync' ? 'sync' : 'import', keyId: by.keyId, dryRun: Boolean(options.dryRun), now, outside });
      chunks++;
      if (!checkers && threads > 0 && chunks > THREADS_AFTER_CHUNKS) checkers = new Checkers({ tax: deps.tax, areas: deps.areas, crs: options.crs ?? 'wgs84', by }, threads);
      const prepared = batch.prepare(rows, validator, checkers);
      prepared.catch(() => undefined); // awaited in turn by writeNext; a failure is thrown there
      ahead.push(prepared);
      while (ahead.length > (checkers ? threads + 1 : 0)) await writeNext();
    };
    await new Promise<void>((resolve, reject) => {
      let failure: unknown;
      let flushing: Promise<void> = Promise.resolve();
      Papa.parse<string[]>(text, {
        delimiter: ',', // never guessed: a few rows with `|`-joined tags looked like a `|`-separated file
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
            const cells: FileRow['cells'] = {};
            for (let i = 0; i < header.length; i++) cells[header[i]] = fields[i].trim();
            chunk.push({ line, cells });
            if (chunk.length >= CHUNK) {
              // A chunk is full: stage it before reading on.
              const rows = chunk;
              chunk = [];
              parser.pause();
              flushing = stage(rows).then(() => parser.resume(), (e: unknown) => {
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
    if (chunk.length || !batch) await stage(chunk);
    while (ahead.length) await writeNext();

    const applyStarted = performance.now();
    if (mode === 'sync') await batch!.deleteUnlisted(by.role === 'district' ? [...by.districts] : null);
    // Rejections are found in stream order, except duplicates, found as rows are staged: list by line.
    report.rejected.sort((a, b) => a.line - b.line);
    Object.assign(report, batch!.counts, { deleted_ids: batch!.deletedIds });
    const mayApply = !options.dryRun && !(options.strict && report.rejected_rows > 0);
    const { inserted, updated, deleted } = batch!.counts;
    // A batch that changes nothing is not published: no new generation, no rebuild, no audit entry.
    if (mayApply && inserted + updated + deleted > 0) {
      options.beforePublish?.();
      await batch!.publish(async (t) => {
        await options.inside?.(t, { ...batch!.counts, rejected_rows: report.rejected_rows, mode });
        options.beforeCommit?.();
      });
      published = true;
    }
    report.applied = mayApply;
    report.apply_seconds = (performance.now() - applyStarted) / 1000;
    return report;
  } finally {
    await checkers?.close();
    if (batch && !published) await batch.abort();
    report.seconds = (performance.now() - started) / 1000;
  }
}

function countNewlines(fields: string[]): number {
  let n = 0;
  for (const f of fields) for (let at = f.indexOf('\n'); at >= 0; at = f.indexOf('\n', at + 1)) n++;
  return n;
}

/**
 * Validates the header row: every column known (a misspelt `lat` must not be dropped), `id` present, and
 * `lng`/`lat` both or neither (a row of a new resource then needs the columns a resource needs).
 */
function checkHeader(record: string[]): Column[] {
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
  if (!header.includes('id')) errors.push({ path: 'header', message: "required column 'id' is missing" });
  if (header.includes('lng') !== header.includes('lat')) {
    errors.push({ path: 'header', message: `column '${header.includes('lng') ? 'lat' : 'lng'}' is missing: lng and lat come together` });
  }
  if (errors.length) throw new AppError('invalid_csv', errors.map((e) => e.message).join('; '), { errors });
  return header as Column[];
}
