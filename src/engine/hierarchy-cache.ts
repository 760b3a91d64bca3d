import type { Markers } from './hierarchy.js';
import type { SearchQuery } from './search.js';
import type { Snapshot } from './snapshot.js';

/** Why a hierarchy is outside the budget (see `Entry.exempt`). */
export type Exempt = 'prepared' | 'overlay';

/** One filter set's hierarchy over one snapshot: built, or being built. */
interface Entry {
  filters: SearchQuery;
  built: Promise<Markers>;
  /** Bytes of its arrays once built (0 while building). */
  bytes: number;
  /**
   * Not counted against the budget, nor evicted: `prepared`, built ahead for a base not in service yet
   * (until `HierarchyCache.inService`); `overlay`, of an overlay (small, and let go with it).
   */
  exempt: Exempt | null;
  /** The snapshot's entries, by filter key, that hold this one. */
  owner: Map<string, Entry>;
  key: string;
}

/**
 * The map's cluster hierarchies, by snapshot and filter set, least recently used out once they hold more
 * than `maxBytes` (a hierarchy of a million resources holds tens of MB: a count alone would not bound the
 * memory). Shared by every snapshot of one holder:
 * - a hierarchy built ahead for a base that is not in service yet (prepared during a fold, so that the
 *   swap brings it along) is neither counted nor evicted until `inService`, so that preparing it never
 *   evicts what the base in service is answering with; for those seconds both are held;
 * - an overlay's hierarchy is not counted either: it is small (an overlay holds at most a few thousand
 *   resources) and is answered with its base's, which it must not evict;
 * - `retire` lets a snapshot's hierarchies go when the snapshot leaves service (a new base, a new overlay):
 *   they would otherwise wait for eviction, holding the budget and the old snapshot with them;
 * - the most recently used hierarchy (a build counts as used when it is done) is kept even when it alone
 *   exceeds the budget (every request would build it again otherwise), unless the budget is 0: nothing
 *   is then kept.
 */
export class HierarchyCache {
  /** Every entry, least recently used first. */
  private readonly lru = new Set<Entry>();
  private readonly bySnap = new WeakMap<Snapshot, Map<string, Entry>>();
  private readonly retired = new WeakSet<Snapshot>();
  /** Bytes of the built entries that are not exempt (what `maxBytes` bounds). */
  private counted = 0;
  /** Bytes of the exempt ones. */
  private exemptBytes = 0;
  evictions = 0;

  /**
   * @param maxBytes the budget; the default holds the hierarchy of a million resources (59 MB) and those of
   * two domains, or dozens of a city's real places.
   */
  constructor(readonly maxBytes = 160_000_000) {}

  /** The hierarchy of `filters` (keyed `key`) over `snap`, touched as the most recent; undefined when not held. */
  get(snap: Snapshot, key: string): Promise<Markers> | undefined {
    const entry = this.bySnap.get(snap)?.get(key);
    if (!entry) return undefined;
    this.lru.delete(entry);
    this.lru.add(entry);
    return entry.built;
  }

  /**
   * Holds `built` as the hierarchy of `filters` over `snap` (a retired snapshot's is not held); counted
   * once it is built, dropped if it fails.
   */
  add(snap: Snapshot, key: string, filters: SearchQuery, built: Promise<Markers>, exempt: Exempt | null = null): void {
    if (this.retired.has(snap)) return;
    let owner = this.bySnap.get(snap);
    if (!owner) this.bySnap.set(snap, (owner = new Map()));
    const stale = owner.get(key);
    if (stale) this.drop(stale);
    const entry: Entry = { filters, built, bytes: 0, exempt, owner, key };
    owner.set(key, entry);
    this.lru.add(entry);
    built.then((markers) => {
      if (owner.get(key) !== entry) return; // evicted or retired while building
      entry.bytes = markers.bytes;
      if (entry.exempt) this.exemptBytes += entry.bytes;
      else this.counted += entry.bytes;
      // Its waiters are answered with it now: the most recent use.
      this.lru.delete(entry);
      this.lru.add(entry);
      this.evict();
    }, () => {
      if (owner.get(key) === entry) this.drop(entry);
    });
  }

  /** The filter sets of `snap`'s `n` most recently used hierarchies, oldest first. */
  recent(snap: Snapshot, n: number): SearchQuery[] {
    const owner = this.bySnap.get(snap);
    if (!owner) return [];
    return [...this.lru].filter((e) => e.owner === owner).slice(-n).map((e) => e.filters);
  }

  /** `snap` is in service: its prepared hierarchies are counted from now on (and may be evicted). */
  inService(snap: Snapshot): void {
    const owner = this.bySnap.get(snap);
    if (!owner) return;
    for (const entry of owner.values()) {
      if (entry.exempt !== 'prepared') continue;
      entry.exempt = null;
      this.exemptBytes -= entry.bytes;
      this.counted += entry.bytes;
    }
    this.evict();
  }

  /** `snap` has left service: its hierarchies go now, and none is held for it later. */
  retire(snap: Snapshot): void {
    this.retired.add(snap);
    const owner = this.bySnap.get(snap);
    if (!owner) return;
    for (const entry of [...owner.values()]) this.drop(entry);
    this.bySnap.delete(snap);
  }

  /** How many filter sets have a hierarchy over `snap`, built or being built. */
  entriesOf(snap: Snapshot): number {
    return this.bySnap.get(snap)?.size ?? 0;
  }

  /** Bytes of every built hierarchy held, exempt ones included. */
  get bytes(): number {
    return this.counted + this.exemptBytes;
  }

  /** Hierarchies held, built or being built. */
  get size(): number {
    return this.lru.size;
  }

  /**
   * Least recently used out, until the counted bytes fit. The most recently used stays unless the budget
   * is 0: alone over the budget, it would otherwise be built again for every request.
   */
  private evict(): void {
    if (this.counted <= this.maxBytes) return;
    const counted = [...this.lru].filter((e) => !e.exempt && e.bytes > 0);
    const keep = this.maxBytes > 0 ? counted.at(-1) : undefined;
    for (const entry of counted) {
      if (this.counted <= this.maxBytes) return;
      if (entry === keep) continue;
      this.drop(entry);
      this.evictions++;
    }
  }

  private drop(entry: Entry): void {
    if (entry.owner.get(entry.key) === entry) entry.owner.delete(entry.key);
    if (this.lru.delete(entry)) {
      if (entry.exempt) this.exemptBytes -= entry.bytes;
      else this.counted -= entry.bytes;
    }
  }
}
