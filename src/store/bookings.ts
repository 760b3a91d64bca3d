import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

/** Who a quota is for: individuals (families) or school groups. */
export type Kind = 'individual' | 'group';

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

/** A stored booking with the times and resource of its slot. */
export interface BookingRow {
  id: string;
  slot_id: number;
  kind: Kind;
  party_size: number;
  status: 'confirmed' | 'cancelled';
  token_sha256: Buffer;
  contact_name: string;
  phone_masked: string;
  visitors: number;
  created_at: string;
  cancelled_at: string | null;
  resource_id: string;
  start_ms: number;
  end_ms: number;
}

/** A booking to insert; no clear phone number or ID number ever reaches this module. */
export interface NewBooking {
  id: string;
  slotId: number;
  kind: Kind;
  partySize: number;
  tokenSha256: Buffer;
  contactName: string;
  phoneHmac: Buffer;
  phoneMasked: string;
  visitors: number;
  createdAt: string;
}

/** A stored Idempotency-Key: `status` null while the first request is still in progress. */
export interface IdempotencyRow {
  request_hmac: Buffer;
  status: number | null;
  response: string | null;
  locked_until_ms: number | null;
}

/** A slot as a tuple, in `SLOT_COLUMNS` order. */
export type SlotTuple = [id: number, resourceId: string, startMs: number, endMs: number, capacityIndividual: number,
  capacityGroup: number, takenIndividual: number, takenGroup: number, groupMin: number, groupMax: number, changedSeq: number];

const SLOT_COLUMNS = `id, resource_id, start_ms, end_ms, capacity_individual, capacity_group, taken_individual,
  taken_group, group_min, group_max, changed_seq`;

/**
 * The booking tables' SQL: slots, bookings, visitors (as keyed hashes) and Idempotency-Keys. Every write
 * that moves what a slot can still take sets the slot's `changed_seq` to one past the largest, inside the
 * write lock, so `changedSince(seq)` hands caches exactly the slots that moved.
 */
