import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DEFAULTS, ROOT, type Config } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { openService, type Service } from '../src/service.js';
import { createApp } from '../src/http/app.js';
import { importCsv, type ImportOptions } from '../src/import/csv.js';
import { freePort } from '../scripts/harness.js';
import { SqliteDatabase } from '../src/store/sqlite.js';
import { commandLine } from '../src/access/keys.js';
import type { SnapshotParts } from '../src/engine/parts.js';
import { BACKEND, createTestDatabase, dropTestDatabase } from './postgres/databases.js';

export { BACKEND };
/**
 * `test` on SQLite; on PostgreSQL the test is not registered at all: for a test about SQLite itself (its
 * files, its write lock). Each use says why beside it and names its PostgreSQL counterpart.
 */
export const sqliteOnly = (name: string, fn: () => Promise<void>, timeout?: number): void => {
  if (BACKEND === 'sqlite') test(name, fn, timeout);
};

export const ADMIN_KEY = 'test-admin-key-0123456789';
/** The principal of writes a test makes straight through the domain (as a command on the machine would). */
export const OPERATOR = commandLine('test');
/** The secrets of test services and test server processes (never real ones). */
export const TEST_HASH_KEY = 'test-hash-key-0123456789-0123456789-abcdef';
export const TEST_DATA_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

/**
 * A service over a fresh database in its own temp directory: a SQLite file, or with `EDUMAP_TEST_BACKEND=
 * postgres` a fresh PostgreSQL database (`npm run test:pg`); `close()` removes it.
 */
export interface TestService extends Service {
  dir: string;
  app: ReturnType<typeof createApp>;
  /** Stops the service and removes its directory. */
  close(): Promise<void>;
  /** Imports CSV text (or bytes) into this service's store and rebuilds the snapshot. */
  importText(text: string | Buffer, options?: ImportOptions): ReturnType<typeof importCsv>;
}

/**
 * Builds a service for one test: `seed` loads the bundled Beijing data (default), else districts only;
 * `backend` overrides the run's (a test comparing the two stores).
 */
export async function testService(options: { seed?: boolean; config?: Partial<Config>; clock?: () => number; backend?: typeof BACKEND } = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'edumap-test-'));
  const backend = options.backend ?? BACKEND;
  const config: Config = {
    ...DEFAULTS, dbPath: backend === 'postgres' ? await createTestDatabase() : join(dir, 'edumap.db'), adminKeys: [ADMIN_KEY], logLevel: 'silent', pollMs: 0, searchPerMinute: 0, bookingPerMinute: 0,
    hashKey: TEST_HASH_KEY, dataKey: Buffer.from(TEST_DATA_KEY, 'hex'), ...options.config,
  };
  const log = createLogger(config);
  const seed = options.seed ?? true;
  const service = await openService(config, log, { onlyDistricts: !seed, clock: options.clock });
  const app = createApp(service);
  return {
    ...service,
    dir,
    app,
    async close() {
      await service.close();
      if (backend === 'postgres') await dropTestDatabase(config.dbPath);
      rmSync(dir, { recursive: true, force: true });
    },
    async importText(text, opts) {
      const report = await importCsv(Readable.from([Buffer.from(text)]), { db: service.db, tax: service.tax, areas: service.holder.current.areas }, opts);
      await service.maintenance.run(); // folded, so tests that read tables see one current version per id
      await service.holder.refreshIfChanged();
      return report;
    },
  };
}

export const HEADER = 'id,name,name_en,type,lng,lat,crs,district,address,tags,stages,opening_hours,free,booking_required,phone,url,source,coord_precision_m,notes';

/** One CSV line in the bundled column order from a partial row. */
export function csvLine(row: Partial<Record<string, string | number>>): string {
  const cols = HEADER.split(',');
  return cols.map((c) => {
    const v = String(row[c] ?? '');
    return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }).join(',');
}

export { ROOT };

// ---------------------------------------------------------------------------------------------------------
// Booking: personal data for tests, and real server processes.

