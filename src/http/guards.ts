import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import cors from 'cors';
import { AppError } from '../errors.js';
import type { Config } from '../config.js';
import { langOf, sendProblem } from './problem.js';

/** Whether a bearer token is a credential this service issued (a key, a booking token). */
export type CredentialCheck = (token: string) => Promise<boolean>;

/** How long a token found valid keeps its own bucket without being looked up again, in ms. */
const VALID_FOR_MS = 60_000;
const VALID_CACHE = 10_000;

/**
 * Who a request counts against: a bearer token's hash when the token is a valid credential (an operator's
 * or a venue's key, a booking token), else the client's address — so a made-up token never buys a fresh
 * bucket. Tokens are hashed, so no secret sits in the limiter's memory. Behind a balancer the address is
 * the one `trust proxy` (EDUMAP_TRUST_PROXY) lets express read from X-Forwarded-For.
 */
export class ClientKeys {
  private readonly valid = new Map<string, number>();

  constructor(private readonly isCredential: CredentialCheck) {}

  /** The bucket of a request. */
  async of(req: Request): Promise<string> {
    const match = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
    if (match) {
      const digest = createHash('sha256').update(match[1]).digest('base64url').slice(0, 22);
      const until = this.valid.get(digest);
      const now = Date.now();
      if (until !== undefined && until > now) return `key:${digest}`;
      if (await this.isCredential(match[1])) {
        if (this.valid.size >= VALID_CACHE) this.valid.clear();
        this.valid.set(digest, now + VALID_FOR_MS);
        return `key:${digest}`;
      }
    }
    return addressKey(req);
  }
}

/** The bucket of a client address; IPv6 clients are counted per /56 network (one subscriber holds many addresses). */
export function addressKey(req: Request): string {
  return `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`;
}

/**
 * A per-client rate limit answering 429 problem+json with the standard `RateLimit-Policy`/`RateLimit`
 * headers (IETF draft 8) and `Retry-After`. Counts are per process; with WORKERS=N each worker counts alone.
 */
export function limitPerMinute(perMinute: number, name: string, keys: ClientKeys): RequestHandler {
  return new Budget(perMinute, name, keys).middleware;
}

/**
 * A budget of requests a minute per client, spent two ways over one counter: `middleware` for the REST
 * routes (see `limitPerMinute`), `take` for callers that are no route (the MCP tools), so a client has one
 * budget however it asks. `perMinute` 0 turns it off.
 */
export class Budget {
  readonly middleware: RequestHandler;
  private readonly store = new MemoryStore();

  constructor(readonly perMinute: number, readonly name: string, keys: ClientKeys) {
    this.middleware = perMinute <= 0 ? (_req, _res, next) => next() : rateLimit({
      windowMs: 60_000,
      limit: perMinute,
      identifier: name,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      store: this.store,
      keyGenerator: (req) => keys.of(req),
      handler: (req, res, _next, options) => {
        sendProblem(res, new AppError('rate_limited', `more than ${options.limit} ${name} requests a minute from this client; retry after the Retry-After seconds`), langOf(req));
      },
    });
  }

  /**
   * Counts one request of `client` (a `ClientKeys` bucket) against the same counter as the middleware; once
   * the minute's budget is spent, a 429 `rate_limited` whose `retry_after_s` says when to try again.
   */
  async take(client: string): Promise<void> {
    if (this.perMinute <= 0) return;
    const { totalHits, resetTime } = await this.store.increment(client);
    if (totalHits <= this.perMinute) return;
    const retryAfterS = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
    throw new AppError('rate_limited', `more than ${this.perMinute} ${this.name} requests a minute from this client; retry in ${retryAfterS} s`,
      { extra: { retry_after_s: retryAfterS } });
  }
}

/**
 * How many visitor conflicts (409 `visitor_already_booked`) one client may meet in an hour before its
 * bookings with visitor IDs are refused with a 429: probing ID numbers one after another to learn where a
 * child is booked is slow, whatever the other limits.
 */
export class ConflictBudget {
  private readonly spent = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly perHour: number, private readonly clock: () => number = Date.now) {}

  /** A 429 when the client has met its budget of conflicts this hour (with `Retry-After` on `res`, when there is one). */
  check(client: string, res?: Pick<Response, 'setHeader'>): void {
    if (this.perHour <= 0) return;
    const entry = this.spent.get(client);
    const now = this.clock();
    if (entry && entry.resetAt > now && entry.count >= this.perHour) {
      res?.setHeader('Retry-After', String(Math.ceil((entry.resetAt - now) / 1000)));
      throw new AppError('rate_limited', `more than ${this.perHour} bookings a visitor could not be booked for in an hour from this client; retry after the Retry-After seconds`);
    }
  }

  /** Counts one conflict against the client. */
  record(client: string): void {
    if (this.perHour <= 0) return;
    const now = this.clock();
    let entry = this.spent.get(client);
    if (!entry || entry.resetAt <= now) {
      if (this.spent.size >= VALID_CACHE) this.spent.clear();
      this.spent.set(client, (entry = { count: 0, resetAt: now + 3_600_000 }));
    }
    entry.count++;
  }
}

/** Security headers (helmet) with a content policy that lets the bundled map page run, and nothing else. */
export function securityHeaders(): RequestHandler {
  // helmet decides the headers once (they depend on nothing in the request); each request then gets the
  // same list set in one loop, not a dozen middleware calls.
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void headers.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  helmetHeaders()({} as Request, recorder as unknown as Response, () => undefined);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

function helmetHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Leaflet positions markers and tiles with style attributes.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
  });
}

/** CORS for the configured origins; none configured means same-origin only (no CORS headers at all). */
export function corsFor(config: Pick<Config, 'corsOrigins'>): RequestHandler {
  if (!config.corsOrigins.length) return (_req, _res, next) => next();
  return cors({
    origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'X-Request-Id', 'Mcp-Protocol-Version'],
    exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Location'],
    maxAge: 600,
  });
}