export class BookingStore {
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    this.tx = db.transaction((fn: () => unknown) => fn());
    const next = '(SELECT coalesce(max(changed_seq), 0) + 1 FROM slots)';
    this.s = {
      slot: db.prepare(`SELECT ${SLOT_COLUMNS} FROM slots WHERE id = ?`),
      slotsOf: db.prepare(`SELECT ${SLOT_COLUMNS} FROM slots
        WHERE resource_id = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms, id`),
      overlapping: db.prepare(`SELECT ${SLOT_COLUMNS} FROM slots
        WHERE resource_id = ? AND start_ms < ? AND end_ms > ? ORDER BY start_ms LIMIT ?`),
      insertSlot: db.prepare(`INSERT INTO slots (resource_id, start_ms, end_ms, capacity_individual, capacity_group,
        group_min, group_max, changed_seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ${next}, ?) RETURNING ${SLOT_COLUMNS}`),
      // Capacity is tested and taken in this one statement: a concurrent writer in any process either
      // commits before it (and the sum is tested against its result) or waits for the lock.
      takeIndividual: db.prepare(`UPDATE slots SET taken_individual = taken_individual + @n, changed_seq = ${next}
        WHERE id = @id AND taken_individual + @n <= capacity_individual`),
      takeGroup: db.prepare(`UPDATE slots SET taken_group = taken_group + @n, changed_seq = ${next}
        WHERE id = @id AND taken_group + @n <= capacity_group AND @n BETWEEN group_min AND group_max`),
      giveIndividual: db.prepare(`UPDATE slots SET taken_individual = taken_individual - @n, changed_seq = ${next} WHERE id = @id`),
      giveGroup: db.prepare(`UPDATE slots SET taken_group = taken_group - @n, changed_seq = ${next} WHERE id = @id`),
      roomyIndividual: db.prepare(`SELECT ${SLOT_COLUMNS} FROM slots
        WHERE resource_id = @resource AND id <> @except AND start_ms > @now AND start_ms BETWEEN @from AND @to
          AND capacity_individual - taken_individual >= @n
        ORDER BY abs(start_ms - @around), start_ms LIMIT @limit`),
      roomyGroup: db.prepare(`SELECT ${SLOT_COLUMNS} FROM slots
        WHERE resource_id = @resource AND id <> @except AND start_ms > @now AND start_ms BETWEEN @from AND @to
          AND capacity_group - taken_group >= @n AND @n BETWEEN group_min AND group_max
        ORDER BY abs(start_ms - @around), start_ms LIMIT @limit`),
      lastChange: db.prepare('SELECT coalesce(max(changed_seq), 0) FROM slots').pluck(),
      changedSince: db.prepare(`SELECT ${SLOT_COLUMNS} FROM slots WHERE changed_seq > ? AND start_ms > ?`).raw(),
      slotIds: db.prepare('SELECT min(id) AS min, max(id) AS max FROM slots WHERE start_ms > ?'),
      maxSlotId: db.prepare('SELECT coalesce(max(id), 0) FROM slots').pluck(),
      insertBooking: db.prepare(`INSERT INTO bookings (id, slot_id, kind, party_size, status, token_sha256, contact_name,
        phone_hmac, phone_masked, visitors, created_at) VALUES (?, ?, ?, ?, 'confirmed', ?, ?, ?, ?, ?, ?)`),
      booking: db.prepare(`SELECT b.id, b.slot_id, b.kind, b.party_size, b.status, b.token_sha256, b.contact_name,
        b.phone_masked, b.visitors, b.created_at, b.cancelled_at, s.resource_id, s.start_ms, s.end_ms
        FROM bookings b JOIN slots s ON s.id = b.slot_id WHERE b.id = ?`),
      cancel: db.prepare(`UPDATE bookings SET status = 'cancelled', cancelled_at = ? WHERE id = ? AND status = 'confirmed'`),
      addVisitor: db.prepare(`INSERT INTO booking_visitors (resource_id, day, visitor_hmac, booking_id) VALUES (?, ?, ?, ?)
        ON CONFLICT DO NOTHING`),
      releaseVisitors: db.prepare('DELETE FROM booking_visitors WHERE booking_id = ?'),
      key: db.prepare('SELECT request_hmac, status, response, locked_until_ms FROM idempotency_keys WHERE key = ?'),
      claim: db.prepare(`INSERT INTO idempotency_keys (key, request_hmac, locked_until_ms, created_ms) VALUES (?, ?, ?, ?)`),
      relock: db.prepare('UPDATE idempotency_keys SET locked_until_ms = ? WHERE key = ? AND status IS NULL AND locked_until_ms = ?'),
      finish: db.prepare(`UPDATE idempotency_keys SET status = ?, response = ?, locked_until_ms = NULL
        WHERE key = ? AND status IS NULL AND locked_until_ms = ?`),
      release: db.prepare('DELETE FROM idempotency_keys WHERE key = ? AND status IS NULL AND locked_until_ms = ?'),
      purgeKeys: db.prepare('DELETE FROM idempotency_keys WHERE created_ms < ?'),
    };
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction (the write lock is taken first, so the reads inside see
   * what the writes will be checked against); inside another transaction it is a savepoint.
   */
  immediate<T>(fn: () => T): T {
    return (this.db.inTransaction ? this.tx(fn) : this.tx.immediate(fn)) as T;
  }

  slot(id: number): SlotRow | undefined {
    return this.s.slot.get(id) as SlotRow | undefined;
  }

  /** Slots of a resource starting in [fromMs, toMs), by start. */
  slotsOf(resourceId: string, fromMs: number, toMs: number): SlotRow[] {
    return this.s.slotsOf.all(resourceId, fromMs, toMs) as SlotRow[];
  }

  /** Up to `limit` slots of a resource that overlap [startMs, endMs). */
  overlapping(resourceId: string, startMs: number, endMs: number, limit = 1): SlotRow[] {
    return this.s.overlapping.all(resourceId, endMs, startMs, limit) as SlotRow[];
  }

  /** Inserts slots (call inside `immediate`); returns them as stored. */
  insertSlots(slots: readonly NewSlot[], createdAt: string): SlotRow[] {
    return slots.map((x) => this.s.insertSlot.get(x.resourceId, x.startMs, x.endMs, x.capacityIndividual, x.capacityGroup,
      x.groupMin, x.groupMax, createdAt) as SlotRow);
  }

  /** Takes `n` places of a kind's quota if they are free (and, for a group, `n` is in the slot's range). */
  take(slotId: number, kind: Kind, n: number): boolean {
    return (kind === 'group' ? this.s.takeGroup : this.s.takeIndividual).run({ id: slotId, n }).changes === 1;
  }

  /** Gives `n` places of a kind's quota back. */
  give(slotId: number, kind: Kind, n: number): void {
    (kind === 'group' ? this.s.giveGroup : this.s.giveIndividual).run({ id: slotId, n });
  }

  /**
   * Other slots of a resource that still have `n` places of the kind, starting in [fromMs, toMs) and after
   * `nowMs`, nearest in time to `aroundMs` first.
   */
  roomySlots(q: { resourceId: string; exceptId: number; kind: Kind; n: number; nowMs: number; fromMs: number; toMs: number; aroundMs: number; limit: number }): SlotRow[] {
    return (q.kind === 'group' ? this.s.roomyGroup : this.s.roomyIndividual).all({
      resource: q.resourceId, except: q.exceptId, n: q.n, now: q.nowMs, from: q.fromMs, to: q.toMs - 1, around: q.aroundMs, limit: q.limit,
    }) as SlotRow[];
  }