/**
 * A valid 18-character resident ID number (Haidian, born in 2014, so a minor's) for `n` in [0, 36500):
 * the birth date and sequence come from `n`, the check character is computed.
 */
export function residentId(n: number): string {
  const birth = new Date(Date.UTC(2014, 0, 1) + (n % 365) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const body = `110108${birth}${String(Math.floor(n / 365) % 1000).padStart(3, '0')}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** A mainland mobile number for `n` in [0, 10^8). */
export function phoneNumber(n: number): string {
  return `139${String(n).padStart(8, '0')}`;
}

export { freePort };

/** A server started as a real process by `startServer`. */
export interface ServerProcess {
  url: string;
  child: import('node:child_process').ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `src/server.ts` in its own process (through tsx) on a free port of 127.0.0.1, with `env` added to
 * a test environment, and waits until `/readyz` answers 200 (at most `timeoutMs`).
 */
export async function startServer(env: Record<string, string>, timeoutMs = 40_000): Promise<ServerProcess> {
  const { spawn } = await import('node:child_process');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', EDUMAP_ADMIN_KEYS: ADMIN_KEY,
        EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: TEST_DATA_KEY,
        EDUMAP_RATE_SEARCH_PER_MIN: '0', EDUMAP_RATE_BOOKING_PER_MIN: '0', ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { output += b.toString(); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const server: ServerProcess = {
      url,
      child,
      output: () => output,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
    };
    const deadline = Date.now() + timeoutMs;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      try {
        if ((await fetch(`${url}/readyz`)).status === 200) { ready = true; break; }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (ready) return server;
    await server.stop('SIGKILL');
    if (attempt < 2 && /EADDRINUSE/.test(output)) continue;
    throw new Error(`the server did not become ready:\n${output.slice(-3000)}`);
  }
}

/** The raw better-sqlite3 connection of a SQLite-backed service, for oracles that read tables directly. */
export function rawSqlite(svc: Service): import('better-sqlite3').Database {
  if (!(svc.db instanceof SqliteDatabase)) throw new Error('this test reads SQLite directly');
  return svc.db.raw;
}

/**
 * Everything the service's database holds at rest, as byte strings to search for data that must never be
 * stored in clear: SQLite's file and its WAL as they are on disk; on PostgreSQL, every value of every table.
 */
export async function storedBytes(svc: Service): Promise<Buffer[]> {
  if (svc.db.dialect === 'sqlite') {
    const { existsSync, readFileSync } = await import('node:fs');
    return [svc.config.dbPath, `${svc.config.dbPath}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f));
  }
  const tables = await svc.db.all<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'");
  const out: Buffer[] = [];
  for (const { name } of tables) {
    for (const row of await svc.db.all<Record<string, unknown>>(`SELECT * FROM ${name}`)) {
      out.push(Buffer.concat(Object.values(row).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))))));
    }
  }
  return out;
}

/**
 * The rows of `resources` that are current versions, for tests that read the table directly: visible (their
 * batch published), not a tombstone, not retired. Exact once published batches are folded (`maintenance.run()`).
 */
export const CURRENT_ROWS = "retired_at IS NULL AND deleted = 0 AND batch IN (SELECT id FROM batches WHERE state = 'published')";

/** Snapshot parts as plain arrays and texts (the kd-tree as its bytes), to compare two builds with toEqual. */
export function plainParts(p: SnapshotParts) {
  const { points, termPostings, typePostings, districtPostings, names, labels, ...rest } = p;
  const lists = (m: Map<string, Uint32Array>) => Object.fromEntries([...m].map(([k, v]) => [k, Array.from(v)]));
  return {
    ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v])),
    terms: lists(termPostings), types: lists(typePostings), districts: lists(districtPostings),
    names: Buffer.from(names.bytes).toString('utf8'), nameStart: Array.from(names.start),
    labels: Buffer.from(labels.bytes).toString('utf8'), labelStart: Array.from(labels.start), points: Buffer.from(new Uint8Array(points)).toString('base64'),
  };
}
