import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { SnapshotHolder } from '../engine/holder.js';
import type { Logger } from '../log.js';
import { AppError } from '../errors.js';
import type { Contract } from './contract.js';
import { errorHandler } from './problem.js';
import { Metrics } from './metrics.js';
import { corsFor, limitPerMinute, securityHeaders } from './guards.js';
import { opsRoutes } from './routes/ops.js';
import { resourceRoutes } from './routes/resources.js';
import { catalogRoutes } from './routes/catalog.js';
import { importRoutes } from './routes/imports.js';
import { bookingRoutes } from './routes/bookings.js';
import type { Bookings } from '../booking/bookings.js';
import { clusterRoutes } from './routes/clusters.js';
import { webRoutes } from './routes/web.js';
import { matchRoutes } from './routes/match.js';

/** Everything the HTTP layer needs, built once by the caller (server.ts, tests). */
export interface AppDeps {
  config: Config;
  db: Db;
  tax: Taxonomy;
  holder: SnapshotHolder;
  contract: Contract;
  log: Logger;
  /** Slots, bookings and the availability index. */
  bookings: Bookings;
}

/**
 * Builds the express app. No port is opened here: `server.ts` listens, tests use supertest.
 * `state.draining` (set by server.ts on SIGTERM) turns `/readyz` to 503.
 */
export function createApp(deps: AppDeps, state: { draining: boolean } = { draining: false }): express.Express {
  const app = express();
  const metrics = new Metrics(deps.holder);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);

  app.use(requestLog(deps.log));
  app.use(metrics.middleware());
  app.use(securityHeaders());
  app.use(corsFor(deps.config));
  app.use(opsRoutes(deps, metrics, state));
  app.use(webRoutes(deps.config));
  const search = limitPerMinute(deps.config.searchPerMinute, 'search');
  app.use(['/v1/resources', '/v1/match', '/v1/clusters'], search);
  app.use('/v1/bookings', limitPerMinute(deps.config.bookingPerMinute, 'booking'));
  app.use('/v1', (_req, _res, next) => {
    next(deps.holder.ready ? undefined : new AppError('not_ready', 'the index is still being built; retry shortly'));
  });
  app.use(catalogRoutes(deps));
  app.use(resourceRoutes(deps));
  app.use(matchRoutes(deps));
  app.use(clusterRoutes(deps));
  app.use(importRoutes(deps, metrics));
  app.use(bookingRoutes(deps));

  app.use((req, _res, next) => {
    next(new AppError('not_found', `no route for ${req.method} ${req.path}; see /openapi.yaml`));
  });
  app.use(errorHandler(deps.log));
  return app;
}

/** One log line per request: method, route, status, duration, request id. No query values, no bodies. */
function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.on('finish', () => {
      log.info({
        req_id: id, method: req.method, route: req.route?.path ?? req.path, status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      }, 'request');
    });
    next();
  };
}
