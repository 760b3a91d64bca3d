import { formatShanghai } from '../time.js';
import type { SlotStore, SlotTuple } from '../store/slots.js';
import type { Snapshot } from '../engine/snapshot.js';
import type { Need } from '../engine/params.js';
import type { SeatIndex } from '../engine/query.js';
import type { FreeSlot } from '../engine/render.js';
import { maxIndividual, noRules, releasedBefore, type RuleBook, type VenueRules } from './policy.js';
import { BOOKING_RULES } from './rules.js';

const DAY_MS = 86_400_000;
/** The stored rules when none are loaded yet (one object, so the per-snapshot cache holds). */
const NO_RULES: ReadonlyMap<string, VenueRules> = new Map();

/** Past slots and stale ids are dropped by a full reload this often, in ms. */
const RELOAD_EVERY_MS = 6 * 3_600_000;

/**
 * A per-process, in-memory index of the free places of every future slot, keyed by resource, for
 * availability tests inside the kNN scan (~0.1 µs a candidate instead of a SQL query each).
 *
 * Freshness: every write that moves a slot sets its `changed_seq` past the largest, under the write lock.
 * Before answering, `refresh()` reads `max(changed_seq)` (one lookup at the end of an index); when it moved,
 * it reads just the slots changed since, whichever process wrote them, and overwrites their free places with
 * the stored values (absolute, so reading a row twice is harmless). The snapshot is never rebuilt for a
 * booking. Slots are held in typed arrays indexed by `slot id - base`; a periodic full reload drops the past.
 *
 * Each resource's booking rules (`RuleBook`, refreshed with the slots) bound what is offered to what the
 * caller could book: slots not yet released (window and release time), groups outside the venue's size,
 * individual parties above its cap are never a fit.
 */
export class Availability implements SeatIndex {
  private seq = -1;
  private loadedAt = 0;
  private base = 1;
  private size = 0;
  private startMs = new Float64Array(0);
  private endMs = new Float64Array(0);
  private freeIndividual = new Int32Array(0);
  private freeGroup = new Int32Array(0);
  private groupMin = new Int32Array(0);
  private groupMax = new Int32Array(0);
  private present = new Uint8Array(0);
  /** Slot ids of each resource, by start. A list is changed in place; a resource's first slot adds one. */
  private lists = new Map<string, number[]>();
  /** `lists` by snapshot index for one snapshot (see `listsOf`). */
  /** Per snapshot (a view's base and overlay are asked in turn), its slot lists by index. */
  private readonly listViews = new WeakMap<Snapshot, { lists: Map<string, number[]>; resources: number; bySnap: (number[] | undefined)[] }>();
  /** Stored rules by snapshot index for one snapshot and one version of the rules. */
  private readonly venueViews = new WeakMap<Snapshot, { rules: ReadonlyMap<string, VenueRules>; bySnap: (VenueRules | undefined)[] }>();
  private readonly none = noRules(0);

  private refreshing: Promise<void> = Promise.resolve();

  constructor(private readonly store: SlotStore, private readonly clock: () => number = Date.now, private readonly rules?: RuleBook) {}

  /**
   * Brings the index up to date with every slot change committed before the call. Refreshes run one at a
   * time, each after the one before it.
   */
  refresh(): Promise<void> {
    const next = this.refreshing.catch(() => undefined).then(() => this.refreshNow());
    this.refreshing = next;
    return next;
  }

  private async refreshNow(): Promise<void> {
    await this.rules?.refresh();
    const now = this.clock();
    const last = await this.store.lastChange();
    if (this.seq >= 0 && last === this.seq && now - this.loadedAt < RELOAD_EVERY_MS) return;
    if (this.seq < 0 || now - this.loadedAt >= RELOAD_EVERY_MS) {
      await this.reload(last, now);
      return;
    }
    const rows = await this.store.changedSince(this.seq, now - DAY_MS);
    const touched = new Set<number[]>();
    for (const row of rows) this.put(row, touched);
    for (const list of touched) this.sortList(list);
    this.seq = last;
  }

  /**
   * A test of snapshot index i: whether that resource has a slot meeting `need`, as of the last refresh.
   * The test is called for every point of every kd-tree leaf the scan visits, so it is a few typed-array reads.
   */
  acceptFor(snap: Snapshot, need: Need): (i: number) => boolean {
    const lists = this.listsOf(snap);
    const venues = this.venuesOf(snap);
    const first = this.tester(need, this.clock());
    return (i) => {
      const list = lists[i];
      return list !== undefined && first(list, venues[i] ?? this.none) >= 0;
    };
  }

  /** The earliest slot of a resource meeting `need`, or undefined, as of the last refresh. */
  firstFit(resourceId: string, need: Need): FreeSlot | undefined {
    const list = this.lists.get(resourceId);
    const id = list ? this.tester(need, this.clock())(list, this.rules?.stored.get(resourceId) ?? this.none) : -1;
    if (id < 0) return undefined;
    const p = id - this.base;
    return {
      id,
      start: formatShanghai(new Date(this.startMs[p])),
      end: formatShanghai(new Date(this.endMs[p])),
      remaining: { individual: this.freeIndividual[p], group: this.freeGroup[p] },
    };
  }

  /** Number of future slots held (for metrics and tests). */
  get slots(): number {
    let n = 0;
    for (const list of this.lists.values()) n += list.length;
    return n;
  }

