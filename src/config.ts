import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { baseMapOf } from './basemap.js';

/** The repository root, found from this file's location (src/ or dist/src/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../..' : '..');

/** Everything the service reads from its environment, after validation. */
export interface Config {
  port: number;
  host: string;
  /** SQLite file; `:memory:` for tests. */
  dbPath: string;
  /** Bearer keys that may call admin endpoints. Empty: admin endpoints always answer 401. */
  adminKeys: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Directory of the taxonomy files. */
  taxonomyDir: string;
  /** Directory of the bundled data loaded into an empty database. */
  dataDir: string;
  /** How often a server checks the database for writes made by other processes, in ms (0: never). */
  pollMs: number;
  /** Largest accepted CSV import body, in bytes. */
  importMaxBytes: number;
  /**
   * Secret key of the keyed hashes (HMAC-SHA256) that stand in for visitor ID numbers and phone numbers in
   * the database, and from which booking tokens are derived. Changing it orphans the stored hashes.
   */
  hashKey: string;
  /** Bookings can be cancelled until this many hours before their slot starts. */
  cancelCutoffHours: number;
  /** Worker processes serving HTTP on one database file (1: no cluster). */
  workers: number;
  /** Requests per minute per client (bearer key, else IP) on search endpoints; 0 turns the limit off. */
  searchPerMinute: number;
  /** Requests per minute per client on booking endpoints (scalpers book fast); 0 turns the limit off. */
  bookingPerMinute: number;
  /** Origins allowed by CORS: empty (same origin only), `*`, or a list. */
  corsOrigins: string[];
  /** On SIGTERM: how long `/readyz` answers 503 before the listener closes, so balancers stop sending, in ms. */
  drainDelayMs: number;
  /** On SIGTERM: how long in-flight requests may take to finish before they are cut, in ms. */
  shutdownGraceMs: number;
  /** Base map of the map page: `none` (offline), `tianditu`, `amap` or an http(s) XYZ URL template (src/basemap.ts). */
  tiles: string;
  /** 天地图 browser key (浏览器端), required by `tiles: 'tianditu'`; the page sends it with every tile request. */
  tiandituKey: string;
  /** System of a URL template's tiles, `wgs84` or `gcj02`: required with a template, refused with the others. */
  tilesCrs: string | null;
  /** Credit of a URL template's tiles, plain text shown on the map: required with a template. */
  tilesAttribution: string;
  /** 审图号 of the base map (e.g. `GS(2024)0568号`), shown with the attribution when set. */
  mapReviewNo: string;
}

/** The hash key of development and tests. A server started with it logs a warning. */
export const DEV_HASH_KEY = 'edumap-dev-hash-key-not-for-production';

/** Defaults, each overridable by the environment variable named beside it. */
export const DEFAULTS: Config = {
  port: 3000, // PORT
  host: '0.0.0.0', // HOST
  dbPath: join(ROOT, 'var', 'edumap.db'), // EDUMAP_DB
  adminKeys: [], // EDUMAP_ADMIN_KEYS, comma-separated
  logLevel: 'info', // LOG_LEVEL
  taxonomyDir: join(ROOT, 'taxonomy'),
  dataDir: join(ROOT, 'data'),
  pollMs: 1000, // EDUMAP_POLL_MS
  importMaxBytes: 256 * 1024 * 1024, // EDUMAP_IMPORT_MAX_BYTES
  hashKey: DEV_HASH_KEY, // EDUMAP_HASH_KEY, at least 32 characters; set it in production
  cancelCutoffHours: 2, // EDUMAP_CANCEL_CUTOFF_HOURS
  workers: 1, // WORKERS
  searchPerMinute: 1200, // EDUMAP_RATE_SEARCH_PER_MIN
  bookingPerMinute: 300, // EDUMAP_RATE_BOOKING_PER_MIN (a school behind one NAT address books for many families)
  corsOrigins: [], // EDUMAP_CORS_ORIGINS, comma-separated, or *
  drainDelayMs: 0, // EDUMAP_DRAIN_DELAY_MS (set it to your balancer's health-check interval)
  shutdownGraceMs: 10_000, // EDUMAP_SHUTDOWN_GRACE_MS
  tiles: 'none', // EDUMAP_TILES
  tiandituKey: '', // EDUMAP_TIANDITU_KEY
  tilesCrs: null, // EDUMAP_TILES_CRS
  tilesAttribution: '', // EDUMAP_TILES_ATTRIBUTION
  mapReviewNo: '', // EDUMAP_MAP_REVIEW_NO
};

