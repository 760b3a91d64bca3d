import { parentPort, workerData } from 'node:worker_threads';
import { SqliteDatabase } from '../store/sqlite.js';
import { PostgresDatabase } from '../store/postgres.js';
import { isPostgresUrl } from '../store/db.js';
import { ResourceReader } from '../store/resource-reader.js';
import { readParts, transferables, type Vocabulary } from './parts.js';
import type { BuildReply, BuildRequest } from './builder.js';

/**
 * A snapshot build thread: opens the store read-only (a SQLite file) or with one connection (PostgreSQL) and, for each request, reads every current resource
 * and builds the snapshot's parts, handing their buffers to the main thread without a copy. The main
 * thread goes on answering queries meanwhile.
 */
const { location } = workerData as { location: string };
const reader = new ResourceReader(isPostgresUrl(location)
  ? PostgresDatabase.open(location, { poolSize: 1 })
  : SqliteDatabase.open(location, { readonly: true }));

parentPort!.on('message', (request: BuildRequest) => {
  void build(request.id, request.vocab);
});

async function build(id: number, vocab: Vocabulary): Promise<void> {
  try {
    const parts = await readParts(reader, vocab);
    parentPort!.postMessage({ id, parts } satisfies BuildReply, transferables(parts));
  } catch (e) {
    parentPort!.postMessage({ id, error: e instanceof Error ? e.message : String(e) } satisfies BuildReply);
  }
}
