import type { Db } from '../store/db.js';
import { dataGeneration } from '../store/db.js';
import { ResourceReader } from '../store/resources.js';
import { AreaStore } from '../store/areas.js';
import { AreaIndex } from '../geo/areas.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import { Snapshot } from './snapshot.js';

/**
 * Holds the current snapshot and replaces it after writes. Readers take `current` once per request and
 * keep using that object, so a swap never shows them half of one; the old snapshot is collected when the
 * last request holding it ends.
 */
export class SnapshotHolder {
  private snap: Snapshot | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly reader: ResourceReader;
  private readonly areaStore: AreaStore;
  private readonly listeners: ((s: Snapshot) => void)[] = [];

  constructor(private readonly db: Db, private readonly tax: Taxonomy) {
    this.reader = new ResourceReader(db);
    this.areaStore = new AreaStore(db);
  }

  /** The snapshot in service; throws before the first build (the HTTP layer answers 503 then). */
  get current(): Snapshot {
    if (!this.snap) throw new Error('no snapshot yet: call rebuild() first');
    return this.snap;
  }

  get ready(): boolean {
    return this.snap !== null;
  }

  /** Calls `listener` after every swap, with the new snapshot. */
  onSwap(listener: (s: Snapshot) => void): void {
    this.listeners.push(listener);
  }

  /** Builds a snapshot of the store as of now (inside one read transaction) and swaps it in. */
  rebuild(): Snapshot {
    const next = this.db.transaction(() => {
      const generation = dataGeneration(this.db);
      return new Snapshot(generation, this.tax, new AreaIndex(this.areaStore.list()), this.reader);
    })();
    this.snap = next;
    for (const l of this.listeners) l(next);
    return next;
  }

  /** Rebuilds when another connection or process has committed a write batch since the last build. */
  refreshIfChanged(): boolean {
    if (this.snap && dataGeneration(this.db) === this.snap.generation) return false;
    this.rebuild();
    return true;
  }

  /** Checks for writes by other processes (a CLI import) every `ms`; `stop()` ends it. */
  poll(ms: number, onError: (e: unknown) => void): void {
    if (ms <= 0) return;
    this.timer = setInterval(() => {
      try {
        this.refreshIfChanged();
      } catch (e) {
        onError(e);
      }
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
