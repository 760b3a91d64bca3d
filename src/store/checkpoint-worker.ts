import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { CheckpointReply } from './checkpointer.js';

/**
 * The checkpoint thread of a SQLite store: its own connection to the file, and on each request one passive
 * checkpoint (copies what the WAL holds into the database file, waiting for nobody: readers keep their
 * snapshots, writers their lock). It runs here because a checkpoint after a large write takes seconds, and
 * in the serving connection it would hold every request of the process for as long.
 */
const { location, truncateAboveBytes } = workerData as { location: string; truncateAboveBytes: number };
const db = new BetterSqlite3(location, { fileMustExist: true });
db.pragma('busy_timeout = 0');

interface Checkpointed { busy: number; log: number; checkpointed: number }

function walBytes(): number {
  try {
    return statSync(`${location}-wal`).size;
  } catch {
    return 0;
  }
}

parentPort!.on('message', (message: 'checkpoint' | 'stop') => {
  if (message === 'stop') {
    db.close();
    parentPort!.close();
    return;
  }
  const started = performance.now();
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Checkpointed[];
    // A WAL grown by a large import while readers held old snapshots (GBs at 1M rows) stays that large on
    // disk. Once all of it is in the file, it is cut back, if nobody reads or writes at that moment (the
    // busy timeout is 0: no wait). Cutting holds the write lock (not timed), so a writer may wait
    // that long, but off its thread; SQLite's journal_size_limit would cut inside the next writer's COMMIT,
    // on the server's thread.
    let truncated = false;
    if (row.log > 0 && row.checkpointed === row.log && walBytes() > truncateAboveBytes) {
      truncated = (db.pragma('wal_checkpoint(TRUNCATE)') as Checkpointed[])[0].busy === 0;
    }
    parentPort!.postMessage({ log: row.log, checkpointed: row.checkpointed, truncated, ms: performance.now() - started } satisfies CheckpointReply);
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies CheckpointReply);
  }
});
