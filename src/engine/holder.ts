import type { Database } from '../store/sql.js';
import { dataGeneration } from '../store/db.js';
import { ResourceReader } from '../store/resource-reader.js';
import { AreaStore } from '../store/areas.js';
import { CalendarStore, type CalendarYearRow } from '../store/calendar.js';
import type { Calendar } from '../calendar/calendar.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import { HoursParses, Snapshot } from './snapshot.js';
import { serviceCalendar } from './calendar.js';

/**
 * Holds the current snapshot and replaces it after writes. Readers take `current` once per request and
 * keep using that object, so a swap never shows them half of one; the old snapshot is collected when the
 * last request holding it ends. Rebuilds are serialised: a rebuild asked for while one runs joins the next.
 */
export class SnapshotHolder {
  private snap: Snapshot | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly reader: ResourceReader;
  private readonly areaStore: AreaStore;
  private readonly calendarStore: CalendarStore;
  private readonly parses = new HoursParses();
  /** The calendar of the last build, and the stored years it was made of (reused while they stay the same). */
  private calendar: { key: string; calendar: Calendar } | null = null;
  private readonly listeners: ((s: Snapshot) => void)[] = [];
  private building: Promise<Snapshot> | null = null;
  private again: Promise<Snapshot> | null = null;

  constructor(private readonly db: Database, private readonly tax: Taxonomy) {
    this.reader = new ResourceReader(db);
    this.areaStore = new AreaStore(db);
    this.calendarStore = new CalendarStore(db);
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

  /**
   * Builds a snapshot of the store as of now and swaps it in. A call while a build runs waits for a
   * build that starts after it (so it sees every write committed before the call).
   */
  rebuild(): Promise<Snapshot> {
    if (!this.building) {
      this.building = this.build().finally(() => {
        this.building = null;
      });
      return this.building;
    }
    if (!this.again) {
      this.again = this.building.catch(() => undefined).then(() => {
        this.again = null;
        return this.rebuild();
      });
    }
    return this.again;
  }

  /** Rebuilds when another connection or process has committed a write batch since the last build. */
  async refreshIfChanged(): Promise<boolean> {
    if (this.snap && (await dataGeneration(this.db)) === this.snap.generation) return false;
    await this.rebuild();
    return true;
  }

  /** Checks for writes by other processes (a CLI import) every `ms`; `stop()` ends it. */
  poll(ms: number, onError: (e: unknown) => void): void {
    if (ms <= 0) return;
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      this.refreshIfChanged().catch(onError).finally(() => {
        running = false;
      });
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async build(): Promise<Snapshot> {
    // Areas and calendar years change rarely and every change bumps the generation: read them first, and
    // scan again if the generation moved in between, so the snapshot's areas, calendar and resources are of
    // one state.
    for (;;) {
      const before = await dataGeneration(this.db);
      const areas = await this.areaStore.list();
      const years = await this.calendarStore.list();
      const scan = await this.reader.scan();
      if (scan.generation !== before) continue;
      const next = new Snapshot(scan.generation, this.tax, areas, scan, this.reader, this.calendarOf(years), this.parses);
      this.snap = next;
      for (const l of this.listeners) l(next);
      return next;
    }
  }

  /** The calendar of these stored years: the last one when they have not changed (hours stay bound to it). */
  private calendarOf(years: readonly CalendarYearRow[]): Calendar {
    const key = JSON.stringify(years.map((y) => [y.year, y.file]));
    if (this.calendar?.key !== key) this.calendar = { key, calendar: serviceCalendar(years) };
    return this.calendar.calendar;
  }
}