  /** The largest `changed_seq`: it moves whenever any slot's remaining places (or the set of slots) change. */
  lastChange(): number {
    return this.s.lastChange.get() as number;
  }

  /**
   * Slots changed after `seq` that start after `startAfterMs`, as tuples (cheaper than objects). `stream`
   * iterates (a full load: memory stays flat); otherwise one array (a few rows: less overhead).
   */
  changedSince(seq: number, startAfterMs: number, stream = false): Iterable<SlotTuple> {
    return (stream ? this.s.changedSince.iterate(seq, startAfterMs) : this.s.changedSince.all(seq, startAfterMs)) as Iterable<SlotTuple>;
  }

  /** The smallest and largest id of the slots starting after `startAfterMs`; undefined when there are none. */
  slotIds(startAfterMs: number): { min: number; max: number } | undefined {
    const row = this.s.slotIds.get(startAfterMs) as { min: number | null; max: number | null };
    return row.min === null ? undefined : { min: row.min, max: row.max! };
  }

  /** The largest slot id so far (0 without slots). */
  maxSlotId(): number {
    return this.s.maxSlotId.get() as number;
  }

  insertBooking(b: NewBooking): void {
    this.s.insertBooking.run(b.id, b.slotId, b.kind, b.partySize, b.tokenSha256, b.contactName, b.phoneHmac, b.phoneMasked,
      b.visitors, b.createdAt);
  }

  booking(id: string): BookingRow | undefined {
    return this.s.booking.get(id) as BookingRow | undefined;
  }

  /** Marks a confirmed booking cancelled; false when it was not confirmed (already cancelled, or absent). */
  cancel(id: string, at: string): boolean {
    return this.s.cancel.run(at, id).changes === 1;
  }

  /** Records a visitor's day at a resource; false when that visitor already has a booking there that day. */
  addVisitor(resourceId: string, day: string, visitorHmac: Buffer, bookingId: string): boolean {
    return this.s.addVisitor.run(resourceId, day, visitorHmac, bookingId).changes === 1;
  }

  /** Frees the visitors' days of a cancelled booking. */
  releaseVisitors(bookingId: string): void {
    this.s.releaseVisitors.run(bookingId);
  }

  idempotencyKey(key: string): IdempotencyRow | undefined {
    return this.s.key.get(key) as IdempotencyRow | undefined;
  }

  /** Records a new key as in progress until `lockedUntilMs`. */
  claimKey(key: string, requestHmac: Buffer, lockedUntilMs: number, nowMs: number): void {
    this.s.claim.run(key, requestHmac, lockedUntilMs, nowMs);
  }

  /**
   * Takes over an in-progress key whose holder gave up (crashed): its `locked_until_ms` becomes ours.
   * False when it was not `previousMs` any more (someone else took it over first).
   */
  relockKey(key: string, lockedUntilMs: number, previousMs: number): boolean {
    return this.s.relock.run(lockedUntilMs, key, previousMs).changes === 1;
  }

  /** Stores the first answer of a key, if the claim `lockedUntilMs` still holds it; false otherwise. */
  finishKey(key: string, lockedUntilMs: number, status: number, response: string): boolean {
    return this.s.finish.run(status, response, key, lockedUntilMs).changes === 1;
  }

  /** Forgets an in-progress key claimed as `lockedUntilMs`, so that a retry runs again (after a failure). */
  releaseKey(key: string, lockedUntilMs: number): void {
    this.s.release.run(key, lockedUntilMs);
  }

  /** Deletes keys created before `beforeMs`; returns how many. */
  purgeKeys(beforeMs: number): number {
    return this.s.purgeKeys.run(beforeMs).changes;
  }
}

/**
 * The `code` of a better-sqlite3 error, else undefined. Tested by name, not `instanceof`: the native addon
 * is loaded once per process and keeps the error class of the first copy of the module that loaded it
 * (jest loads a module once per test file).
 */
function sqliteCode(e: unknown): string | undefined {
  const err = e as { name?: unknown; code?: unknown } | null;
  return err !== null && typeof err === 'object' && err.name === 'SqliteError' && typeof err.code === 'string' ? err.code : undefined;
}

/** True for SQLite's "database is locked / busy" failures (the busy timeout ran out). */
export function isBusy(e: unknown): boolean {
  const code = sqliteCode(e);
  return code !== undefined && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
}