  /**
   * The first slot id of a list (slot ids by start) that meets `need` under a venue's rules, or -1. Valid
   * until the next refresh.
   */
  private tester(need: Need, nowMs: number): (list: number[], rules: VenueRules) => number {
    const { startMs, base, groupMin, groupMax } = this;
    const free = need.kind === 'group' ? this.freeGroup : this.freeIndividual;
    const group = need.kind === 'group';
    const from = Math.max(need.fromMs, nowMs + 1); // a slot that has started cannot be booked
    const { seats } = need;
    return (list, rules) => {
      // Released slots only (they start before the window's horizon), and a party these rules let book.
      const toMs = Math.min(need.toMs, releasedBefore(rules, nowMs));
      if (group ? seats < (rules.group.min ?? 0) || seats > (rules.group.max ?? Infinity) : seats > maxIndividual(rules, BOOKING_RULES.individualMaxParty)) return -1;
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (startMs[list[mid] - base] < from) lo = mid + 1;
        else hi = mid;
      }
      for (let k = lo; k < list.length; k++) {
        const p = list[k] - base;
        if (startMs[p] >= toMs) break;
        if (free[p] >= seats && (!group || (seats >= groupMin[p] && seats <= groupMax[p]))) return list[k];
      }
      return -1;
    };
  }

  /** The slot list of each snapshot index, rebuilt when the snapshot changes or a resource gets its first slot. */
  private listsOf(snap: Snapshot): (number[] | undefined)[] {
    let view = this.listViews.get(snap);
    if (view?.lists !== this.lists || view.resources !== this.lists.size) {
      const bySnap: (number[] | undefined)[] = new Array(snap.size);
      // Few resources have slots, as a rule: look each up (a binary search) rather than every index.
      if (this.lists.size * 16 < snap.size) {
        for (const [id, list] of this.lists) {
          const i = snap.indexOf(id);
          if (i >= 0) bySnap[i] = list;
        }
      } else {
        for (let i = 0; i < snap.size; i++) bySnap[i] = this.lists.get(snap.idOf(i));
      }
      this.listViews.set(snap, (view = { lists: this.lists, resources: this.lists.size, bySnap }));
    }
    return view.bySnap;
  }

  /** The stored rules of each snapshot index, rebuilt when the snapshot or the rules change. */
  private venuesOf(snap: Snapshot): (VenueRules | undefined)[] {
    const rules = this.rules?.stored ?? NO_RULES;
    let view = this.venueViews.get(snap);
    if (view?.rules !== rules) {
      const bySnap: (VenueRules | undefined)[] = new Array(snap.size);
      for (const [id, r] of rules) {
        const i = snap.indexOf(id);
        if (i >= 0) bySnap[i] = r;
      }
      this.venueViews.set(snap, (view = { rules, bySnap }));
    }
    return view.bySnap;
  }

  private async reload(last: number, now: number): Promise<void> {
    const ids = await this.store.idRange(now);
    const base = ids ? ids.min : (await this.store.maxId()) + 1;
    const rows = await this.store.changedSince(0, now);
    this.base = base;
    this.size = 0;
    this.grow(ids ? ids.max - ids.min + 1 : 0, true);
    this.lists = new Map();
    const touched = new Set<number[]>();
    for (const row of rows) this.put(row, touched);
    for (const list of touched) this.sortList(list);
    this.seq = last;
    this.loadedAt = now;
  }

  private put(row: SlotTuple, touched: Set<number[]>): void {
    const [id, resourceId, startMs, endMs, capI, capG, takenI, takenG, gMin, gMax] = row;
    if (id < this.base) return; // started before the last full load
    const p = id - this.base;
    if (p >= this.size) this.grow(p + 1, false);
    this.startMs[p] = startMs;
    this.endMs[p] = endMs;
    this.freeIndividual[p] = capI - takenI;
    this.freeGroup[p] = capG - takenG;
    this.groupMin[p] = gMin;
    this.groupMax[p] = gMax;
    if (!this.present[p]) {
      this.present[p] = 1;
      let list = this.lists.get(resourceId);
      if (!list) this.lists.set(resourceId, (list = []));
      list.push(id);
      touched.add(list);
    }
  }

  private sortList(list: number[]): void {
    list.sort((a, b) => this.startMs[a - this.base] - this.startMs[b - this.base] || a - b);
  }

  /** Makes room for `n` positions; `fresh` drops what was held. */
  private grow(n: number, fresh: boolean): void {
    const cap = fresh ? Math.max(n, 1024) : Math.max(n, this.size * 2, 1024);
    const copy = <T extends Float64Array | Int32Array | Uint8Array>(old: T, make: (k: number) => T): T => {
      const next = make(cap);
      if (!fresh) next.set(old.subarray(0, Math.min(old.length, cap)) as never);
      return next;
    };
    this.startMs = copy(this.startMs, (k) => new Float64Array(k));
    this.endMs = copy(this.endMs, (k) => new Float64Array(k));
    this.freeIndividual = copy(this.freeIndividual, (k) => new Int32Array(k));
    this.freeGroup = copy(this.freeGroup, (k) => new Int32Array(k));
    this.groupMin = copy(this.groupMin, (k) => new Int32Array(k));
    this.groupMax = copy(this.groupMax, (k) => new Int32Array(k));
    this.present = copy(this.present, (k) => new Uint8Array(k));
    this.size = cap;
  }
}
