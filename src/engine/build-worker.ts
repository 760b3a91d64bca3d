import { parentPort, workerData } from 'node:worker_threads';
import { runInBackground } from '../threads.js';
import { SqliteDatabase } from '../store/sqlite.js';
import { PostgresDatabase } from '../store/postgres.js';
import { isPostgresUrl } from '../store/db.js';
import { ResourceReader } from '../store/resource-reader.js';
import { runTask, type BuildReply, type BuildRequest } from './builder.js';

/**
 * A snapshot build thread: opens the store read-only (a SQLite file) or with one connection (PostgreSQL)
 * and, for each request, reads every current resource and builds the snapshot's parts, folds the changes
 * since a base into it, loads a saved base, saves one, or builds a cluster hierarchy (`runTask`). Parts
 * are in shared memory: the main thread reads them where this thread wrote them, and goes on answering
 * queries meanwhile.
 */
const { location } = workerData as { location: string };
runInBackground();
const reader = new ResourceReader(isPostgresUrl(location)
  ? PostgresDatabase.open(location, { poolSize: 1 })
  : SqliteDatabase.open(location, { readonly: true }));

parentPort!.on('message', ({ id, task }: BuildRequest) => {
  runTask(reader, task).then(
    (result) => parentPort!.postMessage({ id, result } satisfies BuildReply),
    (e: unknown) => parentPort!.postMessage({ id, error: e instanceof Error ? e.message : String(e) } satisfies BuildReply));
});
