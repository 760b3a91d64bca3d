import type { Database } from '../store/sql.js';
import { dataGeneration, storeHead } from '../store/db.js';
import { ResourceReader, type ChangedRows } from '../store/resource-reader.js';
import { AreaStore } from '../store/areas.js';
import { CalendarStore, type CalendarYearRow } from '../store/calendar.js';
import type { Calendar } from '../calendar/calendar.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import { AreaIndex } from '../geo/areas.js';
import { HoursParses, Snapshot, type SnapshotContext } from './snapshot.js';
import { serviceCalendar } from './calendar.js';
import { vocabulary, type Vocabulary } from './parts.js';
import { changesOver, foldLimit, type FoldResult } from './fold.js';
import { PartsBuilder, type BuildMode } from './builder.js';
import { RecordCache, warmRecords } from './records.js';
import { HierarchyCache } from './hierarchy-cache.js';
import { View } from './view.js';
import type { Logger } from '../log.js';
import { removeStaleTemporaries } from './saved.js';
import { prepareClusters } from './clusters.js';

/** How the holder builds: where full builds run, and how soon an overlay is folded into a new base. */
export interface HolderOptions {
  build?: BuildMode;
  /** Ms after the first write on a base before a new base is built in the background (0: at once). */
  foldDelayMs?: number;
  /** Versions written since the base beyond which a write is indexed by a full build, not an overlay. */
  overlayMax?: number;
  /** Bytes of rendered records kept across snapshots (0: none; see `RecordCache`). */
  recordCacheBytes?: number;
  /** Bytes of the map's cluster hierarchies kept across snapshots (0: none; see `HierarchyCache`). */
  clusterCacheBytes?: number;
  /**
   * Where the base is saved, so that a restart folds the changes since into it instead of scanning the
   * store (see `saved.ts`); none: every start scans.
   */
  savedFile?: string | null;
  /** Ms between saves of a new base (the first base is saved at once). */
  saveEveryMs?: number;
  /** False: `savedFile` is only loaded, another process saves it (the workers of `WORKERS=N`). */
  save?: boolean;
  /** Where a refused saved file or a failed save is told. */
  log?: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Holds the view of the store that queries read, and moves it forward after writes. A write batch is
 * indexed at once as a small overlay on the current base snapshot (its rows read and indexed on the main
 * thread: milliseconds for a few thousand rows); a new base with everything folded in is built in the
 * background — in a worker thread for a large store, from the old base and the changed rows — and swapped
 * in when ready. Batches too large for an overlay are folded at once the same way (a full scan when most of
 * the store changed); areas or calendar changes get a full build. The old view keeps answering meanwhile.
 *
 * The base is saved to `savedFile` (at start, then at most every `saveEveryMs`), and the first build of
 * a holder loads it and folds in the changes since, where it would otherwise scan the store.
 *
 * Readers take `current` once per request and keep using that object, so a swap never shows them half of
 * one. Updates are serialised: one asked for while one runs joins the next, which sees every write
 * committed before it was asked for.
 */
export class SnapshotHolder {
  private view: View | null = null;
  private timer: NodeJS.Timeout | null = null;
  private foldTimer: NodeJS.Timeout | null = null;
  private folding: Promise<void> | null = null;
  /** A new base built in the background for the view whose base is `from`, waiting for the next update. */
  private folded: { from: Snapshot; base: Snapshot } | null = null;
  private stopped = false;
  private readonly reader: ResourceReader;
  private readonly areaStore: AreaStore;
  private readonly calendarStore: CalendarStore;
  private readonly builder: PartsBuilder;
  private readonly parses = new HoursParses();
  readonly records: RecordCache;
  private warming: Promise<void> | null = null;
  /** The last base, and the last view, whose records were all read into `records` (see `warm`). */
  private warmBase: Snapshot | null = null;
  private warmView: View | null = null;
  /** The map's cluster hierarchies of this holder's snapshots. */
  readonly clusterCache: HierarchyCache;
  /** The calendar of the last build, and the stored years it was made of (reused while they stay the same). */
  private calendar: { key: string; calendar: Calendar } | null = null;
  private readonly listeners: ((v: View) => void)[] = [];
  private updating: Promise<View> | null = null;
  private again: Promise<View> | null = null;
  private readonly foldDelayMs: number;
  private readonly overlayMax: number;
  private readonly savedFile: string | null;
  private readonly saveEveryMs: number;
  private saveTimer: NodeJS.Timeout | null = null;
  private saving: Promise<void> | null = null;
  /** The last base saved (or loaded unchanged), and when that save ended. */
  private savedBase: Snapshot | null = null;
  private savedAt = 0;
  /** How views were made (`loaded`: from the saved file), and bases saved, for metrics and tests. */
  readonly stats = { full: 0, overlay: 0, folds: 0, loaded: 0, saved: 0 };
  /** Why the saved file was not used at start (null: it was, or none is configured). */
  loadRefused: string | null = null;

