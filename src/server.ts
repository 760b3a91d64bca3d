import type { Server } from 'node:http';
import cluster from 'node:cluster';
import { loadConfig, type Config } from './config.js';
import { createLogger } from './log.js';
import { openService } from './service.js';
import { createApp } from './http/app.js';
import { answerClientError } from './http/problem.js';
import { runPrimary } from './cluster.js';
import { StoreUnavailable } from './store/sql.js';
import { ConfigError } from './errors.js';

/** Starts the service: config from the environment, bundled data on first run, HTTP on PORT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const root = createLogger(config);
  // WORKERS=N: this process forks N workers, each of which runs the rest of main().
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, root);
  const log = cluster.isWorker ? root.child({ worker: cluster.worker!.id }) : root;
  if (config.devSecrets) log.warn('EDUMAP_HASH_KEY / EDUMAP_DATA_KEY are not set: development keys are in use (never in production)');
  const service = await openService(config, log);
  service.holder.poll(config.pollMs, (err) => log.error({ err }, 'snapshot refresh failed'));
  // Finish what a crash left (an abandoned import, a batch half folded), then tidy once a minute.
  service.maintenance.kick();
  service.maintenance.every(60_000);
  service.bookings.noShows.every(); // no-shows, bans and waitlist expiry, once a minute (safe in every worker)
  const state = { draining: false };
  const app = createApp(service, state);
  const server: Server = app.listen(config.port, config.host, () => {
    log.info({ port: config.port, host: config.host, db: config.dbPath }, 'edumap listening');
  });
  limit(server, config);
  server.on('clientError', answerClientError);
  // Graceful stop: /readyz turns 503 at once (balancers stop sending), the listener closes after the drain
  // delay, requests in flight get `shutdownGraceMs` to finish, then the database is closed.
  const stop = async (signal: string) => {
    if (state.draining) return;
    state.draining = true;
    log.info({ signal, drain_ms: config.drainDelayMs, grace_ms: config.shutdownGraceMs }, 'draining');
    void service.holder.stop();
    await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
    const cut = setTimeout(() => {
      log.warn('requests still in flight after the grace period; closing their connections');
      server.closeAllConnections();
    }, config.shutdownGraceMs);
    server.close(() => {
      clearTimeout(cut);
      void service.close().then(() => {
        log.info('stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** Timeouts and a connection cap, so slow or idle clients cannot hold the process's sockets. */
function limit(server: Server, config: Config): void {
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.maxConnections = config.maxConnections;
}

// A configuration or database problem is one line naming what and why, and exit status 1; anything
// else is a bug and keeps its stack.
main().catch((err: unknown) => {
  const plain = err instanceof StoreUnavailable || err instanceof ConfigError;
  console.error(plain ? `edumap: ${(err as Error).message}` : err);
  process.exit(1);
});
