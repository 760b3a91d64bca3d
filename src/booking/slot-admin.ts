import { AppError } from '../errors.js';
import { formatShanghai } from '../time.js';
import type { Database, Tx } from '../store/sql.js';
import type { BookingRow, BookingStore } from '../store/bookings.js';
import type { RuleBook } from './policy.js';
import { nextChange, type SlotRow, type SlotStore } from '../store/slots.js';
import type { Audit } from '../access/audit.js';
import type { Principal } from '../access/keys.js';
import { assertSeats } from '../access/scope.js';
import type { Directory } from './directory.js';
import { parseRange, parseSlots, slotJson, type SlotInput, type SlotJson } from './slots.js';
import { materialise, type Materialised, type ScheduleInput } from './schedule.js';
import type { Maker } from './create.js';
import type { Waitlist } from './waitlist.js';
import type { BookingJson } from './render.js';

/** What a schedule did: the slots it made, those it found, and the materialisation's report. */
export type ScheduleOutcome = { created: SlotJson[]; unchanged: number } & Omit<Materialised, 'slots'>;

/** A venue's change of a slot's capacity, as `PATCH /v1/slots/{id}` takes it. */
export interface SlotPatch {
  capacity: { individual?: number; group?: number };
}

/**
 * The slot writes of those who run a resource's seats (operators, its district, its venue): creating slots
 * and schedules, changing a slot's capacity (never below what is taken; more places promote the waitlist in
 * the same transaction) and closing a slot (its bookings cancelled by the venue, its places to nobody).
 * Every write is audited.
 */
export class SlotAdmin {
  constructor(private readonly deps: {
    db: Database; slots: SlotStore; rows: BookingStore; maker: Maker; audit: Audit; directory: Directory; waitlist: Waitlist;
    rules: RuleBook; clock: () => number; json: (row: BookingRow) => Promise<BookingJson>;
  }) {}

  /** Creates slots of a resource (all or none). Overlapping each other or a stored slot is a 409 naming the slot. */
  async create(resourceId: string, inputs: readonly SlotInput[], by: Principal): Promise<SlotJson[]> {
    const { db, slots, audit, directory, clock } = this.deps;
    assertSeats(by, await directory.resource(resourceId));
    const made = parseSlots(resourceId, inputs, clock());
    return db.tx(async (t) => {
      // The slot-change counter first: under READ COMMITTED no other writer can add a slot between the
      // overlap test below and the insert.
      await nextChange(t);
      for (const [k, s] of made.entries()) {
        const [clash] = await slots.overlapping(t, resourceId, s.startMs, s.endMs);
        if (clash) {
          throw new AppError('slot_overlap', `body.slots[${k}] overlaps slot ${clash.id} (${range(clash)})`,
            { errors: [{ path: `body.slots[${k}]`, message: `overlaps slot ${clash.id} (${range(clash)})` }] });
        }
      }
      const out = (await slots.insert(t, made, formatShanghai(new Date(clock())))).map(slotJson);
      await audit.record(t, by, 'slots.create', resourceId, { slots: out.length });
      return out;
    });
  }

  /**
   * Materialises a weekly schedule into slots. A slot identical (same start and end) to a stored one is
   * left as it is, so re-running a schedule each week only adds the new days; one that overlaps a stored
   * slot otherwise is a 409 and nothing is written.
   */
  async schedule(resourceId: string, input: ScheduleInput, by: Principal): Promise<ScheduleOutcome> {
    const { db, slots, audit, directory, clock } = this.deps;
    const resource = await directory.resource(resourceId);
    assertSeats(by, resource);
    const { slots: planned, ...report } = materialise(resourceId, input, resource.hours, resource.calendar, clock());
    const written = await db.tx(async (t) => {
      await nextChange(t); // as in `create`: nobody adds a slot between the overlap test and the insert
      const fresh = [];
      let unchanged = 0;
      for (const s of planned) {
        const clashes = await slots.overlapping(t, resourceId, s.startMs, s.endMs, 2);
        if (clashes.length === 1 && clashes[0].start_ms === s.startMs && clashes[0].end_ms === s.endMs) unchanged++;
        else if (clashes.length) {
          const when = `${formatShanghai(new Date(s.startMs))}/${formatShanghai(new Date(s.endMs))}`;
          throw new AppError('slot_overlap', `the schedule's slot ${when} overlaps slot ${clashes[0].id} (${range(clashes[0])})`,
            { errors: [{ path: 'body.hours', message: `gives ${when}, which overlaps slot ${clashes[0].id}` }] });
        } else fresh.push(s);
      }
      const created = (await slots.insert(t, fresh, formatShanghai(new Date(clock())))).map(slotJson);
      await audit.record(t, by, 'slots.schedule', resourceId, { created: created.length, unchanged });
      return { created, unchanged };
    });
    return { ...written, ...report };
  }

