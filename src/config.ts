import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { secrets, throwawaySecrets } from './secrets.js';
import { ConfigError } from './errors.js';
import { baseMapOf } from './basemap.js';
import { isPostgresUrl } from './store/db.js';

/** The repository root, found from this file's location (src/ or dist/src/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../..' : '..');

/** Everything the service reads from its environment, after validation. */
export interface Config {
  port: number;
  host: string;
  /** The store: a SQLite file (`:memory:` for tests), or a PostgreSQL URL `postgres://user:password@host:port/database`. */
  dbPath: string;
  /** Longest wait for a lock before a write gives up with 503 `busy`, in ms (SQLite's busy timeout, PostgreSQL's lock_timeout). */
  busyTimeoutMs: number;
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
   * How long replaced versions and deletions are kept, in ms: the change feed holds every change this long
   * (a cursor older than that is answered 410), and snapshots built before a change still read their records.
   */
  changesRetentionMs: number;
  /**
   * Secret key of the keyed hashes (HMAC-SHA256) that stand in for visitor ID numbers and phone numbers in
   * the database (at least 32 characters). Changing it orphans the stored hashes.
   */
  hashKey: string;
  /** Key (32 bytes) that encrypts the personal data a venue may need back (phones), AES-256-GCM. */
  dataKey: Buffer;
  /** Earlier data keys (`EDUMAP_DATA_KEY_OLD`, comma-separated): they still open older boxes; `npm run rekey` re-seals those. */
  dataKeysOld: Buffer[];
  /** Development keys in use (EDUMAP_DEV=1 or NODE_ENV=test without keys): the server warns. */
  devSecrets: boolean;
  /** express's `trust proxy` (false: the socket's address is the client's). */
  trustProxy: boolean | number | string;
  /** How long a client may take to send the request headers, in ms (slow clients hold connections). */
  headersTimeoutMs: number;
  /** How long a client may take to send a whole request, in ms (a large import included). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, in ms (above the balancer's idle timeout). */
  keepAliveTimeoutMs: number;
  /** Most connections open at once per process; more are refused. */
  maxConnections: number;
  /** Bookings can be cancelled until this many hours before their slot starts. */
  cancelCutoffHours: number;
  /** Worker processes serving HTTP on one database file (1: no cluster). */
  workers: number;
  /** Where full snapshot builds run: a worker thread once the store is large (`auto`), always, or never. */
  snapshotBuild: 'auto' | 'worker' | 'inline';
  /** Ms after a write is indexed as an overlay before a new base snapshot is built in the background. */
  foldDelayMs: number;
  /** Bytes of rendered records kept in memory across snapshots, compactly (0: read each from the store). */
  recordCacheBytes: number;
  /** Bytes of the map's cluster hierarchies kept in memory, least recently used out (0: each map request builds its own). */
  clusterCacheBytes: number;
  /**
   * Where the snapshot base is saved, so that a restart folds the changes since into it rather than
   * scanning the store: by default beside a SQLite file (`<db>.snapshot`); none for PostgreSQL unless set
   * (a replica's local disk), nor for `:memory:`. `EDUMAP_SNAPSHOT_FILE=off`: never.
   */
  snapshotFile: string | null;
  /** Ms between saves of a new base (a restart folds in whatever was written since the last one). */
  snapshotSaveMs: number;
  /** Requests per minute per client (bearer key, else IP) on search endpoints; 0 turns the limit off. */
  searchPerMinute: number;
  /** Requests per minute per client on booking endpoints (scalpers book fast); 0 turns the limit off. */
  bookingPerMinute: number;
  /** Visitor conflicts (409 visitor_already_booked) per hour per client before its bookings with IDs get 429; 0: no limit. */
  visitorConflictsPerHour: number;
  /** Origins allowed by CORS: empty (same origin only), `*`, or a list. */
  corsOrigins: string[];
  /** Whether the MCP server for AI assistants is served at `/mcp` (Streamable HTTP); stdio (`npm run mcp`) is separate. */
  mcp: boolean;
  /**
   * Who may book through MCP (`book_slot`, `join_waitlist`): `open` — anyone, as `POST /v1/bookings`; `key` —
   * over HTTP only a request to `/mcp` with `Authorization: Bearer <valid key>` (the stdio user is trusted);
   * `off` — nobody (the tools are not listed). Cancelling with a booking's token is always possible.
   */
  mcpBooking: 'open' | 'key' | 'off';
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

/** Defaults, each overridable by the environment variable named beside it. */
export const DEFAULTS: Config = {
  port: 3000, // PORT
  host: '0.0.0.0', // HOST
  dbPath: join(ROOT, 'var', 'edumap.db'), // EDUMAP_DB
  busyTimeoutMs: 5000, // EDUMAP_BUSY_TIMEOUT_MS
  adminKeys: [], // EDUMAP_ADMIN_KEYS, comma-separated
  logLevel: 'info', // LOG_LEVEL
  taxonomyDir: join(ROOT, 'taxonomy'),
  dataDir: join(ROOT, 'data'),
  pollMs: 1000, // EDUMAP_POLL_MS
  importMaxBytes: 256 * 1024 * 1024, // EDUMAP_IMPORT_MAX_BYTES
  changesRetentionMs: 2 * 3_600_000, // EDUMAP_CHANGES_RETENTION_HOURS (a consumer polling every few minutes has ample margin)
  hashKey: '', // EDUMAP_HASH_KEY, at least 32 characters: required (see `secrets`)
  dataKey: Buffer.alloc(0), // EDUMAP_DATA_KEY, 64 hexadecimal characters: required (see `secrets`)
  dataKeysOld: [], // EDUMAP_DATA_KEY_OLD, comma-separated, each 64 hexadecimal characters
  devSecrets: false,
  trustProxy: false, // EDUMAP_TRUST_PROXY: express's values (true, a hop count, loopback, a list of addresses or CIDRs)
  headersTimeoutMs: 15_000, // EDUMAP_HEADERS_TIMEOUT_MS
  requestTimeoutMs: 300_000, // EDUMAP_REQUEST_TIMEOUT_MS (a 256 MiB import over a slow line)
  keepAliveTimeoutMs: 65_000, // EDUMAP_KEEP_ALIVE_TIMEOUT_MS (above the usual 60 s of balancers)
  maxConnections: 4096, // EDUMAP_MAX_CONNECTIONS
  cancelCutoffHours: 2, // EDUMAP_CANCEL_CUTOFF_HOURS
  workers: 1, // WORKERS
  snapshotBuild: 'auto', // EDUMAP_SNAPSHOT_BUILD=auto|worker|inline
  foldDelayMs: 2000, // EDUMAP_FOLD_DELAY_MS
  recordCacheBytes: 120_000_000, // EDUMAP_RECORD_CACHE_MB (at 1M resources all records take ≈ 50 MB; two generations)
  clusterCacheBytes: 160_000_000, // EDUMAP_CLUSTER_CACHE_MB (at 1M resources: all of them, 59 MB, and two domains' of 42)
  snapshotFile: null, // EDUMAP_SNAPSHOT_FILE (unset: `<db>.snapshot` for a SQLite file; off: none)
  snapshotSaveMs: 600_000, // EDUMAP_SNAPSHOT_SAVE_MINUTES
  searchPerMinute: 1200, // EDUMAP_RATE_SEARCH_PER_MIN
  bookingPerMinute: 300, // EDUMAP_RATE_BOOKING_PER_MIN (a school behind one NAT address books for many families)
  visitorConflictsPerHour: 10, // EDUMAP_RATE_VISITOR_CONFLICTS_PER_HOUR
  corsOrigins: [], // EDUMAP_CORS_ORIGINS, comma-separated, or *
  mcp: true, // EDUMAP_MCP=on|off
  mcpBooking: 'open', // EDUMAP_MCP_BOOKING=open|key|off (open: exactly as open as POST /v1/bookings; see README)
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
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

/** One of a few words, or the fallback when unset; else a ConfigError naming the variable. */
function choice<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}

function corsOrigins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`EDUMAP_CORS_ORIGINS: '${origin}' is not an origin such as https://app.example.cn (or *)`);
    }
  }
  return list;
}

