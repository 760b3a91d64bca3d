import type pg from 'pg';
import type { Database } from './sql.js';
import { CHANGES_CHANNEL } from './db.js';
import { PostgresDatabase } from './postgres.js';

/** The application_name of the listening connection in pg_stat_activity. */
export const LISTENER_NAME = 'edumap-listen';

/** The counters that tell a process its copies are stale: the data generation (snapshots) and the slot-change counter (availability). */
export interface Counters {
  generation: number;
  slots: number;
}

/** A running watch; `stop()` ends it (and its connection). */
export interface Watch {
  /** The counters as last seen (undefined until the first reading). */
  readonly last: Counters | undefined;
  /** Times the listening connection was lost and made again (PostgreSQL). */
  readonly reconnects: number;
  stop(): Promise<void>;
}

/** Settings of `watch`; every one has a default. */
export interface WatchOptions {
  /** The counters the caller's copies were built from: a move past them is reported at once. Default: the first reading. */
  since?: Counters;
  /**
   * How often the counters are read anyway, in ms: on SQLite the only signal; on PostgreSQL the net under
   * lost notifications (while disconnected; behind PgBouncer in transaction mode, which passes none).
   * Default 1000 on SQLite, 5000 on PostgreSQL.
   */
  checkMs?: number;
  /** First and longest wait before connecting the listener again, in ms (doubling in between). */
  backoffMs?: readonly [number, number];
  /** Told of every failure (a lost connection, a failed reading); the watch goes on. */
  onError?: (e: unknown) => void;
}

/**
 * Watches for writes committed by any process: calls `onChange(now, before)` whenever the data generation
 * or the slot-change counter moved. On PostgreSQL a dedicated connection LISTENs on the channel writers
 * NOTIFY in the transaction that moves a counter (`db.ts` `notifyChange`), and the counters are compared
 * on every (re)connection and every `checkMs`, since a notification sent while the listener was away is
 * lost; the listener reconnects with backoff. On SQLite the counters are read every `checkMs`. Callbacks
 * never overlap and see counters that only grow.
 */
export function watch(db: Database, onChange: (now: Counters, before: Counters) => void, options: WatchOptions = {}): Watch {
  return new Watcher(db, onChange, options);
}

/** Reads both counters in one statement. */
export async function readCounters(db: Pick<Database, 'all'>): Promise<Counters> {
  const rows = await db.all<{ key: string; value: string }>("SELECT key, value FROM meta WHERE key IN ('generation', 'slot_seq')");
  const of = (key: string) => Number(rows.find((r) => r.key === key)?.value ?? 0);
  return { generation: of('generation'), slots: of('slot_seq') };
}

class Watcher implements Watch {
  last: Counters | undefined;
  reconnects = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private client: pg.Client | undefined;
  private backoff: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly db: Database, private readonly onChange: (now: Counters, before: Counters) => void,
    private readonly options: WatchOptions) {
    this.last = options.since;
    this.backoff = this.backoffRange[0];
    const pgDb = db instanceof PostgresDatabase ? db : undefined;
    this.timer = setInterval(() => this.check(() => readCounters(db)), options.checkMs ?? (pgDb ? 5000 : 1000));
    this.timer.unref();
    if (pgDb) this.listen(pgDb);
    else this.check(() => readCounters(db));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    await this.queue;
  }

  private get backoffRange(): readonly [number, number] {
    return this.options.backoffMs ?? [250, 10_000];
  }

  /** Connects the listener, LISTENs, then reads the counters on that connection (nothing committed in between is missed). */
  private listen(db: PostgresDatabase): void {
    if (this.stopped) return;
    const client = db.dedicatedClient(LISTENER_NAME);
    this.client = client;
    let lost = false;
    const onLost = (e: unknown) => {
      if (lost || this.client !== client) return;
      lost = true;
      this.client = undefined;
      if (e !== undefined) this.options.onError?.(e);
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.retry = setTimeout(() => {
        this.reconnects++;
        this.listen(db);
      }, this.backoff);
      this.backoff = Math.min(this.backoff * 2, this.backoffRange[1]);
    };
    client.on('error', onLost);
    client.on('end', () => onLost(undefined));
    client.on('notification', (n) => {
      const [counter, value] = (n.payload ?? '').split(':');
      const moved = Number(value);
      if (!this.last || !Number.isFinite(moved)) return this.check(() => readCounters(db));
      if (counter === 'generation' && moved > this.last.generation) this.report({ ...this.last, generation: moved });
      else if (counter === 'slots' && moved > this.last.slots) this.report({ ...this.last, slots: moved });
    });
    client.connect()
      .then(() => client.query(`LISTEN ${CHANGES_CHANNEL}`))
      .then(() => {
        this.backoff = this.backoffRange[0];
        this.check(async () => readCounters({ all: async <T>(sql: string) => (await client.query(sql)).rows as T[] }));
      })
      .catch(onLost);
  }

  /** Reads the counters (one reading at a time) and reports a move. */
  private check(read: () => Promise<Counters>): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        this.report(await read());
      } catch (e) {
        this.options.onError?.(e);
      }
    });
  }

  /** Calls back when `now` is past what was last seen; the first reading without `since` only sets the baseline. */
  private report(now: Counters): void {
    const before = this.last;
    if (!before) {
      this.last = now;
      return;
    }
    const next = { generation: Math.max(before.generation, now.generation), slots: Math.max(before.slots, now.slots) };
    if (next.generation === before.generation && next.slots === before.slots) return;
    this.last = next;
    if (!this.stopped) this.onChange(next, before);
  }
}
