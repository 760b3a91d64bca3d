import type { Sql, Tx } from './sql.js';
import { ConstraintViolation } from './sql.js';
import { bumpGeneration } from './db.js';

/** A batch's kind: what wrote it. */
export type BatchKind = 'import' | 'sync' | 'edit' | 'delete';

/** What readers need to know of the batches to see the current versions. */
export interface BatchView {
  /** Batches whose versions are not visible (staging, aborted). */
  hidden: number[];
  /**
   * Published batches not yet folded, by id → published_seq. Of two unretired visible versions of an id,
   * the one whose batch has the larger value here wins; a version of any other batch counts as 0 (folding
   * goes in publish order, so every unfolded batch was published after every folded one).
   */
  precedence: ReadonlyMap<number, number>;
}

/** How long a staging batch holds its place without being renewed, in ms (its process may have died). */
export const BATCH_LEASE_MS = 30_000;

/**
 * The `batches` table: the lifecycle of a write of resources. A batch is opened (staging), its versions are
 * written in short transactions, then `publish` makes them visible in one short transaction, bumping the
 * data generation; `fold` later marks the versions they replaced as retired, in chunks. Imports queue:
 * one import batch stages at a time (a unique index), and an abandoned one (its lease ran out, or its
 * process on this host is gone) is aborted.
 */
export class BatchStore {
  constructor(private readonly db: Sql) {}

  /** The visibility of versions, read in the caller's transaction (or alone). */
  async view(t: Sql = this.db): Promise<BatchView> {
    const rows = await t.all<{ id: number; state: string; published_seq: number | null; folded: number }>(
      "SELECT id, state, published_seq, folded FROM batches WHERE state <> 'published' OR folded = 0");
    const hidden: number[] = [];
    const precedence = new Map<number, number>();
    for (const r of rows) {
      if (r.state !== 'published') hidden.push(r.id);
      else precedence.set(r.id, r.published_seq!);
    }
    return { hidden, precedence };
  }

  /**
   * Opens a batch. An import (`queue: 'import'`) waits for its turn: false when another import is staging
   * under a live lease; an abandoned one is aborted and the place taken.
   */
  async open(t: Tx, b: { kind: BatchKind; queue: 'import' | null; keyId: string; owner: string; nowMs: number; at: string;
    ownerGone: (owner: string) => boolean }): Promise<number | undefined> {
    if (b.queue) {
      const holder = await t.get<{ id: number; owner: string | null; lease_until_ms: number }>(
        "SELECT id, owner, lease_until_ms FROM batches WHERE state = 'staging' AND queue = ?", [b.queue]);
      if (holder && (holder.lease_until_ms < b.nowMs || (holder.owner !== null && b.ownerGone(holder.owner)))) {
        await t.run("UPDATE batches SET state = 'aborted', queue = NULL WHERE id = ? AND state = 'staging'", [holder.id]);
      }
    }
    try {
      // In a savepoint: the unique index may refuse it (another import took the place), and the transaction goes on.
      return await t.savepoint((inner) => inner.value<number>(`INSERT INTO batches (state, kind, queue, key_id, created_at, lease_until_ms, owner)
        VALUES ('staging', ?, ?, ?, ?, ?, ?) RETURNING id`, [b.kind, b.queue, b.keyId, b.at, b.nowMs + BATCH_LEASE_MS, b.owner]));
    } catch (e) {
      if (e instanceof ConstraintViolation && e.kind === 'unique') return undefined;
      throw e;
    }
  }

  /** Renews a staging batch's lease; false when it is no longer ours (aborted meanwhile). */
  async renew(t: Sql, id: number, nowMs: number): Promise<boolean> {
    return (await t.run("UPDATE batches SET lease_until_ms = ? WHERE id = ? AND state = 'staging'", [nowMs + BATCH_LEASE_MS, id])).changes === 1;
  }

