import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { bumpGeneration } from './db.js';
import { formatShanghai } from '../time.js';

/** A validated, normalised row ready to be stored (coordinates WGS-84). */
export interface StagedRow {
  line: number;
  id: string;
  name: string;
  nameEn: string | null;
  type: string;
  lng: number;
  lat: number;
  district: string;
  tags: string[];
  stages: string[];
  openingHours: string | null;
  free: boolean | null;
  bookingRequired: boolean | null;
  /** The answer's JSON without `location` and `updated_at`. */
  doc: string;
}

/** What applying a batch did (or, for a dry run, would do). */
export interface ApplyCounts { inserted: number; updated: number; unchanged: number }

/** How a snapshot encodes categorical fields as small integers. */
export interface ColumnCodes {
  /** Resource types in code order. */
  types: readonly string[];
  /** District adcodes in code order. */
  districts: readonly string[];
  /** Stage id → bit mask the stage sets (the snapshot decides which relatives it includes). */
  stageMasks: ReadonlyMap<string, number>;
  /** Taggable term ids in bit order: term k is bit k%32 of word k>>5. */
  terms: readonly string[];
  /** Domain-facet term id → the index of its 五育 root; the first such tag is a resource's primary domain. */
  domainRoots: ReadonlyMap<string, number>;
}

/**
 * Every current resource as parallel columns, in id order. Read column by column with `pluck().all()`:
 * in better-sqlite3 that costs a fraction of iterating rows, and categorical fields arrive as integers
 * computed in SQL, so building a snapshot of 1M resources creates almost no short-lived objects.
 */
export interface Columns {
  size: number;
  ids: string[];
  seqs: Float64Array;
  lng: Float64Array;
  lat: Float64Array;
  typeCode: Uint8Array;
  districtCode: Uint8Array;
  stageMask: Uint8Array;
  /** 1 free, 0 not, -1 unknown. */
  free: Int8Array;
  /** Index into `hoursText`, -1 for none. */
  hoursCode: Int32Array;
  hoursText: string[];
  /** Explicitly tagged term bits, `ceil(terms/32)` words per resource. */
  termBits: Uint32Array;
  /** Root index (see `ColumnCodes.domainRoots`) of each resource's first domain tag; 255 when none. */
  primaryDomain: Uint8Array;
}

/** Page cache of the final transaction of an import, in KiB. */
const APPLY_CACHE_KIB = 256 * 1024;

/** How long a replaced version stays readable for snapshots built before the change, in ms. */
export const RETIRED_GRACE_MS = 10 * 60 * 1000;

const toFlag = (b: boolean | null) => (b === null ? null : b ? 1 : 0);

let stagingCounter = 0;

/**
 * A per-import staging table in the connection's TEMP schema. Writing it takes no lock on the main
 * database, so a long streamed import never blocks bookings; `apply` then moves it in one transaction.
 */
export class Staging {
  readonly table = `temp.import_${process.pid}_${++stagingCounter}`;
  private readonly insert: Statement;
  private readonly lineOf: Statement;
  private pending: StagedRow[] = [];
  private onDuplicate: (row: StagedRow, firstLine: number) => void = () => {};

