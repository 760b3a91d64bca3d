import { hostname } from 'node:os';
import { AppError } from '../errors.js';
import { bulkGap, type Database, type Tx } from '../store/sql.js';
import { BatchStore, type BatchKind } from '../store/batches.js';
import { currentVersions, insertTombstones, insertVersions, listIds, unlisted, type StagedRow, type VersionRow } from '../store/resource-versions.js';
import { formatShanghai } from '../time.js';
import type { Rejection, RowValidator } from './rows.js';
import { checkRows, type CheckedRow, type FileRow } from './check.js';

export type { FileRow };
import type { Checkers } from './checkers.js';

/** A chunk read and checked, waiting to be written (see `ImportBatch.prepare`). */
export interface PreparedChunk { current: ReadonlyMap<string, VersionRow>; checked: CheckedRow[]; rejections: Rejection[] }

/** What applying a batch did (or, for a dry run, would do). */
export interface ApplyCounts { inserted: number; updated: number; unchanged: number; deleted: number }


/**
 * Resolves on the event loop's next turn, after pending I/O: an import's chain of promises otherwise runs
 * as microtasks, chunk after chunk, and no request is read until it ends (seconds for a large file).
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * How long one staging transaction writes before it commits and leaves the lock free (`bulkGap`), in ms.
 * Bounded by time, not rows: at 1M stored rows 500 rows held the event loop 30–115 ms (a trace of the stall
 * bench), and on an idle store a fixed 250 rows took about 6 ms, so a 200k-row import spent 3.7 s in gaps
 * beside 5.1 s writing (hand-timed).
 */
const WRITE_TX_MS = 15;
/** Rows written between two looks at the clock (a part's cost bounds how far a transaction runs over). */
const WRITE_PART = 100;
/**
 * Ms of row checks on the main thread between two turns of the event loop. Bounded by time, not rows: a
 * row whose opening_hours text is new costs ≈1 ms, so 100 rows of new texts held the loop 60 ms.
 */
const INLINE_SLICE_MS = 5;
/** How long an import waits for the one before it to finish, in ms, before it gives up. */
const QUEUE_WAIT_MS = 15 * 60_000;
const QUEUE_POLL_MS = 250;
/** Most deleted ids a sync report lists (all are counted). */
export const MAX_LISTED_DELETES = 10_000;

/**
 * One import as a batch: rows are merged with the stored versions (a column the file lacks keeps its
 * value), validated, checked against the key's scope, classified, and written in short transactions as
 * versions nobody sees yet; `publish` makes all of them visible in one short transaction. A dry run (or a
 * strict import with rejections) aborts instead: nothing it wrote is ever visible, and it is cleaned up.
 */
export class ImportBatch {
  readonly counts: ApplyCounts = { inserted: 0, updated: 0, unchanged: 0, deleted: 0 };
  readonly deletedIds: string[] = [];
  private readonly batches: BatchStore;

  private constructor(private readonly db: Database, readonly id: number, private readonly at: string,
    private readonly options: { dryRun: boolean; outside?: (district: string) => string | null; clock: () => number }) {
    this.batches = new BatchStore(db);
  }

  /** Opens a batch, waiting its turn behind an import that is staging (imports queue, never interleave). */
  static async open(db: Database, o: { kind: BatchKind; keyId: string; dryRun: boolean; now: Date;
    outside?: (district: string) => string | null; clock?: () => number }): Promise<ImportBatch> {
    const clock = o.clock ?? Date.now;
    const batches = new BatchStore(db);
    const until = clock() + QUEUE_WAIT_MS;
    for (;;) {
      const nowMs = clock();
      const id = await db.tx((t) => batches.open(t, {
        kind: o.kind, queue: 'import', keyId: o.keyId, owner: OWNER, nowMs, at: formatShanghai(new Date(nowMs)), ownerGone,
      }));
      if (id !== undefined) return new ImportBatch(db, id, formatShanghai(o.now), { dryRun: o.dryRun, outside: o.outside, clock });
      if (nowMs > until) throw new AppError('busy', 'another import has been running for 15 minutes; retry when it is done');
      await new Promise((resolve) => setTimeout(resolve, QUEUE_POLL_MS));
    }
  }

  /**
   * Stages a chunk of file rows: duplicates of an id the import already listed, rows the validator refuses
   * and rows outside the key's scope are reported through `reject`; the others are written (unless this is
   * a dry run). `prepare` and `write` are its two halves, for a caller that checks chunks in threads.
   */
  async stage(rows: readonly FileRow[], validator: RowValidator, reject: (r: Rejection) => void): Promise<void> {
    await this.write(await this.prepare(rows, validator), reject);
  }

  /**
   * Reads the stored versions of a chunk's ids and checks its rows — in a checking thread when `checkers`
   * is given. Chunks may be prepared ahead of the writes: what they read is the published state, which
   * this batch's own staged rows do not change.
   */
  async prepare(rows: readonly FileRow[], validator: RowValidator, checkers?: Checkers): Promise<PreparedChunk> {
    const view = await this.batches.view();
    const current = await currentVersions(this.db, rows.map((r) => r.cells.id ?? '').filter(Boolean), view);
    if (checkers) return { current, ...(await checkers.check([...rows], current)) };
    // On the main thread (a small file, or the first chunks of a large one): in slices, letting queries and
    // bookings run between them — a whole chunk at once held the event loop for hundreds of ms.
    const rejections: Rejection[] = [];
    const checked: CheckedRow[] = [];
    let slice = performance.now();
    for (const row of rows) {
      if (performance.now() - slice > INLINE_SLICE_MS) {
        await nextTurn();
        slice = performance.now();
      }
      checked.push(...checkRows([row], current, validator, this.options.outside, (r) => rejections.push(r)));
    }
    return { current, checked, rejections };
  }

