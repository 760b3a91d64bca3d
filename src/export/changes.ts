import { AppError, invalidField } from '../errors.js';
import type { Database } from '../store/sql.js';
import { changesAfter, feedHead } from '../store/resource-feed.js';
import { feedHorizon } from '../store/resource-purge.js';
import { fromWgs84, roundCoord, type Crs } from '../geo/crs.js';

/** One entry of `GET /v1/changes`. */
export interface Change {
  /** The entry's position: pass it as `after` to read what came after it. */
  seq: string;
  op: 'upsert' | 'delete';
  id: string;
  /** When its batch was published. */
  at: string;
  /** For an upsert: the resource as that version had it (as `GET /v1/resources/{id}` answers). */
  resource?: unknown;
}

const position = (p: number, s: number) => `${p}.${s}`;

/** A position written `p.s`; a 400 naming `query.after` when it is not one. */
function parsePosition(text: string): { publishedSeq: number; seq: number } {
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(text);
  if (!m) throw invalidField('query.after', 'must be a seq (or next_cursor) of this feed, such as 12.3456');
  return { publishedSeq: Number(m[1]), seq: Number(m[2]) };
}

/**
 * The change feed: every version published after `after`, in commit order, deletions included, `limit` at a
 * time. Replayed from the start (no `after`) it rebuilds exactly the current set: what the retention
 * purged is only versions that a later entry supersedes, and deletions of resources a consumer starting
 * now never saw. A cursor older than what is kept is a 410 `cursor_expired` naming the feed's head: take
 * it, export again (`GET /v1/resources?format=csv`), then follow the feed after that head.
 */
export async function changes(db: Database, after: string | undefined, limit: number, crs: Crs): Promise<{ items: Change[]; next_cursor: string }> {
  return db.tx(async (t) => {
    const from = after === undefined ? { publishedSeq: -1, seq: 0 } : parsePosition(after);
    if (after !== undefined && from.publishedSeq < (await feedHorizon(t))) {
      const head = await feedHead(t);
      throw new AppError('cursor_expired', 'the feed no longer holds every change after this cursor: export again, then follow the feed from head',
        { extra: { head: position(head.publishedSeq, head.seq) } });
    }
    const rows = await changesAfter(t, from.publishedSeq, from.seq, limit);
    const items = rows.map((r): Change => {
      const base = { seq: position(r.published_seq, r.seq), id: r.id, at: r.published_at };
      if (r.deleted) return { ...base, op: 'delete' };
      const [lng, lat] = fromWgs84([r.lng, r.lat], crs).map(roundCoord);
      const resource = { ...(JSON.parse(r.doc) as object), updated_at: r.updated_at, location: { lng, lat } };
      return { ...base, op: 'upsert', resource };
    });
    const last = rows[rows.length - 1];
    return { items, next_cursor: last ? position(last.published_seq, last.seq) : after ?? position(0, 0) };
  }, 'read');
}
