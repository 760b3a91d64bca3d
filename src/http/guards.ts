import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, MemoryStore, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import helmet from 'helmet';
import cors from 'cors';
import { AppError } from '../errors.js';
import type { Config } from '../config.js';
import { langOf, sendProblem } from './problem.js';
import { StoreBusy, StoreUnavailable } from '../store/sql.js';
import type { RateWindows } from '../store/rate-windows.js';

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
  return addressKeyOf(req.ip ?? req.socket.remoteAddress);
}

/** `addressKey` of an address (express's `req.ip`), each worked out once: telling IPv6 takes a long regex. */
export function addressKeyOf(ip: string | undefined): string {
  const address = ip ?? 'unknown';
  let key = addressKeys.get(address);
  if (key === undefined) {
    if (addressKeys.size >= VALID_CACHE) addressKeys.clear();
    addressKeys.set(address, (key = `ip:${ipKeyGenerator(address)}`));
  }
  return key;
}
const addressKeys = new Map<string, string>();

/**
 * A per-client rate limit answering 429 problem+json with the standard `RateLimit-Policy`/`RateLimit`
 * headers (IETF draft 8) and `Retry-After`. Counts are per process unless `shared` is given (the
 * PostgreSQL store's `rate_windows`, which every replica spends together).
 */
export function limitPerMinute(perMinute: number, name: string, keys: ClientKeys, shared?: RateWindows): RequestHandler {
  return new Budget(perMinute, name, keys, shared).middleware;
}

/** A request counted against a budget: its bucket and the count. */
export type Charged = ClientRateLimitInfo & { key: string };

/** The window a budget counts in, in ms: a minute. */
const WINDOW_MS = 60_000;

/** How long a store that failed is left alone (its counts kept in memory meanwhile), in ms. */
const STORE_RETRY_MS = 1000;

/**
 * An express-rate-limit store over `rate_windows`, so that replicas behind a balancer spend one budget per
 * client: a fixed window of `windowMs` per key, one upsert per request. When the database cannot count
 * (unreachable, busy), the replica counts in memory for a second at a time rather than refuse or stall
 * every request: the limit then holds per replica, as on one machine, until the database answers again.
 */
export class SharedStore implements Store {
  readonly localKeys = false;
  readonly prefix: string;
  private readonly local = new MemoryStore();
  private failedUntil = 0;

  constructor(private readonly windows: RateWindows, private readonly windowMs: number, name: string,
    private readonly onFallback: (e: unknown) => void = () => undefined, private readonly clock: () => number = Date.now) {
    this.prefix = `${name}:`;
    this.local.init({ windowMs } as Options);
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const counted = await this.shared((now) => this.windows.hit(this.prefix + key, this.windowMs, now));
    return counted ? { totalHits: counted.hits, resetTime: new Date(counted.resetMs) } : this.local.increment(key);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const counted = await this.shared((now) => this.windows.get(this.prefix + key, now));
    if (counted === null) return this.local.get(key);
    return counted && { totalHits: counted.hits, resetTime: new Date(counted.resetMs) };
  }

  async decrement(key: string): Promise<void> {
    if ((await this.shared((now) => this.windows.unhit(this.prefix + key, now).then(() => true))) === null) await this.local.decrement(key);
  }

  async resetKey(key: string): Promise<void> {
    await this.shared(() => this.windows.reset(this.prefix + key).then(() => true));
    await this.local.resetKey(key);
  }

  shutdown(): void {
    this.local.shutdown();
  }

  /** Runs `fn` on the database; null when it failed as a store does (or did less than a second ago). */
  private async shared<T>(fn: (nowMs: number) => Promise<T>): Promise<T | null> {
    const now = this.clock();
    if (now < this.failedUntil) return null;
    try {
      return await fn(now);
    } catch (e) {
      if (!(e instanceof StoreUnavailable || e instanceof StoreBusy)) throw e;
      this.failedUntil = now + STORE_RETRY_MS;
      this.onFallback(e);
      return null;
    }
  }
}

/**
 * A budget of requests a minute per client, spent two ways over one counter: `middleware` for the REST
 * routes (see `limitPerMinute`), `take` for callers that are no route (the MCP tools), so a client has one
 * budget however it asks. `perMinute` 0 turns it off.
 *
 * The middleware answers as express-rate-limit's does with `standardHeaders: 'draft-8'` (`RateLimit`,
 * `RateLimit-Policy` with the partition key, `Retry-After` and a 429 once spent) over the same stores, but
 * is its own: that library's middleware, with its per-request validations, six awaits and a SHA-256 of the
 * key, cost ≈30 µs of every search (measured by hand with the bundled data: limit=1 searches 4,120 →
 * 4,612 req/s; not a benchmark of its own).
 */
export class Budget {
  readonly middleware: RequestHandler;
  private readonly store: MemoryStore | SharedStore;
  /** Each bucket's partition key (`pk` of `RateLimit-Policy`), computed once. */
  private readonly partitions = new Map<string, string>();
  private readonly charged = new WeakMap<object, Charged>();

