import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SnapshotHolder } from '../engine/holder.js';
import { routeOf } from './request-log.js';
import type { Waitlist } from '../booking/waitlist.js';
import type { Checkpointer } from '../store/checkpointer.js';

// Process metrics (CPU, memory, event-loop lag, GC) are per process, so one registry serves every app.
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'edumap_' });
  }
  return processRegistry;
}

/** What a booking answer's status means, for `edumap_booking_outcomes_total`. */
function bookingOutcome(status: number): string {
  if (status === 201) return 'confirmed';
  if (status === 409) return 'conflict';
  if (status === 422) return 'idempotency_mismatch';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'error';
  return 'rejected';
}

/**
 * The service's Prometheus metrics: requests by route and status with a latency histogram, the snapshot
 * (size, generation, age), import and booking outcomes, and process metrics. One instance per app.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'edumap_http_requests_total', help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'edumap_http_request_duration_seconds', help: 'Time from request to the end of the answer, by route.',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });
  readonly imports = new Counter({
    name: 'edumap_imports_total', help: 'CSV imports over HTTP, by outcome (applied, dry_run, strict_rejected, failed).',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });
  readonly importRows = new Counter({
    name: 'edumap_import_rows_total', help: 'Rows seen by HTTP imports, by result (inserted, updated, unchanged, rejected).',
    labelNames: ['result'] as const, registers: [this.registry],
  });
  private readonly bookings = new Counter({
    name: 'edumap_booking_outcomes_total', help: 'Answers to POST /v1/bookings, by outcome.',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });

  private readonly waitlist = new Counter({
    name: 'edumap_waitlist_outcomes_total', help: 'Waitlist entries promoted into bookings, passed over by a rule (by reason) and expired, in this process.',
    labelNames: ['outcome', 'reason'] as const, registers: [this.registry],
  });

  /** Counts the waitlist's promotions, skips and expiries. */
  watchWaitlist(waitlist: Waitlist): void {
    waitlist.observe((outcome, n, reason) => this.waitlist.inc({ outcome, reason: reason ?? '' }, n));
  }

  /**
   * The SQLite WAL's checkpoint thread: checkpoints done, failures and cuts of the file since start, and the
   * WAL's frames at the last checkpoint with those left uncopied (pinned by a reader: a long snapshot build).
   */
  watchCheckpointer(c: Checkpointer): void {
    this.gauge('edumap_wal_checkpoints', 'Checkpoints of the SQLite WAL by its thread since start.', () => c.checkpoints);
    this.gauge('edumap_wal_checkpoint_failures', 'Checkpoints of the SQLite WAL that failed since start.', () => c.failures);
    this.gauge('edumap_wal_truncations', 'Times the SQLite WAL file was cut back after growing past its bound, since start.', () => c.truncations);
    this.gauge('edumap_wal_frames', 'Frames in the SQLite WAL at the last checkpoint.', () => c.walFrames);
    this.gauge('edumap_wal_frames_left', 'Frames of the SQLite WAL the last checkpoint could not copy (a reader holds them).', () => c.framesLeft);
  }

  constructor(holder: SnapshotHolder) {
    const snapshot = (name: string, help: string, value: () => number) => this.gauge(name, help, () => (holder.ready ? value() : undefined));
    snapshot('edumap_snapshot_resources', 'Resources in the snapshot in service.', () => holder.current.size);
    snapshot('edumap_snapshot_generation', 'Data generation the snapshot was built from.', () => holder.current.generation);
    snapshot('edumap_record_cache_hits', 'Records answered from the rendered-record cache since start.', () => holder.records.hits);
    snapshot('edumap_record_cache_misses', 'Records read from the store since start (not in the cache).', () => holder.records.misses);
    snapshot('edumap_record_cache_bytes', 'Bytes of rendered records held in the cache (EDUMAP_RECORD_CACHE_MB bounds them).', () => holder.records.bytes);
    snapshot('edumap_record_cache_records', 'Records held in the cache.', () => holder.records.size);
    snapshot('edumap_record_cache_warm', 'Whether the records of every resource in service have been read into the cache (1) or not yet (0).', () => (holder.recordsWarm ? 1 : 0));
    snapshot('edumap_cluster_cache_bytes', "Bytes of the map's cluster hierarchies held (EDUMAP_CLUSTER_CACHE_MB bounds them).", () => holder.clusterCache.bytes);
    snapshot('edumap_cluster_cache_hierarchies', "The map's cluster hierarchies held, built or being built.", () => holder.clusterCache.size);
    snapshot('edumap_cluster_cache_evictions', 'Hierarchies let go to keep within EDUMAP_CLUSTER_CACHE_MB since start.', () => holder.clusterCache.evictions);
    snapshot('edumap_snapshot_age_seconds', 'Seconds since the snapshot in service was built.', () => (Date.now() - holder.current.builtAt.getTime()) / 1000);
  }

  /** A gauge read when /metrics is asked for; `value` undefined leaves it as it was. */
  private gauge(name: string, help: string, value: () => number | undefined): void {
    new Gauge({
      name, help, registers: [this.registry],
      collect() {
        const v = value();
        if (v !== undefined) this.set(v);
      },
    });
  }

  /** The counter and histogram of each method, route and status seen, looked up once (a label set is hashed per look-up). */
  private readonly series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();

  /** Middleware counting and timing every request by its route template (never by raw URL: no ids in labels). */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const started = process.hrtime.bigint();
      res.once('finish', () => this.record(req.method, routeOf(req), res.statusCode, started));
      next();
    };
  }

  /** Counts and times one answered request (`started`: `process.hrtime.bigint()` when it came). */
  record(method: string, route: string, status: number, started: bigint): void {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      const labels = { method, route, status: String(status) };
      this.series.set(key, (series = { count: this.requests.labels(labels), time: this.latency.labels(labels) }));
    }
    series.count.inc();
    series.time.observe(Number(process.hrtime.bigint() - started) / 1e9);
    if (method === 'POST' && route === '/v1/bookings') this.bookings.inc({ outcome: bookingOutcome(status) });
  }

  /** The Prometheus text exposition of this app's and the process's metrics. */
  async text(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([this.registry, processMetrics()]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