  constructor(private readonly db: Database, private readonly tax: Taxonomy, private readonly options: HolderOptions = {}) {
    this.reader = new ResourceReader(db);
    this.areaStore = new AreaStore(db);
    this.calendarStore = new CalendarStore(db);
    this.builder = new PartsBuilder(db, options.build ?? 'auto');
    this.records = new RecordCache(options.recordCacheBytes);
    this.clusterCache = new HierarchyCache(options.clusterCacheBytes);
    this.foldDelayMs = options.foldDelayMs ?? 2000;
    // An overlay is read and indexed on the main thread: ~35 µs a row on this machine, so 2,000 rows stay
    // under 100 ms; a larger change is folded into the base in the worker (a second at 1M; nothing waits).
    this.overlayMax = options.overlayMax ?? 2_000;
    this.savedFile = options.savedFile ?? null;
    this.saveEveryMs = options.saveEveryMs ?? 600_000;
  }

  /** The view in service; throws before the first build (the HTTP layer answers 503 then). */
  get current(): View {
    if (!this.view) throw new Error('no snapshot yet: call rebuild() first');
    return this.view;
  }

  get ready(): boolean {
    return this.view !== null;
  }

  /** Whether the records of every resource of the view in service are in the record cache. */
  get recordsWarm(): boolean {
    return this.view !== null && this.warmView === this.view;
  }

  /** Waits for the record cache's warm-up in flight, if any (tests, benchmarks). */
  async recordsWarmed(): Promise<void> {
    while (this.warming) await this.warming;
  }

