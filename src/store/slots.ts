import type { Sql, Tx } from './sql.js';
import { notifyChange } from './db.js';
import type { Kind } from '../engine/params.js';

export type { Kind };

/** A stored slot. Times are epoch ms. */
export interface SlotRow {
  id: number;
  resource_id: string;
  start_ms: number;
  end_ms: number;
  capacity_individual: number;
  capacity_group: number;
  taken_individual: number;
  taken_group: number;
  group_min: number;
  group_max: number;
  changed_seq: number;
  /** When its venue closed it (its capacity is then 0); null while open. */
  closed_at: string | null;
}

/** A slot to insert. Times are epoch ms. */
export interface NewSlot {
  resourceId: string;
  startMs: number;
  endMs: number;
  capacityIndividual: number;
  capacityGroup: number;
  groupMin: number;
  groupMax: number;
}

/** A slot as a tuple, in `SLOT_COLUMNS` order. */
export type SlotTuple = [id: number, resourceId: string, startMs: number, endMs: number, capacityIndividual: number,
  capacityGroup: number, takenIndividual: number, takenGroup: number, groupMin: number, groupMax: number, changedSeq: number];

const SLOT_COLUMNS = `id, resource_id, start_ms, end_ms, capacity_individual, capacity_group, taken_individual,
  taken_group, group_min, group_max, changed_seq, closed_at`;

/**
 * The `slots` table. Every write that moves what a slot can still take stamps the slot with the next number
 * of the slot-change counter (`meta.slot_seq`), which the writing transaction increments first and holds
 * until it commits; so `changedSince(n)` hands caches exactly the slots that moved, in commit order.
 */
export class SlotStore {
  constructor(private readonly db: Sql) {}

  async slot(id: number, t: Sql = this.db): Promise<SlotRow | undefined> {
    return t.get<SlotRow>(`SELECT ${SLOT_COLUMNS} FROM slots WHERE id = ?`, [id]);
  }

  /** The ids of a resource's open slots that start after `nowMs`. */
  async futureOf(t: Sql, resourceId: string, nowMs: number): Promise<number[]> {
    return (await t.all<{ id: number }>('SELECT id FROM slots WHERE resource_id = ? AND start_ms > ? AND closed_at IS NULL ORDER BY start_ms',
      [resourceId, nowMs])).map((r) => r.id);
  }

  /** Slots of a resource starting in [fromMs, toMs), by start. */
  async slotsOf(resourceId: string, fromMs: number, toMs: number): Promise<SlotRow[]> {
    return this.db.all<SlotRow>(`SELECT ${SLOT_COLUMNS} FROM slots
      WHERE resource_id = ? AND start_ms >= ? AND start_ms < ? AND closed_at IS NULL ORDER BY start_ms, id`, [resourceId, fromMs, toMs]);
  }

  /** Up to `limit` slots of a resource that overlap [startMs, endMs). */
  async overlapping(t: Sql, resourceId: string, startMs: number, endMs: number, limit = 1): Promise<SlotRow[]> {
    return t.all<SlotRow>(`SELECT ${SLOT_COLUMNS} FROM slots WHERE resource_id = ? AND start_ms < ? AND end_ms > ?
      ORDER BY start_ms LIMIT ?`, [resourceId, endMs, startMs, limit]);
  }

  /**
   * Locks a slot's row until the transaction ends (a write of nothing), so that what the transaction reads of
   * the slot next stays true until it commits: a writer that changes the slot (a cancellation giving places
   * back) waits for it, or committed before it and is seen. False when there is no such slot.
   */
  async lock(t: Tx, id: number): Promise<boolean> {
    return (await t.run('UPDATE slots SET changed_seq = changed_seq WHERE id = ?', [id])).changes === 1;
  }

  /** Inserts slots; returns them as stored. */
  async insert(t: Tx, slots: readonly NewSlot[], createdAt: string): Promise<SlotRow[]> {
    const out: SlotRow[] = [];
    if (!slots.length) return out;
    const seq = await nextChange(t);
    for (const x of slots) {
      out.push((await t.get<SlotRow>(`INSERT INTO slots (resource_id, start_ms, end_ms, capacity_individual, capacity_group,
        group_min, group_max, changed_seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${SLOT_COLUMNS}`,
      [x.resourceId, x.startMs, x.endMs, x.capacityIndividual, x.capacityGroup, x.groupMin, x.groupMax, seq, createdAt]))!);
    }
    return out;
  }

  /**
   * Takes `n` places of a kind's quota if they are free (and, for a group, `n` is in the slot's range).
   * Capacity is tested and taken in this one statement: a concurrent writer either commits before it (and
   * the sum is tested against its result) or waits for the lock.
   */
  async take(t: Tx, slotId: number, kind: Kind, n: number): Promise<boolean> {
    const seq = await nextChange(t);
    const sql = kind === 'group'
      ? `UPDATE slots SET taken_group = taken_group + ?, changed_seq = ? WHERE id = ? AND taken_group + ? <= capacity_group
          AND ? BETWEEN group_min AND group_max`
      : 'UPDATE slots SET taken_individual = taken_individual + ?, changed_seq = ? WHERE id = ? AND taken_individual + ? <= capacity_individual';
    const params = kind === 'group' ? [n, seq, slotId, n, n] : [n, seq, slotId, n];
    return (await t.run(sql, params)).changes === 1;
  }

