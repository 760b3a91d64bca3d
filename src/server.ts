import { createServer, type RequestListener, type Server } from 'node:http';
import cluster from 'node:cluster';
import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './log.js';
import { openService, type Service } from './service.js';
import { isPostgresUrl } from './store/db.js';
import { createApp, startingApp } from './http/app.js';
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
  const state = { draining: false };
  // Until the service is open, a starting app answers (503 on /readyz, so a balancer waits); then the real
  // one takes over. A worker of WORKERS=N listens only once ready: the primary would hand it connections.
  let handle: RequestListener = startingApp(log);
  const server: Server = createServer((req, res) => handle(req, res));
  const listen = () => server.listen(config.port, config.host, () => {
    log.info({ port: config.port, host: config.host, db: config.dbPath }, 'edumap listening');
  });
  if (!cluster.isWorker) listen();
  limit(server, config);
  server.on('clientError', answerClientError);
  const opened: { service?: Service } = {};
  // Graceful stop: /readyz turns 503 at once (balancers stop sending), the listener closes after the drain
  // delay, requests in flight get `shutdownGraceMs` to finish, then the database is closed.
  const stop = async (signal: string) => {
    if (state.draining) return;
    state.draining = true;
    log.info({ signal, drain_ms: config.drainDelayMs, grace_ms: config.shutdownGraceMs }, 'draining');
    void opened.service?.holder.stop();
    await new Promise((resolve) => setTimeout(resolve, opened.service ? config.drainDelayMs : 0));
    const cut = setTimeout(() => {
      log.warn('requests still in flight after the grace period; closing their connections');
      server.closeAllConnections();
    }, config.shutdownGraceMs);
    server.close(() => {
      clearTimeout(cut);
      void (opened.service?.close() ?? Promise.resolve()).then(() => {
        log.info('stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  const service = (opened.service = await openPatiently(config, log, state));
  if (state.draining) return void service.close();
  // Writes by other replicas and processes: NOTIFY on PostgreSQL, the counters every EDUMAP_POLL_MS anyway.
  service.follow(config.pollMs, (err) => log.warn({ err }, 'keeping up with other processes\' writes failed; retrying'));
  // Finish what a crash left (an abandoned import, a batch half folded), then tidy once a minute.
  service.maintenance.kick();
  service.maintenance.every(60_000);
  service.sweepEvery(60_000, (err) => log.warn({ err }, 'sweeping ended rate-limit windows failed'));
  service.bookings.noShows.every(); // no-shows, bans and waitlist expiry, once a minute (safe in every worker)
  handle = createApp(service, state);
  if (cluster.isWorker) listen();
  log.info('edumap ready');
}

/** First and longest wait between attempts to open a PostgreSQL store that cannot be reached, in ms. */
const OPEN_RETRY_MS: readonly [number, number] = [500, 10_000];

/**
 * Opens the service. A PostgreSQL server that cannot be reached yet (a replica started before its database,
 * or during a failover) is tried again with backoff, the process answering 503 meanwhile; a SQLite file that
 * cannot be opened is a configuration error, and so is anything else: it ends the start.
 */
async function openPatiently(config: Config, log: Logger, state: { draining: boolean }): Promise<Service> {
  for (let wait = OPEN_RETRY_MS[0]; ; wait = Math.min(wait * 2, OPEN_RETRY_MS[1])) {
    try {
      return await openService(config, log);
    } catch (e) {
      if (!(e instanceof StoreUnavailable && isPostgresUrl(config.dbPath)) || state.draining) throw e;
      log.warn({ err: e, retry_ms: wait }, 'the database cannot be reached; trying again');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
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
