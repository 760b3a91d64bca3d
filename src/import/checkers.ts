import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { AreaIndex } from '../geo/areas.js';
import type { Crs } from '../geo/crs.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { Principal } from '../access/keys.js';
import { startThread } from '../threads.js';
import type { CheckedRow, FileRow, StoredVersion } from './check.js';
import type { Rejection } from './rows.js';
import { checkedFromWire, rowsToWire, type CheckedOnWire, type RowsOnWire } from './wire.js';

/** A chunk sent to a checking thread, and its answer. */
export interface CheckRequest { id: number; rows: RowsOnWire; current: [string, StoredVersion][] }
export type CheckReply = { id: number; checked: CheckedOnWire; rejections: Rejection[] } | { id: number; error: string };

/** What a chunk's check gives back. */
export interface ChunkChecks { checked: CheckedRow[]; rejections: Rejection[] }

/**
 * Threads that check an import's rows (merge, validation, scope) while the main thread parses the file and
 * writes the chunks already checked: on a machine of n cores, n − 1 of them (1 to 4). Chunks go to the
 * threads in turn; each answer comes back to the chunk that asked.
 */
export class Checkers {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (c: ChunkChecks) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failed: Error | null = null;

  constructor(ctx: { tax: Taxonomy; areas: AreaIndex; crs: Crs; by: Principal }, threads = Checkers.threads()) {
    const data = { tax: ctx.tax, areas: ctx.areas.list(), crs: ctx.crs, by: ctx.by };
    this.workers = Array.from({ length: threads }, () => {
      const worker = startThread(import.meta.url, 'check-worker', data);
      worker.on('message', (reply: CheckReply) => {
        const waiting = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if ('error' in reply) waiting?.reject(new Error(`checking rows failed: ${reply.error}`));
        else waiting?.resolve({ checked: checkedFromWire(reply.checked), rejections: reply.rejections });
      });
      worker.on('error', (e) => this.fail(new Error(`a row-checking thread failed: ${e.message}`, { cause: e })));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`a row-checking thread exited (${code})`));
      });
      return worker;
    });
  }

  /** Checking threads for this machine: one core is the main thread's. */
  static threads(): number {
    return Math.max(1, Math.min(4, availableParallelism() - 1));
  }

  /** Checks a chunk in the next thread. */
  check(rows: FileRow[], current: ReadonlyMap<string, StoredVersion>): Promise<ChunkChecks> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length];
    const slim: [string, StoredVersion][] = [...current].map(([key, v]) => [key, { deleted: v.deleted, lng: v.lng, lat: v.lat, district: v.district, doc: v.doc }]);
    return new Promise<ChunkChecks>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, rows: rowsToWire(rows), current: slim } satisfies CheckRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.fail(new Error('the row-checking threads were stopped'));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const { reject } of this.pending.values()) reject(e);
    this.pending.clear();
  }
}
