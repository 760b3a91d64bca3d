import type { Server } from 'node:http';
import cluster from 'node:cluster';
import { DEV_HASH_KEY, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { openService } from './service.js';
import { createApp } from './http/app.js';
import { runPrimary } from './cluster.js';

/** Starts the service: config from the environment, bundled data on first run, HTTP on PORT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const root = createLogger(config);
  // WORKERS=N: this process forks N workers, each of which runs the rest of main().
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, root);
  const log = cluster.isWorker ? root.child({ worker: cluster.worker!.id }) : root;
  if (config.hashKey === DEV_HASH_KEY) log.warn('EDUMAP_HASH_KEY is not set: visitor IDs and phones are hashed with the development key');
  const service = await openService(config, log);
  service.holder.poll(config.pollMs, (err) => log.error({ err }, 'snapshot refresh failed'));
  const app = createApp(service);
  const server: Server = app.listen(config.port, config.host, () => {
    log.info({ port: config.port, host: config.host, db: config.dbPath }, 'edumap listening');
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    service.holder.stop();
    server.close(() => {
      service.db.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
