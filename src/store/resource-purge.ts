import type { Sql, Tx } from './sql.js';

/** The rows a purge deletes: versions retired before the cut, and tombstones of batches published before it. */
const PURGEABLE = `(r.retired_at IS NOT NULL AND r.retired_at < ?)
  OR (r.retired_at IS NULL AND r.deleted = 1 AND r.batch IN (SELECT id FROM batches WHERE state = 'published' AND folded = 1 AND published_at < ?))`;

/**
 * Deletes up to `limit` versions retired before `beforeIso`, and tombstones published before it (the
 * resource is gone; after the retention nobody needs to hear of it again). Moves the change feed's horizon
 * past every batch it deleted from, so a consumer whose cursor is older is told to re-export. Returns how
 * many rows it deleted.
 */
export async function purgeVersions(t: Tx, beforeIso: string, limit: number): Promise<number> {
  const picked = `SELECT r.seq FROM resources r WHERE ${PURGEABLE} LIMIT ?`;
  const top = await t.value<number | null>(`SELECT max(b.published_seq) FROM resources r2 JOIN batches b ON b.id = r2.batch
    WHERE r2.seq IN (${picked})`, [beforeIso, beforeIso, limit]);
  if (top === null || top === undefined) return 0;
  await t.run("UPDATE meta SET value = CAST(? AS TEXT) WHERE key = 'feed_horizon' AND CAST(value AS INTEGER) < ?", [top + 1, top + 1]);
  return (await t.run(`DELETE FROM resources WHERE seq IN (${picked})`, [beforeIso, beforeIso, limit])).changes;
}

/** The oldest publish position the change feed still holds whole: a cursor before it is answered 410. */
export async function feedHorizon(t: Sql): Promise<number> {
  return Number((await t.value<string>("SELECT value FROM meta WHERE key = 'feed_horizon'")) ?? 0);
}