  /**
   * Writes a prepared chunk, chunks in file order: every row with an id is listed (valid or not: a sync
   * never deletes a resource its file mentions), duplicates are rejected, the changed rows written as
   * versions nobody sees yet. The transaction only writes.
   */
  async write({ current, checked: all, rejections }: PreparedChunk, reject: (r: Rejection) => void): Promise<void> {
    rejections.forEach(reject);
    // Slices in transactions of their own, the lock left free between them (`bulkGap`): a transaction of a
    // whole chunk held the connection (and so every booking of this process) and the loop for hundreds of
    // ms. The batch stays invisible until `publish`, so slicing changes nothing anyone sees.
    for (let at = 0; at < all.length;) {
      if (at) await bulkGap(this.db);
      at = await this.writeSlice(current, all, at, reject);
    }
  }

  /** Writes rows of `all` from `from` on, in one transaction of about WRITE_TX_MS; returns where it stopped. */
  private async writeSlice(current: PreparedChunk['current'], all: readonly CheckedRow[], from: number, reject: (r: Rejection) => void): Promise<number> {
    return this.db.tx(async (t) => {
      if (!(await this.batches.renew(t, this.id, this.options.clock()))) throw lost();
      const started = performance.now();
      let at = from;
      do {
        await this.writePart(t, current, all.slice(at, at + WRITE_PART), reject);
        at += WRITE_PART;
      } while (at < all.length && performance.now() - started < WRITE_TX_MS);
      return Math.min(at, all.length);
    });
  }

  private async writePart(t: Tx, current: PreparedChunk['current'], checked: readonly CheckedRow[], reject: (r: Rejection) => void): Promise<void> {
    const fresh: StagedRow[] = [];
    const listedBefore = await listIds(t, this.id, checked);
    const seen = new Set<string>();
    for (const c of checked) {
      const firstLine = listedBefore.get(c.id);
      // A duplicate: listed by an earlier chunk, or by an earlier line of this one.
      if (firstLine !== undefined && (firstLine !== c.line || seen.has(c.id))) {
        if (c.valid) reject({ line: c.line, column: 'id', value: c.id, reason: `duplicate id; line ${firstLine} already has it` });
        continue;
      }
      seen.add(c.id);
      if (!c.valid) continue;
      if (!c.staged) this.counts.unchanged++;
      else {
        const stored = current.get(c.id);
        if (stored && !stored.deleted) this.counts.updated++;
        else this.counts.inserted++;
        fresh.push(c.staged);
      }
    }
    if (!this.options.dryRun) await insertVersions(t, this.id, fresh, this.at);
  }

  /**
   * For a sync: tombstones for the current resources in scope that the file did not list (`districts`:
   * the key's districts, or null for every resource). A dry run only counts and lists them.
   */
  async deleteUnlisted(districts: readonly string[] | null): Promise<void> {
    for (let after = ''; ;) {
      const view = await this.batches.view();
      const page = await unlisted(this.db, this.id, after, 2000, view, districts);
      if (page.rows.length) await this.tombstone(page.rows);
      if (page.lastId === null) return;
      after = page.lastId;
    }
  }

  /** Publishes the batch: every version it wrote becomes visible at once. `inside` runs in that transaction. */
  async publish(inside?: (t: Tx) => Promise<void>): Promise<void> {
    await this.db.tx(async (t) => {
      if (!(await this.batches.publish(t, this.id, formatShanghai(new Date(this.options.clock()))))) throw lost();
      await inside?.(t);
    });
  }

  /** Aborts the batch: nothing it wrote will be visible (the rows are cleaned up later). */
  async abort(): Promise<void> {
    await this.db.tx((t) => this.batches.abort(t, this.id));
  }

  private async tombstone(victims: VersionRow[]): Promise<void> {
    for (const v of victims) if (this.deletedIds.length < MAX_LISTED_DELETES) this.deletedIds.push(v.id);
    this.counts.deleted += victims.length;
    if (this.options.dryRun) return;
    await this.db.tx(async (t) => {
      if (!(await this.batches.renew(t, this.id, this.options.clock()))) throw lost();
      await insertTombstones(t, this.id, victims, this.at);
    });
  }
}

/** This process, as a batch's owner: host and pid. */
const OWNER = `${hostname()}:${process.pid}`;

/** Whether the process that owns a batch is gone: on this host, a pid that no longer runs. */
function ownerGone(owner: string): boolean {
  const cut = owner.lastIndexOf(':');
  if (owner.slice(0, cut) !== hostname()) return false; // another machine: only its lease tells
  const pid = Number(owner.slice(cut + 1));
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function lost(): AppError {
  return new AppError('busy', 'the import lost its place (it stalled for more than 30 s); nothing of it was applied; retry');
}