/** express's `trust proxy` from its environment text: true/false, a hop count, or names and CIDRs. */
function trustProxy(raw: string | undefined): Config['trustProxy'] {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const parts = raw.split(',').map((p) => p.trim());
  for (const part of parts) {
    if (!/^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?)$/.test(part)) {
      throw new ConfigError(`EDUMAP_TRUST_PROXY: '${part}' is not true, false, a hop count, loopback/linklocal/uniquelocal, or an address or CIDR`);
    }
  }
  return parts.join(',');
}

/** The retired data keys, still read for older boxes. */
function oldDataKeys(raw: string | undefined): Buffer[] {
  const list = (raw ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of list) if (!/^[0-9a-fA-F]{64}$/.test(k)) throw new ConfigError('EDUMAP_DATA_KEY_OLD: each key must be 64 hexadecimal characters (32 bytes)');
  return list.map((k) => Buffer.from(k, 'hex'));
}

/** `EDUMAP_SNAPSHOT_FILE`: a path, `off`, or unset (beside a SQLite file; none for PostgreSQL or `:memory:`). */
function snapshotFile(value: string | undefined, dbPath: string): string | null {
  if (value === 'off') return null;
  if (value) return value;
  return isPostgresUrl(dbPath) || dbPath === ':memory:' ? null : `${dbPath}.snapshot`;
}

