import type { Database } from './store/sql.js';
import { watch, type Counters, type Watch } from './store/signals.js';
import type { SnapshotHolder } from './engine/holder.js';
import type { Availability } from './booking/availability.js';

/** The copies a process keeps of the store: the snapshot queries read, and the free places of future slots. */
export interface Copies {
  holder: Pick<SnapshotHolder, 'current' | 'refreshIfChanged'>;
  availability: Pick<Availability, 'refresh'>;
}

/** A running `follow`; `stop()` ends it. */
export interface Follower {
  /** The watch underneath (its counters, its reconnections). */
  readonly watch: Watch;
  stop(): Promise<void>;
}

/** First and longest wait before a failed refresh is tried again, in ms (doubling in between). */
const RETRY_MS: readonly [number, number] = [250, 5000];

/**
 * Keeps a process's copies in step with writes committed by any process. `watch` reports a moved data
 * generation (an import, an edit, areas, calendar) or slot-change counter (a booking, a cancellation, a
 * slot added, edited or closed — on any replica); the first refreshes the snapshot, the second the
 * availability index — the same calls a write in this process makes, so every replica learns the same way.
 * A refresh that fails (the database went away just then) is tried again with backoff until it succeeds, so
 * a move the watch reported once is never lost. Queries that test availability still read the counter
 * first (`Availability.refresh`), so a booking answered by one replica holds on the next search anywhere;
 * this keeps that read a lookup, the changed rows read off the request path.
 */
export function follow(db: Database, copies: Copies, options: { checkMs: number; onError: (e: unknown) => void }): Follower {
  const snapshot = new Retried(() => copies.holder.refreshIfChanged(), options.onError);
  const seats = new Retried(() => copies.availability.refresh(), options.onError);
  // From the generation the snapshot was built from, so a write committed since is caught at once; slots
  // from 0, so the index is loaded (off the request path) as soon as any slot exists.
  const since: Counters = { generation: copies.holder.current.generation, slots: 0 };
  const w = watch(db, (now, before) => {
    if (now.generation !== before.generation) snapshot.kick();
    if (now.slots !== before.slots) seats.kick();
  }, { since, checkMs: options.checkMs, onError: options.onError });
  return {
    watch: w,
    async stop() {
      snapshot.stop();
      seats.stop();
      await w.stop();
      await Promise.all([snapshot.idle(), seats.idle()]);
    },
  };
}

/** A refresh run one at a time; a kick while it runs runs it once more after; a failure retries with backoff. */
class Retried {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly step: () => Promise<unknown>, private readonly onError: (e: unknown) => void) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  async idle(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    let wait = RETRY_MS[0];
    do {
      this.again = false;
      try {
        await this.step();
      } catch (e) {
        this.onError(e);
        if (this.stopped) return;
        this.again = true;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, wait);
          this.timer.unref();
        });
        this.wake = undefined;
        wait = Math.min(wait * 2, RETRY_MS[1]);
      }
    } while (this.again && !this.stopped);
  }
}
