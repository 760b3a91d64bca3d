import type { Sql, Tx } from './sql.js';
import { placeholders } from './sql.js';

/**
 * The rows a purge deletes: versions retired before the cut, and tombstones of batches published before it.
 * Two picks joined, each by its own partial index (`resources_retired`, `resources_tombstones`): one
 * condition with OR is a scan of every version, under the write lock.
 */
export const PURGEABLE = `SELECT r.seq FROM resources r WHERE r.retired_at IS NOT NULL AND r.retired_at < ?
  UNION ALL
  SELECT r.seq FROM resources r WHERE r.deleted = 1 AND r.retired_at IS NULL
    AND r.batch IN (SELECT id FROM batches WHERE state = 'published' AND folded = 1 AND published_at < ?)`;

/**
 * Deletes up to `limit` versions retired before `beforeIso`, and tombstones published before it (the
 * resource is gone; after the retention nobody needs to hear of it again). Moves the change feed's horizon
 * past every batch it deleted from, so a consumer whose cursor is older is told to re-export. Returns how
 * many rows it deleted.
 */
export async function purgeVersions(t: Tx, beforeIso: string, limit: number): Promise<number> {
  // One statement picks and deletes, and says from which batches: two picks (a LIMIT without an order, or
  // another process purging between them under READ COMMITTED) could differ, and the horizon must cover
  // every batch deleted from.
  const gone = await t.all<{ batch: number }>(`DELETE FROM resources WHERE seq IN (SELECT p.seq FROM (${PURGEABLE}) AS p LIMIT ?)
    RETURNING batch`, [beforeIso, beforeIso, limit]);
  if (!gone.length) return 0;
  const batches = [...new Set(gone.map((g) => g.batch))];
  const top = (await t.value<number | null>(`SELECT max(published_seq) FROM batches WHERE id IN (${placeholders(batches.length)})`, batches)) ?? 0;
  await t.run("UPDATE meta SET value = CAST(? AS TEXT) WHERE key = 'feed_horizon' AND CAST(value AS BIGINT) < ?", [top + 1, top + 1]);
  return gone.length;
}

/** The oldest publish position the change feed still holds whole: a cursor before it is answered 410. */
export async function feedHorizon(t: Sql): Promise<number> {
  return Number((await t.value<string>("SELECT value FROM meta WHERE key = 'feed_horizon'")) ?? 0);
}