  constructor(private readonly db: Db, private readonly chunk = 2000) {
    db.exec(`CREATE TABLE ${this.table} (
      id TEXT PRIMARY KEY, line INTEGER NOT NULL, name TEXT NOT NULL, name_en TEXT, type TEXT NOT NULL,
      lng REAL NOT NULL, lat REAL NOT NULL, district TEXT NOT NULL, stages TEXT NOT NULL, opening_hours TEXT,
      free INTEGER, booking_required INTEGER, terms TEXT NOT NULL, doc TEXT NOT NULL,
      action TEXT)`);
    this.insert = db.prepare(`INSERT OR IGNORE INTO ${this.table}
      (id, line, name, name_en, type, lng, lat, district, stages, opening_hours, free, booking_required, terms, doc)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.lineOf = db.prepare(`SELECT line FROM ${this.table} WHERE id = ?`).pluck();
  }

  /** Called for a row whose id an earlier row of the same import already used. */
  duplicates(callback: (row: StagedRow, firstLine: number) => void): this {
    this.onDuplicate = callback;
    return this;
  }

  /** Queues a row; rows are written in chunks of `chunk`, each chunk one transaction on TEMP. */
  add(row: StagedRow): void {
    this.pending.push(row);
    if (this.pending.length >= this.chunk) this.flush();
  }

  /** Writes the queued rows. */
  flush(): void {
    const rows = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const r of rows) {
        const { changes } = this.insert.run(
          r.id, r.line, r.name, r.nameEn, r.type, r.lng, r.lat, r.district, r.stages.join('|'), r.openingHours,
          toFlag(r.free), toFlag(r.bookingRequired), r.tags.join('|'), r.doc);
        if (changes === 0) this.onDuplicate(r, this.lineOf.get(r.id) as number);
      }
    })();
  }

  /** Compares each staged row with the current version of its id. */
  classify(): ApplyCounts {
    this.flush();
    this.db.exec(`UPDATE ${this.table} AS s SET action = coalesce(
      (SELECT CASE WHEN r.doc = s.doc AND r.lng = s.lng AND r.lat = s.lat THEN 'same' ELSE 'update' END
         FROM main.resources r WHERE r.id = s.id AND r.retired_at IS NULL), 'insert')`);
    const counts = { inserted: 0, updated: 0, unchanged: 0 };
    const rows = this.db.prepare(`SELECT action, count(*) AS n FROM ${this.table} GROUP BY action`).all() as { action: string; n: number }[];
    for (const { action, n } of rows) {
      if (action === 'insert') counts.inserted = n;
      else if (action === 'update') counts.updated = n;
      else counts.unchanged = n;
    }
    return counts;
  }

  /**
   * Moves the staged rows into the store in one transaction: new ids inserted, changed ids get a new
   * version (the old one retired), unchanged ids untouched. Bumps the data generation when anything changed.
   * `beforeCommit` runs inside the transaction (a test hook for crash safety; also where a caller may add writes).
   */
  apply(now: Date, beforeCommit?: () => void): ApplyCounts {
    const t = this.table;
    const nowIso = formatShanghai(now);
    // A large batch touches every page of the table and its index: a bigger page cache for the transaction
    // (given back after) keeps SQLite from re-reading pages it evicted a moment ago.
    const cache = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = ${APPLY_CACHE_KIB > -cache ? -APPLY_CACHE_KIB : cache}`);
    try {
      return this.applyNow(now, nowIso, t, beforeCommit);
    } finally {
      this.db.pragma(`cache_size = ${cache}`);
      this.db.pragma('shrink_memory');
    }
  }

  private applyNow(now: Date, nowIso: string, t: string, beforeCommit?: () => void): ApplyCounts {
    // Classified inside the write transaction, so a concurrent writer cannot slip in between.
    return this.db.transaction(() => {
      const counts = this.classify();
      purgeRetired(this.db, now);
      if (counts.inserted + counts.updated > 0) {
        this.db.prepare(`UPDATE main.resources SET retired_at = ?
          WHERE retired_at IS NULL AND id IN (SELECT id FROM ${t} WHERE action = 'update')`).run(nowIso);
        this.db.prepare(`INSERT INTO main.resources
            (id, name, name_en, type, lng, lat, district, terms, stages, opening_hours, free, booking_required, doc, updated_at)
          SELECT id, name, name_en, type, lng, lat, district, terms, stages, opening_hours, free, booking_required, doc, ?
            FROM ${t} WHERE action IN ('insert', 'update') ORDER BY id`).run(nowIso);
        bumpGeneration(this.db);
      }
      beforeCommit?.();
      return counts;
    }).immediate();
  }

  /** Drops the staging table. */
  drop(): void {
    this.pending = [];
    this.db.exec(`DROP TABLE IF EXISTS ${this.table}`);
  }
}

