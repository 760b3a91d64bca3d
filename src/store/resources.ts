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

/** The columns a snapshot reads for each current resource, in id order. */
export interface SnapshotRow {
  seq: number; id: string; name: string; name_en: string | null; type: string; lng: number; lat: number;
  district: string; stages: string; opening_hours: string | null; free: number | null;
}

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
      free INTEGER, booking_required INTEGER, tags TEXT NOT NULL, doc TEXT NOT NULL,
      action TEXT)`);
    this.insert = db.prepare(`INSERT OR IGNORE INTO ${this.table}
      (id, line, name, name_en, type, lng, lat, district, stages, opening_hours, free, booking_required, tags, doc)
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
          toFlag(r.free), toFlag(r.bookingRequired), JSON.stringify(r.tags), r.doc);
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
    // Classified inside the write transaction, so a concurrent writer cannot slip in between.
    return this.db.transaction(() => {
      const counts = this.classify();
      purgeRetired(this.db, now);
      if (counts.inserted + counts.updated > 0) {
        this.db.prepare(`UPDATE main.resources SET retired_at = ?
          WHERE retired_at IS NULL AND id IN (SELECT id FROM ${t} WHERE action = 'update')`).run(nowIso);
        this.db.prepare(`INSERT INTO main.resources
            (id, name, name_en, type, lng, lat, district, stages, opening_hours, free, booking_required, doc, updated_at)
          SELECT id, name, name_en, type, lng, lat, district, stages, opening_hours, free, booking_required, doc, ?
            FROM ${t} WHERE action IN ('insert', 'update') ORDER BY id`).run(nowIso);
        this.db.exec(`INSERT INTO main.resource_terms (resource, term)
          SELECT r.seq, j.value FROM ${t} s JOIN main.resources r ON r.id = s.id AND r.retired_at IS NULL,
                 json_each(s.tags) j
           WHERE s.action IN ('insert', 'update')`);
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

/** Deletes versions retired longer than the grace ago (their terms go by cascade). */
export function purgeRetired(db: Db, now: Date): number {
  const before = formatShanghai(new Date(now.getTime() - RETIRED_GRACE_MS));
  return db.prepare('DELETE FROM resources WHERE retired_at IS NOT NULL AND retired_at < ?').run(before).changes;
}

/** Read access to stored resources for snapshots and single-record answers. */
export class ResourceReader {
  private readonly current: Statement;
  private readonly terms: Statement;
  private readonly docBySeq: Statement;
  private readonly count: Statement;

  constructor(readonly db: Db) {
    this.current = db.prepare(`SELECT seq, id, name, name_en, type, lng, lat, district, stages, opening_hours, free
      FROM resources WHERE retired_at IS NULL ORDER BY id`);
    this.terms = db.prepare(`SELECT t.resource, t.term FROM resource_terms t
      JOIN resources r ON r.seq = t.resource WHERE r.retired_at IS NULL`).raw();
    this.docBySeq = db.prepare('SELECT doc, updated_at FROM resources WHERE seq = ?').raw();
    this.count = db.prepare('SELECT count(*) FROM resources WHERE retired_at IS NULL').pluck();
  }

  /** Every current resource, in id order. */
  rows(): IterableIterator<SnapshotRow> {
    return this.current.iterate() as IterableIterator<SnapshotRow>;
  }

  /** `[seq, term]` for every term of every current resource. */
  termRows(): IterableIterator<[number, string]> {
    return this.terms.iterate() as IterableIterator<[number, string]>;
  }

  /** The stored answer JSON of one version, with `updated_at` (and without location). */
  doc(seq: number): string | undefined {
    const row = this.docBySeq.get(seq) as [string, string] | undefined;
    return row && `${row[0].slice(0, -1)},"updated_at":"${row[1]}"}`;
  }

  /** Number of current resources. */
  size(): number {
    return this.count.get() as number;
  }
}
