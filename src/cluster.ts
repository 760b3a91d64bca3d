import cluster from 'node:cluster';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { openStore } from './store/db.js';
import { loadTaxonomy } from './taxonomy/taxonomy.js';
import { seedIfEmpty } from './service.js';

/** Worker deaths within `RESTART_WINDOW_MS` beyond which the primary gives up instead of forking again. */
const MAX_RESTARTS = 10;
const RESTART_WINDOW_MS = 60_000;
/** How long the primary waits for its workers to finish their requests on shutdown, in ms. */
const STOP_GRACE_MS = 12_000;

/**
 * The primary process of `WORKERS=N`: migrates and seeds the database once (so that workers starting
 * together never race to load the bundled data), forks N workers that each run the whole service on the
 * same database file (node:cluster shares the listening port), restarts a worker that dies, and on SIGTERM
 * or SIGINT stops them all gracefully. Each worker builds its own snapshot and availability index and
 * polls the data generation; every rule that must hold across workers lives in SQL.
 */
export async function runPrimary(config: Config, log: Logger): Promise<void> {
  const db = await openStore(config.dbPath);
  try {
    await seedIfEmpty(db, loadTaxonomy(config.taxonomyDir), config.dataDir, log);
  } finally {
    await db.close();
  }

  let stopping = false;
  const deaths: number[] = [];
  // One worker saves the snapshot base for the next start (all of them load it): N copies of the same
  // file, hundreds of MB at 1M, would be written for nothing. Its replacement takes the task over.
  let saver: number | undefined;
  const fork = (saves: boolean) => {
    const worker = cluster.fork({ EDUMAP_SNAPSHOT_SAVER: saves ? '1' : '0' });
    if (saves) saver = worker.id;
  };
  for (let i = 0; i < config.workers; i++) fork(i === 0);
  log.info({ workers: config.workers, db: config.dbPath }, 'edumap primary started its workers');

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    deaths.push(now);
    while (deaths.length && deaths[0] < now - RESTART_WINDOW_MS) deaths.shift();
    if (deaths.length > MAX_RESTARTS) {
      log.fatal({ deaths: deaths.length }, 'workers keep dying; giving up');
      process.exit(1);
    }
    log.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker died; starting another');
    fork(worker.id === saver);
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping the workers');
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const w of workers) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), STOP_GRACE_MS).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