/** A string as an SQL literal (for values from our own taxonomy and area list, never from requests). */
function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Deletes versions retired longer than the grace ago (their terms go by cascade). */
export function purgeRetired(db: Db, now: Date): number {
  const before = formatShanghai(new Date(now.getTime() - RETIRED_GRACE_MS));
  return db.prepare('DELETE FROM resources WHERE retired_at IS NOT NULL AND retired_at < ?').run(before).changes;
}

const CURRENT = 'FROM resources r WHERE r.retired_at IS NULL ORDER BY r.id';

/** A snapshot's rows are read as one string; V8 strings end at 2^29 characters, about 5M resources here. */
export const MAX_SNAPSHOT_ROWS = 5_000_000;

/** Read access to stored resources for snapshots and single-record answers. */
export class ResourceReader {
  private readonly docsBySeqs = new Map<number, Statement>();
  private readonly count: Statement;

  constructor(readonly db: Db) {
    this.count = db.prepare('SELECT count(*) FROM resources WHERE retired_at IS NULL').pluck();
  }

  /**
   * Reads every current resource as columns. Call inside a transaction so that all reads see one state.
   * SQLite joins all rows into one text (`seq,x,y,codes,terms,hours` per line) and JavaScript cuts it up:
   * in better-sqlite3 that is several times cheaper than fetching a million rows, and no object per row
   * outlives the build. Categorical fields arrive packed into one integer computed in SQL
   * (type | district << 8 | stages << 16 | (free + 1) << 24); coordinates as integers of 1e-7 degree,
   * which is exactly how they were rounded when stored.
   */
  columns(codes: ColumnCodes): Columns {
    const db = this.db;
    const size = this.size();
    if (size > MAX_SNAPSHOT_ROWS) throw new Error(`a snapshot holds at most ${MAX_SNAPSHOT_ROWS} resources; the store has ${size}`);
    const caseOf = (column: string, values: readonly string[]) =>
      `(CASE ${column} ${values.map((v, k) => `WHEN ${quote(v)} THEN ${k}`).join(' ')} ELSE 255 END)`;
    const stageExpr = [...codes.stageMasks].map(([stage, mask]) =>
      `(CASE WHEN instr('|' || r.stages || '|', ${quote(`|${stage}|`)}) > 0 THEN ${mask} ELSE 0 END)`).join(' | ') || '0';
    const line = `r.seq || ',' || CAST(round(r.lng * 10000000) AS INTEGER) || ',' || CAST(round(r.lat * 10000000) AS INTEGER)
      || ',' || (${caseOf('r.type', codes.types)} | (${caseOf('r.district', codes.districts)} << 8) | ((${stageExpr}) << 16)
                 | ((ifnull(r.free, -1) + 1) << 24))
      || ',' || r.terms || ',' || ifnull(r.opening_hours, '')`;
    const text = (db.prepare(`SELECT group_concat(line, char(10)) FROM (SELECT ${line} AS line ${CURRENT})`).pluck().get() as string | null) ?? '';
    const ids = db.prepare(`SELECT r.id ${CURRENT}`).pluck().all() as string[];
    if (ids.length !== size) throw new Error('resources changed during a snapshot read; read inside one transaction');

    const seqs = new Float64Array(size);
    const lng = new Float64Array(size);
    const lat = new Float64Array(size);
    const typeCode = new Uint8Array(size);
    const districtCode = new Uint8Array(size);
    const stageMask = new Uint8Array(size);
    const free = new Int8Array(size);
    const hoursCode = new Int32Array(size);
    const hoursText: string[] = [];
    const hoursIndex = new Map<string, number>();
    const bitOf = new Map(codes.terms.map((t, k) => [t, k]));
    const words = Math.max(1, Math.ceil(codes.terms.length / 32));
    const termBits = new Uint32Array(size * words);
    const primaryDomain = new Uint8Array(size).fill(255);

    let i = 0;
    for (let at = 0; at < text.length; i++) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      const a = text.indexOf(',', at);
      const b = text.indexOf(',', a + 1);
      const c = text.indexOf(',', b + 1);
      const d = text.indexOf(',', c + 1);
      const e = text.indexOf(',', d + 1);
      seqs[i] = Number(text.slice(at, a));
      lng[i] = Number(text.slice(a + 1, b)) / 1e7;
      lat[i] = Number(text.slice(b + 1, c)) / 1e7;
      const code = Number(text.slice(c + 1, d));
      typeCode[i] = code & 255;
      districtCode[i] = (code >>> 8) & 255;
      stageMask[i] = (code >>> 16) & 255;
      free[i] = (code >>> 24) - 1;
      for (let t = d + 1; t < e;) {
        let bar = text.indexOf('|', t);
        if (bar < 0 || bar > e) bar = e;
        const term = text.slice(t, bar);
        const k = bitOf.get(term);
        if (k !== undefined) termBits[i * words + (k >>> 5)] |= 1 << (k & 31);
        if (primaryDomain[i] === 255) primaryDomain[i] = codes.domainRoots.get(term) ?? 255;
        t = bar + 1;
      }
      if (e + 1 >= end) hoursCode[i] = -1;
      else {
        const hours = text.slice(e + 1, end);
        let k = hoursIndex.get(hours);
        if (k === undefined) hoursIndex.set(hours, (k = hoursText.push(hours) - 1));
        hoursCode[i] = k;
      }
      at = end + 1;
    }
    if (i !== size) throw new Error('resources changed during a snapshot read; read inside one transaction');
    return { size, ids, seqs, lng, lat, typeCode, districtCode, stageMask, free, hoursCode, hoursText, termBits, primaryDomain };
  }

  /**
   * `name` + U+0001 + `name_en` of exactly the versions `seqs` (in id order, as a snapshot lists them),
   * joined by U+000A: one string, not a million. Versions current at `since` or later are read (a version
   * replaced since then is still stored, for the retention grace) and matched by seq.
   */
  names(seqs: Float64Array, since: Date): string {
    let maxSeq = 0;
    for (const seq of seqs) if (seq > maxSeq) maxSeq = seq;
    const text = (this.db.prepare(`SELECT group_concat(line, char(10)) FROM (
        SELECT r.seq || char(1) || replace(r.name || char(1) || ifnull(r.name_en, ''), char(10), ' ') AS line
          FROM resources r WHERE r.seq <= ? AND (r.retired_at IS NULL OR r.retired_at >= ?) ORDER BY r.id, r.seq)`)
      .pluck().get(maxSeq, formatShanghai(new Date(since.getTime() - 1000))) as string | null) ?? '';
    const out: string[] = [];
    let i = 0;
    for (let at = 0; at < text.length && i < seqs.length;) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      const cut = text.indexOf('\u0001', at);
      if (Number(text.slice(at, cut)) === seqs[i]) {
        out.push(text.slice(cut + 1, end));
        i++;
      }
      at = end + 1;
    }
    if (i !== seqs.length) throw new Error(`the names of ${seqs.length - i} resources are gone: the snapshot outlived the retention grace`);
    return out.join('\n');
  }

  /**
   * The stored answer JSON of several versions, in the order asked: one statement for the lot, which costs
   * less than one lookup each (each better-sqlite3 call has a fixed price of a few µs).
   */
  docs(seqs: readonly number[]): (string | undefined)[] {
    if (seqs.length === 0) return [];
    let statement = this.docsBySeqs.get(seqs.length);
    if (!statement) {
      statement = this.db.prepare(`SELECT seq, doc, updated_at FROM resources WHERE seq IN (${seqs.map(() => '?').join(',')})`).raw();
      if (this.docsBySeqs.size < 128) this.docsBySeqs.set(seqs.length, statement);
    }
    const found = new Map<number, string>();
    for (const [seq, doc, updated] of statement.all(...seqs) as [number, string, string][]) {
      found.set(seq, `${doc.slice(0, -1)},"updated_at":"${updated}"}`);
    }
    return seqs.map((seq) => found.get(seq));
  }

  /** The stored answer JSON of one version, with `updated_at` (and without location). */
  doc(seq: number): string | undefined {
    return this.docs([seq])[0];
  }

  /** Number of current resources. */
  size(): number {
    return this.count.get() as number;
  }
}
