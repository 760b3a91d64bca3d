import { bulkGap, type Database } from '../store/sql.js';
import { BatchStore } from '../store/batches.js';
import { purgeVersions } from '../store/resource-purge.js';
import { formatShanghai } from '../time.js';
import type { Logger } from '../log.js';

/** Versions retired longer ago than this (and tombstones older than this) are deleted, in ms. */
export const DEFAULT_RETENTION_MS = 2 * 3_600_000;
/** Rows per short transaction of the background work (at 1M, 5,000 rows of a fold held the loop 60–80 ms). */
const CHUNK = 1000;

/**
 * The background work that keeps the versioned store tidy, in short transactions so nothing waits on it:
 * abandoned imports are aborted; published batches are folded in publish order (the versions they replaced
 * marked retired); aborted batches' rows deleted; versions retired longer than the retention, and old
 * tombstones, purged (moving the change feed's horizon). Every step is idempotent, so several processes may
 * run it at once, and a crash in the middle is finished by the next run.
 */
export class Maintenance {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly batches: BatchStore;

  constructor(private readonly db: Database, private readonly options: { retentionMs?: number; clock?: () => number; log?: Logger } = {}) {
    this.batches = new BatchStore(db);
  }

  /** Runs every step until nothing is left to do. */
  async run(): Promise<void> {
    const clock = this.options.clock ?? Date.now;
    const at = () => formatShanghai(new Date(clock()));
    await this.db.tx((t) => this.batches.abortAbandoned(t, clock()));
    for (const batch of await this.batches.unfolded()) {
      for (let after = 0; ;) {
        const last = await this.db.tx((t) => this.batches.foldChunk(t, batch, after, CHUNK, at()));
        if (last === undefined) break;
        after = last;
        await bulkGap(this.db);
      }
    }
    while ((await this.db.tx((t) => this.batches.cleanChunk(t, CHUNK))) > 0) await bulkGap(this.db);
    const before = formatShanghai(new Date(clock() - (this.options.retentionMs ?? DEFAULT_RETENTION_MS)));
    while ((await this.db.tx((t) => purgeVersions(t, before, CHUNK))) > 0) await bulkGap(this.db);
  }

  /** Runs in the background soon (once, however often it is asked while running); errors are logged. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().catch((err: unknown) => this.options.log?.warn({ err }, 'store maintenance failed; it runs again later'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when the background run (if any) is done. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Kicks every `ms` (0: never); `stop()` ends it. */
  every(ms: number): void {
    if (ms <= 0) return;
    this.timer = setInterval(() => this.kick(), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