  /** `shared`: count in the store's `rate_windows` (every replica of a PostgreSQL store), else in this process. */
  constructor(readonly perMinute: number, readonly name: string, private readonly keys: ClientKeys, shared?: RateWindows, onFallback?: (e: unknown) => void) {
    if (shared) this.store = new SharedStore(shared, WINDOW_MS, name, onFallback);
    else {
      this.store = new MemoryStore();
      this.store.init({ windowMs: WINDOW_MS } as Options);
    }
    this.middleware = perMinute <= 0 ? (_req, _res, next) => next() : (req, res, next) => {
      this.spend(req, res).then((allowed) => allowed && next(), next);
    };
  }

  /** Counts a request against its client's budget and says so in its headers; false when it was answered 429. */
  private async spend(req: Request, res: Response): Promise<boolean> {
    let charged = this.charged.get(req);
    if (!charged) {
      const key = req.headers.authorization === undefined ? addressKey(req) : await this.keys.of(req);
      charged = { key, ...await this.charge(key) };
    }
    if (this.answerHeaders(res, charged)) return true;
    sendProblem(res, new AppError('rate_limited', `more than ${this.perMinute} ${this.name} requests a minute from this client; retry after the Retry-After seconds`), langOf(req));
    return false;
  }

  /** Counts one request of bucket `key`. */
  async charge(key: string): Promise<ClientRateLimitInfo> {
    return this.store.increment(key);
  }

  /**
   * Sets a counted request's `RateLimit` and `RateLimit-Policy` headers (and `Retry-After` once the budget is
   * spent); whether the request is within the budget.
   */
  answerHeaders(res: { setHeader(name: string, value: string): unknown }, { key, totalHits, resetTime }: Charged): boolean {
    const resetS = Math.max(0, Math.ceil(((resetTime?.getTime() ?? Date.now() + WINDOW_MS) - Date.now()) / 1000));
    res.setHeader('RateLimit', `"${this.name}"; r=${Math.max(this.perMinute - totalHits, 0)}; t=${resetS}`);
    res.setHeader('RateLimit-Policy', `"${this.name}"; q=${this.perMinute}; w=${WINDOW_MS / 1000}; pk=:${this.partition(key)}:`);
    if (totalHits <= this.perMinute) return true;
    res.setHeader('Retry-After', String(resetS));
    return false;
  }

  /** A request counted already (by the fast search, which handed it on): the middleware answers it without counting it again. */
  remember(req: object, charged: Charged): void {
    this.charged.set(req, charged);
  }

  /** The partition key of a bucket as express-rate-limit writes it: base64 of the first 12 hex digits of its SHA-256. */
  private partition(key: string): string {
    let pk = this.partitions.get(key);
    if (pk === undefined) {
      if (this.partitions.size >= VALID_CACHE) this.partitions.clear();
      pk = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
      this.partitions.set(key, pk);
    }
    return pk;
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
 * child is booked is slow, whatever the other limits. With `shared` (PostgreSQL) every replica counts in
 * `rate_windows`, so spreading the probes over replicas buys nothing; in memory otherwise, and while the
 * database cannot count.
 */
export class ConflictBudget {
  private readonly spent = new Map<string, { count: number; resetAt: number }>();
  private readonly store: SharedStore | undefined;

  constructor(private readonly perHour: number, private readonly clock: () => number = Date.now, shared?: RateWindows) {
    this.store = shared && new SharedStore(shared, 3_600_000, 'conflicts', undefined, clock);
  }

  /** A 429 when the client has met its budget of conflicts this hour (with `Retry-After` on `res`, when there is one). */
  async check(client: string, res?: Pick<Response, 'setHeader'>): Promise<void> {
    if (this.perHour <= 0) return;
    const now = this.clock();
    const entry = this.store ? await this.store.get(client) : this.spent.get(client);
    const count = entry && ('totalHits' in entry ? entry.totalHits : entry.count);
    const resetAt = entry && ('totalHits' in entry ? entry.resetTime?.getTime() ?? now : entry.resetAt);
    if (count !== undefined && resetAt! > now && count >= this.perHour) {
      res?.setHeader('Retry-After', String(Math.ceil((resetAt! - now) / 1000)));
      throw new AppError('rate_limited', `more than ${this.perHour} bookings a visitor could not be booked for in an hour from this client; retry after the Retry-After seconds`);
    }
  }

  /** Counts one conflict against the client. */
  async record(client: string): Promise<void> {
    if (this.perHour <= 0) return;
    if (this.store) {
      await this.store.increment(client);
      return;
    }
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
  const headers = securityHeaderList();
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/**
 * The security headers as a list: helmet decides them once (they depend on nothing in the request); each
 * request then gets the same list set in one loop, not a dozen middleware calls.
 */
export function securityHeaderList(): readonly (readonly [string, string])[] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void headers.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  helmetHeaders()({} as Request, recorder as unknown as Response, () => undefined);
  return headers;
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