  /**
   * Sets a slot's capacity, never below what is taken: tested and written in this one statement. False when
   * a quota would fall below its taken places (or the slot is closed or absent).
   */
  async setCapacity(t: Tx, slotId: number, individual: number, group: number): Promise<boolean> {
    const seq = await nextChange(t);
    return (await t.run(`UPDATE slots SET capacity_individual = ?, capacity_group = ?, changed_seq = ? WHERE id = ?
      AND closed_at IS NULL AND taken_individual <= ? AND taken_group <= ?`, [individual, group, seq, slotId, individual, group])).changes === 1;
  }

  /** Closes a slot: no places taken, none left, and `closed_at` set; false when it was closed already. */
  async close(t: Tx, slotId: number, at: string): Promise<boolean> {
    const seq = await nextChange(t);
    return (await t.run(`UPDATE slots SET taken_individual = 0, taken_group = 0, capacity_individual = 0, capacity_group = 0,
      closed_at = ?, changed_seq = ? WHERE id = ? AND closed_at IS NULL`, [at, seq, slotId])).changes === 1;
  }

  /** Gives `n` places of a kind's quota back. */
  async give(t: Tx, slotId: number, kind: Kind, n: number): Promise<void> {
    const seq = await nextChange(t);
    const column = kind === 'group' ? 'taken_group' : 'taken_individual';
    await t.run(`UPDATE slots SET ${column} = ${column} - ?, changed_seq = ? WHERE id = ? AND closed_at IS NULL`, [n, seq, slotId]);
  }

  /**
   * Other slots of a resource that still have `n` places of the kind, starting in [fromMs, toMs) and after
   * `nowMs`, nearest in time to `aroundMs` first.
   */
  async roomy(q: { resourceId: string; exceptId: number; kind: Kind; n: number; nowMs: number; fromMs: number; toMs: number; aroundMs: number; limit: number }): Promise<SlotRow[]> {
    const room = q.kind === 'group'
      ? 'capacity_group - taken_group >= ? AND ? BETWEEN group_min AND group_max'
      : 'capacity_individual - taken_individual >= ?';
    const roomParams = q.kind === 'group' ? [q.n, q.n] : [q.n];
    return this.db.all<SlotRow>(`SELECT ${SLOT_COLUMNS} FROM slots
      WHERE resource_id = ? AND id <> ? AND start_ms > ? AND start_ms >= ? AND start_ms < ? AND ${room}
      ORDER BY abs(start_ms - ?), start_ms LIMIT ?`,
    [q.resourceId, q.exceptId, q.nowMs, q.fromMs, q.toMs, ...roomParams, q.aroundMs, q.limit]);
  }

  /** The slot-change counter: it moves whenever any slot's remaining places (or the set of slots) change. */
  async lastChange(): Promise<number> {
    return Number((await this.db.value<string>("SELECT value FROM meta WHERE key = 'slot_seq'")) ?? 0);
  }

  /** Slots changed after `seq` that start after `startAfterMs`, as tuples. */
  async changedSince(seq: number, startAfterMs: number): Promise<SlotTuple[]> {
    const rows = await this.db.all<SlotRow>(`SELECT ${SLOT_COLUMNS} FROM slots WHERE changed_seq > ? AND start_ms > ?`, [seq, startAfterMs]);
    return rows.map((r) => [r.id, r.resource_id, r.start_ms, r.end_ms, r.capacity_individual, r.capacity_group,
      r.taken_individual, r.taken_group, r.group_min, r.group_max, r.changed_seq]);
  }

  /** The smallest and largest id of the slots starting after `startAfterMs`; undefined when there are none. */
  async idRange(startAfterMs: number): Promise<{ min: number; max: number } | undefined> {
    const row = await this.db.get<{ min: number | null; max: number | null }>('SELECT min(id) AS min, max(id) AS max FROM slots WHERE start_ms > ?', [startAfterMs]);
    return !row || row.min === null ? undefined : { min: row.min, max: row.max! };
  }

  /** The largest slot id so far (0 without slots). */
  async maxId(): Promise<number> {
    return (await this.db.value<number>('SELECT coalesce(max(id), 0) FROM slots')) ?? 0;
  }
}

/**
 * The next slot-change number. The increment locks the counter row until the transaction ends, so the
 * transactions that change slots commit in the order of their numbers (and one that takes it before reading
 * slots sees every slot committed before it). On PostgreSQL the new number is announced on commit.
 */
export async function nextChange(t: Tx): Promise<number> {
  await t.run("INSERT INTO meta (key, value) VALUES ('slot_seq', '0') ON CONFLICT (key) DO NOTHING");
  const seq = Number(await t.value<string>("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'slot_seq' RETURNING value"));
  await notifyChange(t, 'slots', seq);
  return seq;
}
