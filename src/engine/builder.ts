import type { Worker } from 'node:worker_threads';
import { startThread } from '../threads.js';
import type { Database } from '../store/sql.js';
import { SqliteDatabase } from '../store/sqlite.js';
import { PostgresDatabase } from '../store/postgres.js';
import { ResourceReader } from '../store/resource-reader.js';
import { readParts, type SnapshotParts, type Vocabulary } from './parts.js';
import { readFolded, type FoldResult } from './fold.js';
import { loadSaved, saveParts, type LoadResult, type SaveResult } from './saved.js';
import { buildHierarchy, type HierarchyInput, type HierarchyParts } from './hierarchy.js';

/** Where full snapshot builds run: `auto` in a worker thread once the store is large, else as asked. */
export type BuildMode = 'auto' | 'worker' | 'inline';

/**
 * What the build worker (or the main thread, for a small store) is asked to do: scan the store, fold the
 * changes since a base into it, load a saved base and fold it forward, save a base to a file, or build a
 * cluster hierarchy.
 */
export type BuildTask =
  | { kind: 'scan'; vocab: Vocabulary }
  | { kind: 'fold'; vocab: Vocabulary; base: SnapshotParts; maxChanged: number }
  | { kind: 'load'; vocab: Vocabulary; file: string; overlayMax: number }
  | { kind: 'save'; vocab: Vocabulary; file: string; parts: SnapshotParts }
  | { kind: 'hierarchy'; input: HierarchyInput };
export interface BuildRequest { id: number; task: BuildTask }
export type TaskResult = FoldResult | LoadResult | SaveResult | HierarchyParts;
export type BuildReply = { id: number; result: TaskResult } | { id: number; error: string };

/** Does `task` with `reader`: what the worker runs for each request, and the main thread for a small store. */
export async function runTask(reader: ResourceReader, task: BuildTask): Promise<TaskResult> {
  switch (task.kind) {
    case 'scan': return { parts: await readParts(reader, task.vocab), how: 'scan' };
    case 'fold': return readFolded(reader, task.base, task.vocab, task.maxChanged);
    case 'load': return loadSaved(reader, task.file, task.vocab, task.overlayMax);
    case 'save': return saveParts(reader, task.file, task.parts, task.vocab);
    case 'hierarchy': return buildHierarchy(task.input);
  }
}

/** Below this many resources `auto` builds on the main thread: the read and build take a few ms. */
const INLINE_MAX = 20_000;

/**
 * Builds snapshot parts: from the whole store (a scan), or by folding what changed since a base into it
 * (no scan), a base in memory or one saved to a file; saves a base to a file; builds cluster hierarchies.
 * A large store is read and built in a worker thread with its own read-only connection, so that the main
 * thread keeps answering while a million resources are decoded and indexed (seconds); parts live in
 * shared memory, so neither the base handed to a fold nor the parts handed back are copied. The worker opens
 * the same SQLite file read-only, or one connection to the same PostgreSQL database. A small store, or one
 * the worker cannot open (`:memory:`), is built in place.
 */
export class PartsBuilder {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (r: TaskResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly reader: ResourceReader;

  constructor(private readonly db: Database, private readonly mode: BuildMode = 'auto') {
    this.reader = new ResourceReader(db);
  }

  /** Parts of every current resource; `size` is what the store held last time (undefined: not known). */
  async build(vocab: Vocabulary, size?: number): Promise<SnapshotParts> {
    return (await this.run({ kind: 'scan', vocab }, size) as FoldResult).parts;
  }

  /**
   * `base` with every change published after it folded in (see `readFolded`): a scan instead when more
   * than `maxChanged` versions changed. The caller checks the structure of what comes back.
   */
  async fold(base: SnapshotParts, vocab: Vocabulary, maxChanged: number): Promise<FoldResult> {
    return this.run({ kind: 'fold', vocab, base, maxChanged }, base.size) as Promise<FoldResult>;
  }

  /** The base saved in `file`, folded forward to the store's head, or why not (see `loadSaved`). */
  async load(file: string, vocab: Vocabulary, overlayMax: number): Promise<LoadResult> {
    return this.run({ kind: 'load', vocab, file, overlayMax }) as Promise<LoadResult>;
  }

  /** Saves `parts` to `file` (see `saveParts`), off the main thread for a large store. */
  async save(file: string, parts: SnapshotParts, vocab: Vocabulary): Promise<SaveResult> {
    return this.run({ kind: 'save', vocab, file, parts }, parts.size) as Promise<SaveResult>;
  }

  /** The cluster hierarchy of these points (see `buildHierarchy`), in the worker when they are many. */
  async hierarchy(input: HierarchyInput): Promise<HierarchyParts> {
    return this.run({ kind: 'hierarchy', input }, input.points.length) as Promise<HierarchyParts>;
  }

  private async run(task: BuildTask, size?: number): Promise<TaskResult> {
    return (await this.useWorker(size)) ? this.inWorker({ task }) : runTask(this.reader, task);
  }

  /** Whether builds run in the worker (decided per build: the store grows). */
  private async useWorker(size: number | undefined): Promise<boolean> {
    if (!workerLocation(this.db) || this.mode === 'inline') return false;
    if (this.mode === 'worker') return true;
    const n = size ?? Number(await this.db.value('SELECT count(*) FROM resources WHERE retired_at IS NULL'));
    return n >= INLINE_MAX;
  }

  private inWorker(request: Omit<BuildRequest, 'id'>): Promise<TaskResult> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<TaskResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // a build in flight keeps the process alive; an idle worker does not
      worker.postMessage({ id, ...request } satisfies BuildRequest);
    });
  }

  private start(): Worker {
    const location = workerLocation(this.db)!;
    const worker = startThread(import.meta.url, 'build-worker', { location });
    let retired = false;
    worker.on('message', (reply: BuildReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiting?.reject(new Error(`snapshot build failed: ${reply.error}`));
      else waiting?.resolve(reply.result);
      // Builds are rare (start-up, folds): an idle worker would keep its heap of the last build's garbage,
      // hundreds of MB at 1M resources. The next build starts a fresh one (well under a second).
      if (this.pending.size === 0) {
        retired = true;
        if (this.worker === worker) this.worker = null;
        void worker.terminate();
      }
    });
    const fail = (e: Error) => {
      if (retired) return; // stopped here, idle: the requests pending now are another worker's
      if (this.worker === worker) this.worker = null;
      for (const { reject } of this.pending.values()) reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new Error(`snapshot build worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => fail(new Error(`snapshot build worker exited (${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Stops the worker thread (a build in flight is rejected). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

/** Where a build worker opens the store from: a SQLite file or a PostgreSQL URL; undefined when it cannot. */
function workerLocation(db: Database): string | undefined {
  if (db instanceof SqliteDatabase) return db.location === ':memory:' ? undefined : db.location;
  if (db instanceof PostgresDatabase) return db.connectionUrl;
  return undefined;
}