  /** Calls `listener` after every swap, with the new view. */
  onSwap(listener: (v: View) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Brings the view up to date with the store and resolves with it: an overlay when only resources were
   * written since the base, else a full build. A call while an update runs waits for one that starts after
   * it (so it sees every write committed before the call).
   */
  rebuild(): Promise<View> {
    return this.serially(() => this.update());
  }

  /** Updates when another connection or process has committed a write since the view was made. */
  async refreshIfChanged(): Promise<boolean> {
    if (this.view && (await dataGeneration(this.db)) === this.view.generation) return false;
    await this.rebuild();
    return true;
  }

  /** Checks for writes by other processes (a CLI import, another server) every `ms`; `stop()` ends it. */
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

  /** Stops polling and background builds, and the build worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.foldTimer) clearTimeout(this.foldTimer);
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.timer = this.foldTimer = this.saveTimer = null;
    await this.saving; // a save cut off would leave its temporary file behind
    await this.warming;
    await this.builder.close();
    await this.folding?.catch(() => undefined);
  }

  /** Waits for a background fold in flight, if any (tests, benchmarks). */
  async settled(): Promise<void> {
    while (this.folding || this.foldTimer) {
      if (this.foldTimer) {
        clearTimeout(this.foldTimer);
        this.foldTimer = null;
        this.fold();
      }
      await this.folding;
    }
  }

  /** Saves the base in service now, unless it is saved already (tests, benchmarks; a shutdown need not). */
  async saveNow(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await this.saving;
    this.save();
    await this.saving;
  }

  private serially(step: () => Promise<View>): Promise<View> {
    if (!this.updating) {
      this.updating = step().finally(() => {
        this.updating = null;
      });
      return this.updating;
    }
    if (!this.again) {
      this.again = this.updating.catch(() => undefined).then(() => {
        this.again = null;
        return this.serially(step);
      });
    }
    return this.again;
  }

  private async update(): Promise<View> {
    const folded = this.folded;
    this.folded = null;
    try {
      return await this.advance(folded);
    } finally {
      // A folded base that did not go into service lets its prepared hierarchies go with it.
      if (folded && this.view?.base !== folded.base) this.clusterCache.retire(folded.base);
    }
  }

  private async advance(folded: { from: Snapshot; base: Snapshot } | null): Promise<View> {
    const view = this.view;
    if (view) {
      const fresh = folded && folded.from === view.base && folded.base.structure === view.base.structure;
      const base = fresh ? folded.base : view.base;
      const head = await storeHead(this.db);
      if (head.generation === view.generation && base === view.base) return view;
      if (head.structure === base.structure) {
        const changed = await this.reader.changedSince(base.publishedSeq, this.overlayMax);
        if (changed && changed.head.structure === base.structure) {
          const next = await overlaid(base, changed);
          this.stats[fresh ? 'folds' : 'overlay']++;
          this.install(next);
          if (next.overlay || next.shadow) this.scheduleFold();
          return next;
        }
        if (!changed) {
          // Too many changes for an overlay on this thread: folded into the base in the builder (a scan
          // there when most of the store changed), and swapped in whole.
          const { parts, how } = await this.builder.fold(base.parts, base.ctx.vocab, this.maxChanged(base));
          if (parts.structure === base.structure) {
            const next = new View(new Snapshot(parts, base.ctx));
            this.stats[how === 'fold' ? 'folds' : 'full']++;
            this.install(next);
            return next;
          }
        }
      }
    }
    const { base, loaded, asSaved } = await this.fullBase();
    const next = new View(base);
    this.stats[loaded ? 'loaded' : 'full']++;
    if (asSaved) {
      this.savedBase = base; // the file holds this base already: not written again
      this.savedAt = Date.now();
    }
    this.install(next);
    return next;
  }

  /**
   * A new base of the whole store, with areas and calendar of the same state: at start, the saved base
   * folded forward when there is one (`loaded`; `asSaved` when nothing was folded in), else a scan.
   */
  private async fullBase(): Promise<{ base: Snapshot; loaded: boolean; asSaved: boolean }> {
    // Areas and calendar years change rarely, and every change bumps the structure counter: read them
    // first, and again if the scan saw another counter, so the base's areas, calendar and resources are of
    // one state.
    for (;;) {
      const { structure } = await storeHead(this.db);
      const areas = new AreaIndex(await this.areaStore.list());
      const years = await this.calendarStore.list();
      const vocab = vocabulary(this.tax, areas.list('district').map((a) => a.id));
      const saved = this.view ? null : await this.fromSaved(vocab);
      const parts = saved?.loaded.parts ?? await this.builder.build(vocab, this.view?.size);
      if (parts.structure !== structure) continue;
      if (this.view && this.view.base.structure !== structure) this.records.clear();
      const ctx: SnapshotContext = { tax: this.tax, areas, vocab, reader: this.reader, records: this.records,
        calendar: this.calendarOf(years), parses: this.parses, hierarchies: (input) => this.builder.hierarchy(input),
        clusterCache: this.clusterCache };
      const loaded = saved?.loaded.how === 'fold';
      return { base: new Snapshot(parts, ctx), loaded, asSaved: loaded && parts.publishedSeq === saved!.savedSeq };
    }
  }

  /**
   * At start: the saved base folded forward to the store's head (a scan, with more than half the store
   * changed since), or null: no file, or refused (told in the log and `loadRefused`), and the caller scans.
   */
  private async fromSaved(vocab: Vocabulary): Promise<{ loaded: FoldResult; savedSeq: number } | null> {
    if (!this.savedFile) return null;
    removeStaleTemporaries(this.savedFile);
    const started = performance.now();
    try {
      const result = await this.builder.load(this.savedFile, vocab, this.overlayMax);
      if ('refused' in result) {
        this.loadRefused = result.refused;
        this.options.log?.info({ file: this.savedFile, reason: result.refused }, 'saved snapshot not used: scanning the store');
        return null;
      }
      const { parts, how } = result.loaded;
      const ms = Math.round(performance.now() - started);
      if (how === 'scan') {
        this.loadRefused = 'more than half the store changed since it was saved';
        this.options.log?.info({ file: this.savedFile, reason: this.loadRefused, ms }, 'saved snapshot not used: the store was scanned');
      } else {
        this.loadRefused = null;
        this.options.log?.info({ file: this.savedFile, ms, savedAt: result.savedSeq, publishedSeq: parts.publishedSeq }, 'snapshot loaded from the saved base');
      }
      return result;
    } catch (e) {
      this.loadRefused = e instanceof Error ? e.message : String(e);
      this.options.log?.warn({ err: e, file: this.savedFile }, 'saved snapshot could not be read: scanning the store');
      return null;
    }
  }

  /** Saves the base in service after `saveEveryMs` since the last save (at once for the first). */
  private scheduleSave(): void {
    if (!this.savedFile || this.options.save === false || this.saveTimer || this.stopped) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, Math.max(0, this.savedAt + this.saveEveryMs - Date.now()));
    this.saveTimer.unref();
  }