  /**
   * Publishes a staging batch: its versions become visible at once, in commit order, and the data
   * generation moves. False when the batch is no longer staging (it was aborted as abandoned).
   */
  async publish(t: Tx, id: number, at: string): Promise<boolean> {
    await t.run("INSERT INTO meta (key, value) VALUES ('publish_seq', '0') ON CONFLICT (key) DO NOTHING");
    const seq = Number(await t.value<string>("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'publish_seq' RETURNING value"));
    const done = (await t.run(`UPDATE batches SET state = 'published', published_seq = ?, published_at = ?, queue = NULL, lease_until_ms = NULL
      WHERE id = ? AND state = 'staging'`, [seq, at, id])).changes === 1;
    if (done) await bumpGeneration(t);
    return done;
  }

  /** Aborts a staging batch (its versions stay invisible and are deleted by `clean`). */
  async abort(t: Sql, id: number): Promise<void> {
    await t.run("UPDATE batches SET state = 'aborted', queue = NULL WHERE id = ? AND state = 'staging'", [id]);
  }

  /** The published batches not yet folded, oldest first. */
  async unfolded(): Promise<{ id: number; published_seq: number }[]> {
    return this.db.all("SELECT id, published_seq FROM batches WHERE state = 'published' AND folded = 0 ORDER BY published_seq");
  }

  /**
   * Retires, for up to `limit` of batch `id`'s versions after `afterSeq`, the visible versions of the same
   * ids that it replaced (published before it). Returns the last seq done, or undefined when none was left.
   */
  async foldChunk(t: Tx, batch: { id: number; published_seq: number }, afterSeq: number, limit: number, at: string): Promise<number | undefined> {
    const last = await t.value<number | null>('SELECT max(seq) FROM (SELECT seq FROM resources WHERE batch = ? AND seq > ? ORDER BY seq LIMIT ?) AS chunk',
      [batch.id, afterSeq, limit]);
    if (last === null || last === undefined) {
      await t.run('UPDATE batches SET folded = 1 WHERE id = ?', [batch.id]);
      return undefined;
    }
    // `+batch`: the rows are found by id (a handful per id), never by batch — by batch, SQLite's planner
    // walked every row of the large earlier batches, 0.7 s per chunk at 1M on the event loop.
    await t.run(`UPDATE resources SET retired_at = ? WHERE retired_at IS NULL
        AND id IN (SELECT id FROM resources WHERE batch = ? AND seq > ? AND seq <= ?)
        AND +batch <> ? AND +batch IN (SELECT id FROM batches WHERE state = 'published' AND published_seq < ?)`,
    [at, batch.id, afterSeq, last, batch.id, batch.published_seq]);
    return last;
  }

  /** Deletes up to `limit` versions (and listed ids) of aborted batches; the number deleted. */
  async cleanChunk(t: Tx, limit: number): Promise<number> {
    const aborted = await t.value<number>("SELECT id FROM batches WHERE state = 'aborted' ORDER BY id LIMIT 1");
    if (aborted === undefined) return 0;
    const rows = (await t.run('DELETE FROM resources WHERE seq IN (SELECT seq FROM resources WHERE batch = ? LIMIT ?)', [aborted, limit])).changes;
    const listed = (await t.run('DELETE FROM batch_listed WHERE batch = ? AND id IN (SELECT id FROM batch_listed WHERE batch = ? LIMIT ?)',
      [aborted, aborted, limit])).changes;
    if (rows + listed === 0) await t.run('DELETE FROM batches WHERE id = ?', [aborted]);
    return rows + listed + (rows + listed === 0 ? 1 : 0);
  }

  /** Abandoned staging batches (lease run out) become aborted; returns how many. */
  async abortAbandoned(t: Sql, nowMs: number): Promise<number> {
    return (await t.run("UPDATE batches SET state = 'aborted', queue = NULL WHERE state = 'staging' AND lease_until_ms < ?", [nowMs])).changes;
  }
}
