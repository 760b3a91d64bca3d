import type { Database } from './sql.js';
import { placeholders } from './sql.js';
import { SqliteDatabase } from './sqlite.js';
import { PostgresDatabase } from './postgres.js';
import { nameLine, scanPostgres } from './resource-scan-pg.js';
import { storeHead, type StoreHead } from './db.js';
import { feedHorizon } from './resource-purge.js';

/**
 * What a snapshot is built from: every current resource as one line of `\t`-separated fields,
 * `seq lngE7 latE7 type district stages free terms hours` (coordinates in 1e-7 degrees, which is exactly how
 * they were rounded when stored; `stages` and `terms` `|`-joined; `free` 1/0/-1; `hours` last, possibly
 * empty), lines joined by `\n` in id order, and the ids and names in the same order. The engine decodes it.
 */
export interface ScanText {
  /** The data generation the scan saw (see `dataGeneration`). */
  generation: number;
  /** The structure counter and the last batch publication the scan saw (see `StoreHead`). */
  structure: number;
  publishedSeq: number;
  /** Lines in `text` (= `ids.length`). */
  size: number;
  text: string;
  ids: string[];
  /** `name U+0001 name_en` of each line (a newline in a name read as a space), joined by `\n`. */
  names: string;
  /**
   * Present while published batches wait to be folded: an id may then have several lines (one per unretired
   * visible version), and the line whose batch has the larger precedence wins; a winning tombstone hides
   * the id. Absent, every line is a current resource.
   */
  versions?: { batches: number[]; deleted: number[]; precedence: ReadonlyMap<number, number> };
}

/** What ties a snapshot to the store it was read from (see `ResourceReader.lineage`). */
export interface Lineage {
  store: string;
  batch: { id: number; at: string } | null;
  head: StoreHead;
  horizon: number;
}

/** What `ResourceReader.changedSince` reads. */
export interface ChangedRows {
  head: StoreHead;
  scan: ScanText;
  /** Every id the batches wrote, in id order. */
  touched: string[];
}

interface ChangedRow {
  id: string; seq: number; lng: number; lat: number; type: string; district: string | null; stages: string; free: number | null;
  terms: string; opening_hours: string | null; deleted: number | boolean; batch: number; name: string; name_en: string | null;
}

/** A snapshot's rows are read as one string; V8 strings end at 2^29 characters, about 5M resources here. */
export const MAX_SNAPSHOT_ROWS = 5_000_000;


/** Read access to stored resources for snapshots and single-record answers. */
export class ResourceReader {
  constructor(readonly db: Database) {}

