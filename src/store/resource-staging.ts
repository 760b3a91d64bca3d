import type { Database, Tx } from './sql.js';
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

/** How long a replaced version stays readable for snapshots built before the change, in ms. */
export const RETIRED_GRACE_MS = 10 * 60 * 1000;

/** Page cache of the final transaction of an import, in KiB. */
const APPLY_CACHE_KIB = 256 * 1024;

const toFlag = (b: boolean | null) => (b === null ? null : b ? 1 : 0);

let stagingCounter = 0;

/**
 * A per-import staging table in the connection's TEMP schema. Writing it takes no lock on the main
 * database, so a long streamed import never blocks bookings; `apply` then moves it in one transaction.
 */
export class Staging {
  readonly table = `temp.import_${process.pid}_${++stagingCounter}`;
  private pending: StagedRow[] = [];
  private created = false;
  private onDuplicate: (row: StagedRow, firstLine: number) => void = () => {};

  constructor(private readonly db: Database, readonly chunk = 2000) {}

  /** Called for a row whose id an earlier row of the same import already used. */
  duplicates(callback: (row: StagedRow, firstLine: number) => void): this {
    this.onDuplicate = callback;
    return this;
  }

  /** Queues a row; true when enough are queued that the caller should `flush` before adding more. */
  add(row: StagedRow): boolean {
    this.pending.push(row);
    return this.pending.length >= this.chunk;
  }

  /** Writes the queued rows, one transaction on TEMP. */
  async flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    await this.db.tx(async (t) => {
      await this.create(t);
      for (const r of rows) {
        const { changes } = await t.run(`INSERT INTO ${this.table}
          (id, line, name, name_en, type, lng, lat, district, stages, opening_hours, free, booking_required, terms, doc)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, [
          r.id, r.line, r.name, r.nameEn, r.type, r.lng, r.lat, r.district, r.stages.join('|'), r.openingHours,
          toFlag(r.free), toFlag(r.bookingRequired), r.tags.join('|'), r.doc]);
        if (changes === 0) this.onDuplicate(r, (await t.value<number>(`SELECT line FROM ${this.table} WHERE id = ?`, [r.id]))!);
      }
    }, 'read');
  }

  /** Compares each staged row with the current version of its id (a dry run's answer). */
  async classify(): Promise<ApplyCounts> {
    await this.flush();
    return this.db.tx((t) => this.classifyIn(t), 'read');
  }

  /**
   * Moves the staged rows into the store in one transaction: new ids inserted, changed ids get a new
   * version (the old one retired), unchanged ids untouched. Bumps the data generation when anything changed.
   * `inside` runs inside the transaction with the counts (the audit entry); `beforeCommit` last (a test
   * hook for crash safety).
   */
  async apply(now: Date, beforeCommit?: () => void, inside?: (t: Tx, counts: ApplyCounts) => Promise<void>): Promise<ApplyCounts> {
    await this.flush();
    const nowIso = formatShanghai(now);
    const t = this.table;
    return this.db.tx(async (tx) => {
      // A large batch touches every page of the table and its index: a bigger page cache for the
      // transaction (given back after) keeps SQLite from re-reading pages it evicted a moment ago.
      const cache = Number(await tx.value('PRAGMA cache_size'));
      await tx.exec(`PRAGMA cache_size = ${Math.min(cache, -APPLY_CACHE_KIB)}`);
      try {
        const counts = await this.classifyIn(tx);
        await purgeRetired(tx, now);
        if (counts.inserted + counts.updated > 0) {
          await tx.run(`UPDATE main.resources SET retired_at = ?
            WHERE retired_at IS NULL AND id IN (SELECT id FROM ${t} WHERE action = 'update')`, [nowIso]);
          await tx.run(`INSERT INTO main.resources
              (id, name, name_en, type, lng, lat, district, terms, stages, opening_hours, free, booking_required, doc, updated_at)
            SELECT id, name, name_en, type, lng, lat, district, terms, stages, opening_hours, free, booking_required, doc, ?
              FROM ${t} WHERE action IN ('insert', 'update') ORDER BY id`, [nowIso]);
          await bumpGeneration(tx);
        }
        await inside?.(tx, counts);
        beforeCommit?.();
        return counts;
      } finally {
        await tx.exec(`PRAGMA cache_size = ${cache}`);
      }
    });
  }

  /** Drops the staging table. */
  async drop(): Promise<void> {
    this.pending = [];
    if (this.created) await this.db.tx((t) => t.exec(`DROP TABLE IF EXISTS ${this.table}`), 'read');
  }

  private async create(t: Tx): Promise<void> {
    if (this.created) return;
    await t.exec(`CREATE TABLE ${this.table} (
      id TEXT PRIMARY KEY, line INTEGER NOT NULL, name TEXT NOT NULL, name_en TEXT, type TEXT NOT NULL,
      lng REAL NOT NULL, lat REAL NOT NULL, district TEXT NOT NULL, stages TEXT NOT NULL, opening_hours TEXT,
      free INTEGER, booking_required INTEGER, terms TEXT NOT NULL, doc TEXT NOT NULL,
      action TEXT)`);
    this.created = true;
  }

  /** Classified inside the caller's transaction, so a concurrent writer cannot slip in between. */
  private async classifyIn(t: Tx): Promise<ApplyCounts> {
    await this.create(t);
    await t.run(`UPDATE ${this.table} AS s SET action = coalesce(
      (SELECT CASE WHEN r.doc = s.doc AND r.lng = s.lng AND r.lat = s.lat THEN 'same' ELSE 'update' END
         FROM main.resources r WHERE r.id = s.id AND r.retired_at IS NULL), 'insert')`);
    const counts = { inserted: 0, updated: 0, unchanged: 0 };
    for (const { action, n } of await t.all<{ action: string; n: number }>(`SELECT action, count(*) AS n FROM ${this.table} GROUP BY action`)) {
      if (action === 'insert') counts.inserted = n;
      else if (action === 'update') counts.updated = n;
      else counts.unchanged = n;
    }
    return counts;
  }
}

/** Deletes versions retired longer than the grace ago. */
export async function purgeRetired(t: Tx, now: Date): Promise<number> {
  const before = formatShanghai(new Date(now.getTime() - RETIRED_GRACE_MS));
  return (await t.run('DELETE FROM resources WHERE retired_at IS NOT NULL AND retired_at < ?', [before])).changes;
}