  /** Slots of a resource starting in [from, to) (default: the coming 7 days); closed slots are left out. */
  async list(resourceId: string, from?: string, to?: string): Promise<SlotJson[]> {
    await this.deps.directory.resource(resourceId);
    const { fromMs, toMs } = parseRange(from, to, this.deps.clock());
    return (await this.deps.slots.slotsOf(resourceId, fromMs, toMs)).map(slotJson);
  }

  /** A slot that the principal runs the seats of, or a 404 / 403. */
  async owned(slotId: number, by: Principal): Promise<SlotRow> {
    const slot = await this.deps.slots.slot(slotId);
    if (!slot || slot.closed_at !== null) throw new AppError('not_found', `no slot ${slotId}`);
    assertSeats(by, await this.deps.directory.resource(slot.resource_id));
    return slot;
  }

  /**
   * Changes a slot's capacity. A quota below what is taken is a 409 naming it; more places promote the
   * waitlist, in order, in the same transaction.
   */
  async patch(slotId: number, patch: SlotPatch, by: Principal): Promise<SlotJson> {
    let promoted;
    const { db, slots, audit, waitlist, clock } = this.deps;
    const slot = await this.owned(slotId, by);
    await this.deps.rules.refresh(); // the promotions below read the rules without I/O
    const now = clock();
    const individual = patch.capacity.individual ?? slot.capacity_individual;
    const group = patch.capacity.group ?? slot.capacity_group;
    await db.tx(async (t) => {
      if (!(await slots.setCapacity(t, slotId, individual, group))) {
        const s = (await slots.slot(slotId, t))!;
        const [kind, taken] = s.taken_individual > individual ? ['individual', s.taken_individual] : ['group', s.taken_group];
        throw new AppError('capacity_below_taken', `slot ${slotId} has ${taken} ${kind} places taken; capacity cannot go below`,
          { errors: [{ path: `body.capacity.${kind}`, message: `must be at least ${taken}, the places taken` }], extra: { taken: { individual: s.taken_individual, group: s.taken_group } } });
      }
      await audit.record(t, by, 'slot.patch', String(slotId), { capacity: { individual, group } });
      if (individual > slot.capacity_individual || group > slot.capacity_group) promoted = await waitlist.promote(t, slotId, now);
    });
    if (promoted) waitlist.report(promoted);
    return slotJson((await slots.slot(slotId))!);
  }

  /**
   * Closes a slot: its confirmed bookings become `cancelled_by_venue` (their visitors' days and counters are
   * given back, so the families can book elsewhere), its places go to nobody and its waitlist entries end.
   * Answers the bookings it cancelled, so that the venue can call them.
   */
  async close(slotId: number, by: Principal): Promise<{ slot: SlotJson; cancelled: BookingJson[]; waitlist_ended: number }> {
    const { db, slots, rows, audit, clock } = this.deps;
    await this.owned(slotId, by);
    const at = formatShanghai(new Date(clock()));
    const { ids, ended } = await db.tx(async (t) => {
      const closed = await this.closeIn(t, slotId, at);
      await audit.record(t, by, 'slot.close', String(slotId), { bookings: closed.ids.length, waitlist: closed.ended });
      return closed;
    });
    const cancelled = [];
    for (const id of ids) cancelled.push(await this.deps.json((await rows.booking(id))!));
    return { slot: slotJson((await slots.slot(slotId))!), cancelled, waitlist_ended: ended };
  }

  /**
   * Closes every open slot of a resource that starts after `nowMs`, in the caller's transaction (a
   * resource being deleted): as `close`, bookings cancelled by the venue, places to nobody, waitlists ended.
   * Returns the bookings cancelled.
   */
  async closeFuture(t: Tx, resourceId: string, nowMs: number, at: string): Promise<string[]> {
    const cancelled: string[] = [];
    for (const slotId of await this.deps.slots.futureOf(t, resourceId, nowMs)) cancelled.push(...(await this.closeIn(t, slotId, at)).ids);
    return cancelled;
  }

  /** Closes one slot in the caller's transaction; the bookings it cancelled and the waitlist entries it ended. */
  private async closeIn(t: Tx, slotId: number, at: string): Promise<{ ids: string[]; ended: number }> {
    const { slots, rows, maker, waitlist } = this.deps;
    const ids: string[] = [];
    // Closed first: a booking that takes places after this waits for the commit and then finds none; one
    // that committed before is in the roster read next (READ COMMITTED: each statement sees the committed).
    await slots.close(t, slotId, at);
    for (const row of await rows.ofSlot(slotId, t)) {
      if (row.status !== 'confirmed' || !(await rows.cancel(t, row.id, at, 'cancelled_by_venue'))) continue;
      await maker.unmake(t, row, { seats: false });
      ids.push(row.id);
    }
    return { ids, ended: await waitlist.endAll(t, slotId) };
  }
}

function range(s: SlotRow): string {
  return `${formatShanghai(new Date(s.start_ms))}/${formatShanghai(new Date(s.end_ms))}`;
}