/**
 * Reads and validates the configuration once, at start-up. Throws with the variable's name on bad input.
 * A command that never hashes nor encrypts personal data (an import) passes `secrets: 'unused'`: it then
 * runs without the keys, with throwaway ones.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {},
  options: { secrets?: 'required' | 'unused' } = {}): Config {
  const logLevel = (env.LOG_LEVEL ?? DEFAULTS.logLevel) as Config['logLevel'];
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got '${logLevel}'`);
  const adminKeys = (env.EDUMAP_ADMIN_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (adminKeys.some((k) => k.length < 16)) throw new ConfigError('EDUMAP_ADMIN_KEYS: each key must be at least 16 characters');
  const dbPath = env.EDUMAP_DB || DEFAULTS.dbPath;
  const tiles = {
    tiles: env.EDUMAP_TILES || DEFAULTS.tiles,
    tiandituKey: env.EDUMAP_TIANDITU_KEY ?? DEFAULTS.tiandituKey,
    tilesCrs: env.EDUMAP_TILES_CRS || DEFAULTS.tilesCrs,
    tilesAttribution: env.EDUMAP_TILES_ATTRIBUTION ?? DEFAULTS.tilesAttribution,
    mapReviewNo: env.EDUMAP_MAP_REVIEW_NO ?? DEFAULTS.mapReviewNo,
  };
  baseMapOf(tiles); // throws naming the variable at fault
  const config: Config = {
    ...DEFAULTS,
    ...tiles,
    ...(options.secrets === 'unused' ? throwawaySecrets() : secrets(env, dbPath)),
    port: integer(env, 'PORT', DEFAULTS.port, 0, 65535),
    host: env.HOST || DEFAULTS.host,
    dbPath,
    adminKeys,
    logLevel,
    busyTimeoutMs: integer(env, 'EDUMAP_BUSY_TIMEOUT_MS', DEFAULTS.busyTimeoutMs, 10, 600_000),
    pollMs: integer(env, 'EDUMAP_POLL_MS', DEFAULTS.pollMs, 0, 3_600_000),
    importMaxBytes: integer(env, 'EDUMAP_IMPORT_MAX_BYTES', DEFAULTS.importMaxBytes, 1024, 4 * 1024 ** 3),
    changesRetentionMs: integer(env, 'EDUMAP_CHANGES_RETENTION_HOURS', DEFAULTS.changesRetentionMs / 3_600_000, 1, 24 * 90) * 3_600_000,
    cancelCutoffHours: integer(env, 'EDUMAP_CANCEL_CUTOFF_HOURS', DEFAULTS.cancelCutoffHours, 0, 720),
    workers: integer(env, 'WORKERS', DEFAULTS.workers, 1, 64),
    snapshotBuild: choice(env, 'EDUMAP_SNAPSHOT_BUILD', ['auto', 'worker', 'inline'], DEFAULTS.snapshotBuild),
    foldDelayMs: integer(env, 'EDUMAP_FOLD_DELAY_MS', DEFAULTS.foldDelayMs, 0, 3_600_000),
    recordCacheBytes: integer(env, 'EDUMAP_RECORD_CACHE_MB', DEFAULTS.recordCacheBytes / 1e6, 0, 64_000) * 1e6,
    clusterCacheBytes: integer(env, 'EDUMAP_CLUSTER_CACHE_MB', DEFAULTS.clusterCacheBytes / 1e6, 0, 64_000) * 1e6,
    snapshotFile: snapshotFile(env.EDUMAP_SNAPSHOT_FILE, dbPath),
    snapshotSaveMs: integer(env, 'EDUMAP_SNAPSHOT_SAVE_MINUTES', DEFAULTS.snapshotSaveMs / 60_000, 1, 24 * 60) * 60_000,
    searchPerMinute: integer(env, 'EDUMAP_RATE_SEARCH_PER_MIN', DEFAULTS.searchPerMinute, 0, 10_000_000),
    bookingPerMinute: integer(env, 'EDUMAP_RATE_BOOKING_PER_MIN', DEFAULTS.bookingPerMinute, 0, 10_000_000),
    visitorConflictsPerHour: integer(env, 'EDUMAP_RATE_VISITOR_CONFLICTS_PER_HOUR', DEFAULTS.visitorConflictsPerHour, 0, 1_000_000),
    corsOrigins: corsOrigins(env.EDUMAP_CORS_ORIGINS),
    mcp: choice(env, 'EDUMAP_MCP', ['on', 'off'], DEFAULTS.mcp ? 'on' : 'off') === 'on',
    mcpBooking: choice(env, 'EDUMAP_MCP_BOOKING', ['open', 'key', 'off'], DEFAULTS.mcpBooking),
    drainDelayMs: integer(env, 'EDUMAP_DRAIN_DELAY_MS', DEFAULTS.drainDelayMs, 0, 600_000),
    shutdownGraceMs: integer(env, 'EDUMAP_SHUTDOWN_GRACE_MS', DEFAULTS.shutdownGraceMs, 0, 600_000),
    trustProxy: trustProxy(env.EDUMAP_TRUST_PROXY),
    headersTimeoutMs: integer(env, 'EDUMAP_HEADERS_TIMEOUT_MS', DEFAULTS.headersTimeoutMs, 1000, 600_000),
    requestTimeoutMs: integer(env, 'EDUMAP_REQUEST_TIMEOUT_MS', DEFAULTS.requestTimeoutMs, 1000, 3_600_000),
    keepAliveTimeoutMs: integer(env, 'EDUMAP_KEEP_ALIVE_TIMEOUT_MS', DEFAULTS.keepAliveTimeoutMs, 0, 600_000),
    maxConnections: integer(env, 'EDUMAP_MAX_CONNECTIONS', DEFAULTS.maxConnections, 1, 1_000_000),
    dataKeysOld: oldDataKeys(env.EDUMAP_DATA_KEY_OLD),
    ...overrides,
  };
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError('EDUMAP_HEADERS_TIMEOUT_MS must not exceed EDUMAP_REQUEST_TIMEOUT_MS');
  }
  return config;
}
