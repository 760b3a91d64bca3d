import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { CheckpointReply } from './checkpointer.js';

/**
 * The checkpoint thread of a SQLite store: its own connection to the file, and on each request one passive
 * checkpoint (copies what the WAL holds into the database file, waiting for nobody: readers keep their
 * snapshots, writers their lock). It runs here because a checkpoint after a large write takes seconds, and
 * in the serving connection it would hold every request of the process for as long.
 */
const { location } = workerData as { location: string };
const db = new BetterSqlite3(location, { fileMustExist: true });

parentPort!.on('message', (message: 'checkpoint' | 'stop') => {
  if (message === 'stop') {
    db.close();
    parentPort!.close();
    return;
  }
  const started = performance.now();
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    parentPort!.postMessage({ log: row.log, checkpointed: row.checkpointed, ms: performance.now() - started } satisfies CheckpointReply);
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies CheckpointReply);
  }
});