  /**
   * Every current resource, read in one transaction (see `ScanText`). SQLite joins all rows into one text
   * and the engine cuts it up: in better-sqlite3 that is several times cheaper than fetching a million
   * rows, and no object per row outlives the build. The names are a third text in the same order, read in
   * the same transaction: by the same index, with no sort, and of exactly the versions the lines are.
   * PostgreSQL streams the same texts by COPY (`resource-scan-pg.ts`).
   */
  async scan(): Promise<ScanText> {
    if (this.db.dialect === 'postgres' && this.db instanceof PostgresDatabase) return scanPostgres(this.db, MAX_SNAPSHOT_ROWS);
    if (!(this.db instanceof SqliteDatabase)) throw new Error('ResourceReader.scan: no bulk scan for this database');
    const line = `r.seq || char(9) || CAST(round(r.lng * 10000000) AS INTEGER) || char(9) || CAST(round(r.lat * 10000000) AS INTEGER)
      || char(9) || r.type || char(9) || r.district || char(9) || r.stages || char(9) || coalesce(r.free, -1)
      || char(9) || r.terms || char(9) || coalesce(r.opening_hours, '')`;
    return this.db.exclusive((raw) => raw.transaction(() => {
      const batches = raw.prepare("SELECT id, state, published_seq FROM batches WHERE state <> 'published' OR folded = 0").all() as
        { id: number; state: string; published_seq: number | null }[];
      const hidden = batches.filter((b) => b.state !== 'published').map((b) => b.id);
      const precedence = new Map(batches.filter((b) => b.state === 'published').map((b) => [b.id, b.published_seq!]));
      // With every published batch folded, an id has at most one unretired visible version: tombstones
      // can be left out in SQL. Otherwise every candidate line is read, and the engine picks the winners.
      const where = `FROM resources r WHERE r.retired_at IS NULL${hidden.length ? ` AND r.batch NOT IN (${hidden.join(',')})` : ''}`
        + (precedence.size ? '' : ' AND r.deleted = 0');
      const order = 'ORDER BY r.id, r.seq';
      // The ids first, as one string cut at newlines (ids hold no control characters): their count is the
      // size (no count(*) scan), known before the one large string is made; a million rows stepped out
      // one by one cost twice as much.
      const joined = raw.prepare(`SELECT group_concat(id, char(10)) FROM (SELECT r.id ${where} ${order})`).pluck().get() as string | null;
      const ids = joined ? joined.split('\n') : [];
      const size = ids.length;
      if (size > MAX_SNAPSHOT_ROWS) throw new Error(`a snapshot holds at most ${MAX_SNAPSHOT_ROWS} resources; the store has ${size}`);
      const text = (raw.prepare(`SELECT group_concat(line, char(10)) FROM (SELECT ${line} AS line ${where} ${order})`).pluck().get() as string | null) ?? '';
      const names = (raw.prepare(`SELECT group_concat(line, char(10)) FROM (SELECT ${nameLine('char')} AS line ${where} ${order})`).pluck().get() as string | null) ?? '';
      const meta = (key: string) => Number(raw.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) ?? 0);
      const head = { generation: meta('generation'), structure: meta('structure'), publishedSeq: meta('publish_seq') };
      if (!precedence.size) return { ...head, size, text, ids, names };
      const versions = {
        batches: raw.prepare(`SELECT r.batch ${where} ${order}`).pluck().all() as number[],
        deleted: raw.prepare(`SELECT r.deleted ${where} ${order}`).pluck().all() as number[],
        precedence,
      };
      return { ...head, size, text, ids, names, versions };
    })());
  }

  /**
   * What the batches published after `afterSeq` wrote, read in one transaction with the head they lead to:
   * every version of theirs (tombstones too) as a scan whose `versions` pick, per id, the newest; the names
   * of those versions (as `names` returns them); and `touched`, every id they wrote, deleted or not. Null
   * when they wrote more than `max` versions (a full scan is then the cheaper read), or when the purge has
   * deleted rows of a batch published after `afterSeq` (the feed's horizon passed it): the tombstones left
   * out would leave deleted resources standing, so only a scan can say what is current.
   */
  async changedSince(afterSeq: number, max: number): Promise<ChangedRows | null> {
    return this.db.tx(async (t) => {
      if (afterSeq + 1 < (await feedHorizon(t))) return null;
      const head = await storeHead(t);
      const batches = await t.all<{ id: number; published_seq: number }>(
        "SELECT id, published_seq FROM batches WHERE state = 'published' AND published_seq > ? ORDER BY published_seq", [afterSeq]);
      const precedence = new Map(batches.map((b) => [b.id, b.published_seq]));
      const list = batches.map((b) => b.id).join(',');
      // Counted no further than `max`: after a million-row import, counting them all would hold the
      // event loop for tens of ms only to learn that a full build is due.
      const count = batches.length
        ? Number(await t.value(`SELECT count(*) FROM (SELECT 1 FROM resources WHERE batch IN (${list}) LIMIT ${Math.floor(max) + 1}) AS capped`)) : 0;
      if (count > max) return null;
      const rows = count === 0 ? [] : await t.all<ChangedRow>(`SELECT id, seq, lng, lat, type, district, stages, free, terms, opening_hours,
          deleted, batch, name, name_en FROM resources WHERE batch IN (${list}) ORDER BY id, seq`);
      const line = (r: ChangedRow) => [r.seq, Math.round(r.lng * 1e7), Math.round(r.lat * 1e7), r.type, r.district ?? '', r.stages,
        r.free ?? -1, r.terms, r.opening_hours ?? ''].join('\t');
      const scan: ScanText = {
        ...head, size: rows.length, text: rows.map(line).join('\n'), ids: rows.map((r) => r.id),
        names: rows.map((r) => `${r.name}\u0001${r.name_en ?? ''}`.replace(/\n/g, ' ')).join('\n'),
        versions: { batches: rows.map((r) => r.batch), deleted: rows.map((r) => Number(r.deleted)), precedence },
      };
      return { head, scan, touched: [...new Set(scan.ids)] };
    }, 'read');
  }

  /**
   * What ties a snapshot at `publishedSeq` to this store, read in one transaction: the store's identity,
   * the batch published at that position (null before the first), the head and the feed's horizon. A saved
   * snapshot whose marks the store no longer shows is not loaded (`engine/saved.ts`).
   */
  async lineage(publishedSeq: number): Promise<Lineage> {
    return this.db.tx(async (t) => {
      const batch = await t.get<{ id: number; published_at: string }>(
        "SELECT id, published_at FROM batches WHERE state = 'published' AND published_seq = ?", [publishedSeq]);
      const id = (await t.value<string>("SELECT value FROM meta WHERE key = 'store_id'")) ?? '';
      // A PostgreSQL database made from another as its TEMPLATE copies its meta rows, identity and all, and
      // then goes its own way: the database's own oid tells the copies apart.
      const oid = this.db.dialect === 'postgres'
        ? await t.value<string>('SELECT CAST(oid AS TEXT) FROM pg_database WHERE datname = current_database()') : undefined;
      return {
        store: id && oid ? `${id}/${oid}` : id,
        batch: batch ? { id: Number(batch.id), at: batch.published_at } : null,
        head: await storeHead(t),
        horizon: await feedHorizon(t),
      };
    }, 'read');
  }

  /**
   * The stored answer JSON (with `updated_at`, without location) of several versions, in the order asked;
   * undefined for a version that is gone. One statement for the lot.
   */
  async docs(seqs: readonly number[]): Promise<(string | undefined)[]> {
    if (seqs.length === 0) return [];
    const rows = await this.db.all<{ seq: number; doc: string; updated_at: string }>(
      `SELECT seq, doc, updated_at FROM resources WHERE seq IN (${placeholders(seqs.length)})`, seqs);
    const found = new Map<number, string>();
    for (const { seq, doc, updated_at: updated } of rows) found.set(seq, `${doc.slice(0, -1)},"updated_at":"${updated}"}`);
    return seqs.map((seq) => found.get(seq));
  }
}
