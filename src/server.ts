import type { Server } from 'node:http';
import cluster from 'node:cluster';
import { DEV_HASH_KEY, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { openService } from './service.js';
import { createApp } from './http/app.js';
import { answerClientError } from './http/problem.js';
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
  const state = { draining: false };
  const app = createApp(service, state);
  const server: Server = app.listen(config.port, config.host, () => {
    log.info({ port: config.port, host: config.host, db: config.dbPath }, 'edumap listening');
  });
  server.on('clientError', answerClientError);
  // Graceful stop: /readyz turns 503 at once (balancers stop sending), the listener closes after the drain
  // delay, requests in flight get `shutdownGraceMs` to finish, then the database is closed.
  const stop = async (signal: string) => {
    if (state.draining) return;
    state.draining = true;
    log.info({ signal, drain_ms: config.drainDelayMs, grace_ms: config.shutdownGraceMs }, 'draining');
    service.holder.stop();
    await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
    const cut = setTimeout(() => {
      log.warn('requests still in flight after the grace period; closing their connections');
      server.closeAllConnections();
    }, config.shutdownGraceMs);
    server.close(() => {
      clearTimeout(cut);
      service.db.close();
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
