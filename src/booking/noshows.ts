import type { Logger } from '../log.js';
import type { Database } from '../store/sql.js';
import { serializeOn } from '../store/db.js';
import type { BookingStore } from '../store/bookings.js';
import type { SlotStore } from '../store/slots.js';
import type { LimitStore } from '../store/limits.js';
import type { RuleBook } from './policy.js';
import type { Waitlist } from './waitlist.js';

const DAY_MS = 86_400_000;
/** Slots that ended this long ago at most are looked at (a server down for a while catches up), in ms. */
const LOOKBACK_MS = 30 * DAY_MS;
/** How often the server runs the job, in ms. */
export const NO_SHOW_EVERY_MS = 60_000;

/**
 * No-shows and bans. Once a slot has ended, the confirmed bookings not checked in at a resource with rules
 * of its own become `no_show` (one conditional UPDATE: idempotent, and safe with several workers, since
 * only the process that marks a booking counts it). A visitor (by ID hash) or a contact phone with
 * `no_show.limit` no-shows whose slots ended within `within_days` is banned there for `ban_days` from the
 * end of the slot that made the limit. The job also expires waitlist entries past their cut-off.
 */
export class NoShows {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: {
    db: Database; slots: SlotStore; rows: BookingStore; limits: LimitStore; rules: RuleBook; waitlist: Waitlist; clock: () => number; log?: Logger;
  }) {}

  /** Marks the no-shows of slots ended by now and bans who reached the limit; returns how many were marked. */
  async run(): Promise<number> {
    const { db, slots, rows, limits, rules, waitlist, clock } = this.deps;
    const now = clock();
    await rules.refresh();
    const marked = await db.tx(async (t) => {
      // One run at a time across processes: a run counts a phone's no-shows, and must see those another
      // run marked (READ COMMITTED shows only what committed).
      await serializeOn(t, 'no_show_job');
      const done = await rows.markNoShows(t, now - LOOKBACK_MS, now);
      for (const b of done) {
        const slot = (await slots.slot(b.slot_id, t))!;
        const noShow = rules.current(slot.resource_id).noShow;
        if (!noShow) continue;
        const from = slot.end_ms - noShow.withinDays * DAY_MS;
        const until = slot.end_ms + noShow.banDays * DAY_MS;
        if ((await limits.phoneNoShows(t, slot.resource_id, b.phone_hmac, from, slot.end_ms)) >= noShow.limit) {
          await limits.ban(t, slot.resource_id, b.phone_hmac, until);
        }
        for (const visitor of await rows.visitorsOf(t, b.id)) {
          if ((await limits.visitorNoShows(t, slot.resource_id, visitor, from, slot.end_ms)) >= noShow.limit) await limits.ban(t, slot.resource_id, visitor, until);
        }
      }
      return done.length;
    });
    if (marked) this.deps.log?.info({ no_shows: marked }, 'no-shows marked');
    await waitlist.expire(now);
    return marked;
  }

  /** Runs the job every `everyMs` in the background (the timer does not keep the process alive). */
  every(everyMs: number = NO_SHOW_EVERY_MS): void {
    this.stop();
    this.timer = setInterval(() => {
      this.run().catch((err: unknown) => this.deps.log?.warn({ err }, 'the no-show job failed; it runs again in a minute'));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
