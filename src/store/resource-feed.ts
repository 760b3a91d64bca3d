import type { Sql } from './sql.js';

/** One change of the feed: a version of a published batch, in commit order. */
export interface ChangeRow {
  published_seq: number;
  seq: number;
  id: string;
  deleted: number;
  doc: string;
  lng: number;
  lat: number;
  updated_at: string;
  published_at: string;
}

/**
 * Up to `limit` versions published after the position (`publishedSeq`, `seq`), in commit order: by the
 * publish order of their batches, then by version within a batch. Deletions are tombstone versions.
 */
export async function changesAfter(t: Sql, publishedSeq: number, seq: number, limit: number): Promise<ChangeRow[]> {
  return t.all<ChangeRow>(`SELECT b.published_seq, r.seq, r.id, r.deleted, r.doc, r.lng, r.lat, r.updated_at, b.published_at
    FROM batches b JOIN resources r ON r.batch = b.id
    WHERE b.state = 'published' AND (b.published_seq > ? OR (b.published_seq = ? AND r.seq > ?))
    ORDER BY b.published_seq, r.seq LIMIT ?`, [publishedSeq, publishedSeq, seq, limit]);
}

/** The position of the latest published change: where a consumer that has everything stands. */
export async function feedHead(t: Sql): Promise<{ publishedSeq: number; seq: number }> {
  const row = await t.get<{ published_seq: number | null; seq: number | null }>(`SELECT b.published_seq, max(r.seq) AS seq
    FROM batches b JOIN resources r ON r.batch = b.id WHERE b.state = 'published'
    GROUP BY b.published_seq ORDER BY b.published_seq DESC LIMIT 1`);
  return { publishedSeq: row?.published_seq ?? 0, seq: row?.seq ?? 0 };
}
