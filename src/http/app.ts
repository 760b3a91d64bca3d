import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Service } from '../service.js';
import { errorHandler } from './problem.js';
import { Metrics } from './metrics.js';
import { SqliteDatabase } from '../store/sqlite.js';
import { Budget, ClientKeys, ConflictBudget, corsFor, securityHeaderList, securityHeaders } from './guards.js';
import { requestLog } from './request-log.js';
import { fastSearch } from './fast-search.js';
import { opsRoutes } from './routes/ops.js';
import { resourceRoutes } from './routes/resources.js';
import { catalogRoutes } from './routes/catalog.js';
import { importRoutes } from './routes/imports.js';
import { bookingRoutes } from './routes/bookings.js';
import { clusterRoutes } from './routes/clusters.js';
import { webRoutes } from './routes/web.js';
import { matchRoutes } from './routes/match.js';
import { auditRoutes } from './routes/audit.js';
import { calendarRoutes } from './routes/calendar.js';
import { changeRoutes } from './routes/changes.js';
import { areaEditRoutes } from './routes/area-edits.js';
import { venueRoutes, waitlistRoutes } from './routes/venues.js';
import { mcpRoutes } from './routes/mcp.js';

/** Everything the HTTP layer needs: the service, built once by the caller (server.ts, tests). */
export type AppDeps = Service;

/** What the routes share besides the service: metrics, rate-limit buckets and budgets, the conflict budget. */
export interface HttpParts {
  metrics: Metrics;
  clients: ClientKeys;
  conflicts: ConflictBudget;
  /** The per-client budgets of search and booking requests, which `/mcp`'s tools spend too. */
  budgets: { search: Budget; booking: Budget };
}

/**
 * Builds the express app. No port is opened here: `server.ts` listens, tests use supertest.
 * `state.draining` (set by server.ts on SIGTERM) turns `/readyz` to 503. `options.fastSearch` false leaves
 * every search to express (a test compares the two answers).
 */
export function createApp(deps: AppDeps, state: { draining: boolean } = { draining: false }, options: { fastSearch?: boolean } = {}): express.Express {
  const app = express();
  const metrics = new Metrics(deps.holder);
  metrics.watchWaitlist(deps.bookings.waitlist);
  if (deps.db instanceof SqliteDatabase && deps.db.checkpointer) metrics.watchCheckpointer(deps.db.checkpointer);
  const clients = new ClientKeys(async (token) => (await deps.keys.principal(token)) !== undefined || deps.bookings.isToken(token));
  // On PostgreSQL every replica spends one budget per client (rate_windows); on SQLite a process counts alone.
  const shared = deps.rateWindows;
  const fallback = (err: unknown) => deps.log.warn({ err }, 'the database cannot count rate limits; counting in this process meanwhile');
  const budgets = {
    search: new Budget(deps.config.searchPerMinute, 'search', clients, shared, fallback),
    booking: new Budget(deps.config.bookingPerMinute, 'booking', clients, shared, fallback),
  };
  const parts: HttpParts = { metrics, clients, conflicts: new ConflictBudget(deps.config.visitorConflictsPerHour, Date.now, shared), budgets };
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  app.set('trust proxy', deps.config.trustProxy);

  app.use(requestLog(deps.log));
  app.use(metrics.middleware());
  app.use(securityHeaders());
  app.use(corsFor(deps.config));
  app.use(['/v1/resources', '/v1/match', '/v1/clusters'], budgets.search.middleware);
  app.use(['/v1/bookings', '/v1/waitlist'], budgets.booking.middleware);
  app.use('/v1', (_req, _res, next) => {
    next(deps.holder.ready ? undefined : new AppError('not_ready', 'the index is still being built; retry shortly'));
  });
  // The hot path first: every layer before it is a path match per request.
  app.use(resourceRoutes(deps));
  app.use(opsRoutes(deps, metrics, state));
  app.use(webRoutes(deps.config));
  if (deps.config.mcp) app.use(mcpRoutes(deps, parts));
  app.use(catalogRoutes(deps));
  app.use(matchRoutes(deps));
  app.use(clusterRoutes(deps));
  app.use(calendarRoutes(deps));
  app.use(importRoutes(deps, metrics));
  // Before the booking routes, whose `/v1/bookings/:id` would take `bk_…/contact` apart otherwise.
  app.use(venueRoutes(deps));
  app.use(waitlistRoutes(deps));
  app.use(bookingRoutes(deps, parts));
  app.use(auditRoutes(deps));
  app.use(changeRoutes(deps));
  app.use(areaEditRoutes(deps));

  app.use(wrongMethod(deps.contract.routes()));
  app.use((_req, _res, next) => {
    next(new AppError('not_found', 'no such path; see /openapi.yaml'));
  });
  app.use(errorHandler(deps.log));

  // The search, the hot path, answered without express when it is the plain case (see `fastSearch`).
  if (options.fastSearch ?? true) {
    const fast = fastSearch(deps, { metrics, budget: budgets.search, log: deps.log, headers: securityHeaderList(), trust: app.get('trust proxy fn') });
    const slow = (app as unknown as Handle).handle.bind(app);
    (app as unknown as Handle).handle = (req, res, callback) => {
      if (!fast(req, res, () => slow(req, res, callback))) slow(req, res, callback);
    };
  }
  return app;
}

/** Express's own entry point, which `createApp` puts the fast search in front of. */
interface Handle {
  handle(req: IncomingMessage, res: ServerResponse, callback?: (err?: unknown) => void): void;
}

/**
 * What a replica answers while it cannot open its database yet (PostgreSQL not reachable at start): alive
 * on `/healthz`, and 503 `not_ready` on everything else, `/readyz` included, so a balancer sends it nothing
 * until `server.ts` swaps in the real app.
 */
export function startingApp(log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(log));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use((_req, _res, next) => {
    next(new AppError('not_ready', 'the database cannot be reached yet; retry shortly'));
  });
  app.use(errorHandler(log));
  return app;
}

/**
 * A 405 with `Allow` for a path the contract knows under other methods (before the 404 for unknown paths).
 * Express route patterns (`/v1/areas/:id`, `/v1/bookings/:id.ics`) become regular expressions once.
 */
function wrongMethod(routes: { method: string; path: string }[]) {
  const byPattern = new Map<string, { re: RegExp; methods: Set<string> }>();
  for (const r of routes) {
    let entry = byPattern.get(r.path);
    if (!entry) {
      const source = r.path.split(/(:\w+)/).map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
      byPattern.set(r.path, (entry = { re: new RegExp(`^${source}$`), methods: new Set() }));
    }
    entry.methods.add(r.method);
    if (r.method === 'GET') entry.methods.add('HEAD');
  }
  const entries = [...byPattern.values()];
  return (req: Request, res: Response, next: NextFunction): void => {
    const methods = new Set<string>();
    for (const e of entries) if (e.re.test(req.path)) for (const m of e.methods) methods.add(m);
    if (!methods.size || methods.has(req.method)) return next();
    const allow = [...methods].sort().join(', ');
    res.setHeader('Allow', allow);
    next(new AppError('method_not_allowed', `${req.method} is not allowed here; use ${allow}`));
  };
}