const LEVELS: Config['logLevel'][] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

function corsOrigins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new Error(`EDUMAP_CORS_ORIGINS: '${origin}' is not an origin such as https://app.example.cn (or *)`);
    }
  }
  return list;
}

/** Reads and validates the configuration once, at start-up. Throws with the variable's name on bad input. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const logLevel = (env.LOG_LEVEL ?? DEFAULTS.logLevel) as Config['logLevel'];
  if (!LEVELS.includes(logLevel)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got '${logLevel}'`);
  const adminKeys = (env.EDUMAP_ADMIN_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (adminKeys.some((k) => k.length < 16)) throw new Error('EDUMAP_ADMIN_KEYS: each key must be at least 16 characters');
  const hashKey = env.EDUMAP_HASH_KEY || DEFAULTS.hashKey;
  if (hashKey.length < 32) throw new Error('EDUMAP_HASH_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  const tiles = {
    tiles: env.EDUMAP_TILES || DEFAULTS.tiles,
    tiandituKey: env.EDUMAP_TIANDITU_KEY ?? DEFAULTS.tiandituKey,
    tilesCrs: env.EDUMAP_TILES_CRS || DEFAULTS.tilesCrs,
    tilesAttribution: env.EDUMAP_TILES_ATTRIBUTION ?? DEFAULTS.tilesAttribution,
    mapReviewNo: env.EDUMAP_MAP_REVIEW_NO ?? DEFAULTS.mapReviewNo,
  };
  baseMapOf(tiles); // throws naming the variable at fault
  return {
    ...DEFAULTS,
    ...tiles,
    port: integer(env, 'PORT', DEFAULTS.port, 0, 65535),
    host: env.HOST || DEFAULTS.host,
    dbPath: env.EDUMAP_DB || DEFAULTS.dbPath,
    adminKeys,
    logLevel,
    pollMs: integer(env, 'EDUMAP_POLL_MS', DEFAULTS.pollMs, 0, 3_600_000),
    importMaxBytes: integer(env, 'EDUMAP_IMPORT_MAX_BYTES', DEFAULTS.importMaxBytes, 1024, 4 * 1024 ** 3),
    hashKey,
    cancelCutoffHours: integer(env, 'EDUMAP_CANCEL_CUTOFF_HOURS', DEFAULTS.cancelCutoffHours, 0, 720),
    workers: integer(env, 'WORKERS', DEFAULTS.workers, 1, 64),
    searchPerMinute: integer(env, 'EDUMAP_RATE_SEARCH_PER_MIN', DEFAULTS.searchPerMinute, 0, 10_000_000),
    bookingPerMinute: integer(env, 'EDUMAP_RATE_BOOKING_PER_MIN', DEFAULTS.bookingPerMinute, 0, 10_000_000),
    corsOrigins: corsOrigins(env.EDUMAP_CORS_ORIGINS),
    drainDelayMs: integer(env, 'EDUMAP_DRAIN_DELAY_MS', DEFAULTS.drainDelayMs, 0, 600_000),
    shutdownGraceMs: integer(env, 'EDUMAP_SHUTDOWN_GRACE_MS', DEFAULTS.shutdownGraceMs, 0, 600_000),
    ...overrides,
  };
}