  /** Saves the base in service in the builder (off the main thread for a large store), one save at a time. */
  private save(): void {
    const base = this.view?.base;
    // A save in flight is followed by another when it ends, if the base moved on meanwhile.
    if (!this.savedFile || this.options.save === false || !base || this.stopped || this.saving || base === this.savedBase) return;
    const file = this.savedFile;
    this.saving = this.builder.save(file, base.parts, base.ctx.vocab).then(({ bytes, ms }) => {
      this.savedBase = base;
      this.stats.saved++;
      this.options.log?.info({ file, bytes, ms: Math.round(ms), publishedSeq: base.publishedSeq }, 'snapshot base saved');
    }, (e: unknown) => {
      this.options.log?.warn({ err: e, file }, 'snapshot base could not be saved; the next start scans the store');
    }).finally(() => {
      this.saving = null;
      this.savedAt = Date.now();
      if (this.view && this.view.base !== this.savedBase) this.scheduleSave();
    });
  }

  private scheduleFold(): void {
    if (this.foldTimer || this.folding || this.stopped) return;
    this.foldTimer = setTimeout(() => {
      this.foldTimer = null;
      this.fold();
    }, this.foldDelayMs);
    this.foldTimer.unref();
  }

  /**
   * Folds the overlay into a new base in the background (in the builder: the base and the rows written
   * since, no scan), then has the next update swap it in with an overlay of whatever was written while it
   * was built. A full build, another fold or a structure change meanwhile makes it moot.
   */
  private fold(): void {
    const from = this.view?.base;
    if (!from || this.stopped) return;
    this.folding = (async () => {
      const { parts } = await this.builder.fold(from.parts, from.ctx.vocab, this.maxChanged(from));
      const base = new Snapshot(parts, from.ctx);
      // The map's hierarchies first: swapped in without them, the next map request would wait for a build.
      await prepareClusters(base, from, { ahead: true });
      this.folded = { from, base };
      await this.rebuild();
    })().catch(() => undefined).finally(() => {
      this.folding = null;
    });
  }

  /** Versions changed since `base` beyond which a new scan is cheaper than a fold (see `foldLimit`). */
  private maxChanged(base: Snapshot): number {
    return foldLimit(base.size, this.overlayMax);
  }

  private install(next: View): void {
    const previous = this.view;
    const old = previous?.base;
    const newBase = next.base !== old;
    this.view = next;
    if (newBase) this.scheduleSave();
    if (newBase && old) void prepareClusters(next.base, old); // ready already when a background fold made it
    // The map's hierarchies of what left service go now (what to prepare above was read first); then those
    // prepared for the new base count against the budget.
    if (newBase && old) this.clusterCache.retire(old);
    if (previous?.overlay && previous.overlay !== next.overlay) this.clusterCache.retire(previous.overlay);
    this.clusterCache.inService(next.base);
    this.warm();
    for (const l of this.listeners) l(next);
  }

  /**
   * Reads the records of the view in service (base and overlay) into the record cache, in the background
   * on the event loop (256 at a time, ≈ 40,000 a second here), so that answers read none from the store; a
   * view swapped in meanwhile is warmed next (only what it adds is read). Stops when the cache is full.
   */
  private warm(): void {
    if (this.warming || this.stopped || this.options.recordCacheBytes === 0) return;
    const read = (seqs: number[]) => this.reader.docs(seqs);
    const inService = (snap: Snapshot) => !this.stopped && this.view !== null && this.view.parts.some((p) => p.snap === snap);
    this.warming = (async () => {
      for (let view = this.view; view && view !== this.warmView && !this.stopped; view = this.view) {
        let all = true;
        for (const { snap } of view.parts) {
          if (snap === this.warmBase) continue;
          all = await warmRecords(this.records, snap, read, () => !inService(snap));
          if (!all) break;
          if (snap === view.base) this.warmBase = snap;
        }
        if (all && this.view === view) this.warmView = view;
        if (this.records.full) break;
      }
    })().catch((e: unknown) => {
      this.options.log?.warn({ err: e }, 'records could not be read into the cache; answers read them from the store');
    }).finally(() => {
      this.warming = null;
    });
  }

  /** The calendar of these stored years: the last one when they have not changed (hours stay bound to it). */
  private calendarOf(years: readonly CalendarYearRow[]): Calendar {
    const key = JSON.stringify(years.map((y) => [y.year, y.file]));
    if (this.calendar?.key !== key) this.calendar = { key, calendar: serviceCalendar(years) };
    return this.calendar.calendar;
  }
}

/** The view of `base` with the rows written after it: the newest version of each as an overlay, the base's hidden. */
async function overlaid(base: Snapshot, changed: ChangedRows): Promise<View> {
  if (!changed.touched.length) return new View(base, null, null, changed.head.generation);
  const { overlay, hidden } = changesOver(base.parts, changed, base.ctx.vocab);
  return new View(base, overlay && new Snapshot(overlay, base.ctx), hidden, changed.head.generation);
}
