/**
 * Fault run: kill -9 the server (and the CLI importer) at random points during imports and bookings, restart,
 * and check after each restart that nothing confirmed was lost and nothing half-applied is visible.
 *
 *   npm run fault -- [--kills N] [--seed S]
 *
 * Each round starts the server on one database file and drives, at once: booking clients (book with
 * Idempotency-Keys, cancel, read), an importer posting CSVs of generated resources to `POST /v1/imports`, and
 * the import CLI (`src/cli/import.ts`) on other CSVs — sometimes told to hold inside its write transaction,
 * where it is killed. After a random time the server is killed with SIGKILL; the CLI is killed too or left to
 * finish. The import groups are disjoint sets of ids; version v of group g marks every row's name with
 * `〔fault g<g> v<v>〕`, and a group is only ever written by one importer, one version at a time.
 *
 * After each restart, and once more after the run with the server stopped:
 * - every booking whose 201 the client received is in the database, and `GET /v1/bookings/{id}` with its
 *   token answers it, confirmed or (if its cancellation was answered) cancelled;
 * - bookings cut off by a kill are sent again with the same key: a replay, a new booking, or a refusal;
 * - for each slot, taken places equal the confirmed bookings' party sizes (SQL), and the API's remaining
 *   places equal capacity less them;
 * - each import group's current rows all carry one version (or none exist): never a mix, never a subset;
 *   that version is the last acknowledged one or a later one cut off by a kill, never one killed inside its
 *   transaction; every acknowledged version is stored; the server's search sees one version per group;
 * - the data generation (`meta`) moved by exactly the number of versions that became visible, and
 *   `/readyz` reports the stored generation.
 *
 * Exit 1 on any lost write, half-applied import or other violation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { COLUMNS, createRandom, csvLine, generateRows, loadWorld, type GeneratedRow } from './gen.js';
import { ROOT } from '../src/config.js';
import Database from 'better-sqlite3';

type Db = Database.Database;

/** The checks read the database file directly, as an auditor would (not through the service's store). */
const openDb = (path: string): Db => new Database(path);
/**
 * The current versions among `resources`, as readers see them: a version of a published batch, not retired,
 * and no later-published unretired version of the same id (until the batch is folded, an id may have two).
 */
const CURRENT = `r.deleted = 0 AND r.retired_at IS NULL AND b.state = 'published' AND NOT EXISTS (
  SELECT 1 FROM resources r2 JOIN batches b2 ON b2.id = r2.batch
   WHERE r2.id = r.id AND r2.retired_at IS NULL AND b2.state = 'published' AND b2.published_seq > b.published_seq)`;
const dataGeneration = (db: Db): number =>
  Number((db.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get() as string | undefined) ?? 0);
import { formatShanghai } from '../src/time.js';
import { phoneNumber, residentId } from '../test/support.js';
import {
  UsageError, adminHeaders, intFlag, send, sendJson, sleep, startServer, tempDir, type ServerProcess,
} from './harness.js';

export const FAULT_DEFAULTS = {
  kills: 20,
  seed: 1,
  /** Import groups (half posted over HTTP, half imported by the CLI) and rows per group. */
  groups: 6,
  groupRows: 600,
  /** Concurrent booking clients. */
  bookingClients: 4,
  /** The server is killed this long after it became ready, in ms (uniform). */
  minUpMs: 300,
  maxUpMs: 2500,
  /** Every this many rounds, the CLI import is told to hold inside its write transaction (and is killed there). */
  holdEvery: 3,
  /** Every this many rounds, the server gets SIGTERM first and SIGKILL within 800 ms, while it drains. */
  termEvery: 4,
  /** Share of rounds in which a still-running CLI import is killed along with the server. */
  cliKillShare: 0.5,
};

export interface FaultOptions {
  kills?: number;
  seed?: number;
  groupRows?: number;
  /** How long the server runs before each kill, in ms (uniform between the two). */
  minUpMs?: number;
  maxUpMs?: number;
  log?: (line: string) => void;
  /** Test hook: damages the store after each restart, before the checks, to show that they notice. */
  sabotage?: (db: Db, round: number) => void;
}

export interface FaultReport {
  seconds: number;
  rounds: number;
  /** SIGKILLs of the server; of those, how many landed while an HTTP import, or a booking, was in flight. */
  kills: number;
  killsDuringHttpImport: number;
  killsDuringBooking: number;
  /** Rounds that began with SIGTERM: SIGKILLs that landed while the server drained, and stops that completed first. */
  killsDuringDrain: number;
  gracefulExits: number;
  /** SIGKILLs of the CLI importer; of those, inside its write transaction (it was holding there). */
  cliKills: number;
  cliKillsInTransaction: number;
  checks: number;
  bookings: { confirmed: number; cancelled: number; refused: number; retried: number; replayed: number; bookedAnew: number; retryRefused: number; pending: number };
  imports: { http: number; cli: number; acknowledged: number; cutOff: number; cutOffApplied: number; versionsVisible: number };
  lostWrites: string[];
  halfApplied: string[];
  violations: string[];
  serverErrors: number;
  ok: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Client-side state: what each client was told.

interface Booking {
  key: string;
  body: Record<string, unknown>;
  /** confirmed: 201 received; refused: a 4xx; unknown: cut off by a kill (or 503), to be sent again. */
  state: 'confirmed' | 'refused' | 'unknown';
  id?: string;
  token?: string;
  /** none: never asked; acked: a 200 to DELETE; unknown: the DELETE was cut off. */
  cancel: 'none' | 'acked' | 'unknown';
}

interface ImportVersion {
  group: number;
  version: number;
  via: 'http' | 'cli';
  /** acked: applied, answer received; unknown: cut off by a kill; aborted: killed inside its transaction. */
  outcome: 'pending' | 'acked' | 'unknown' | 'aborted';
  ackedAt?: number;
}

const marker = (g: number, v: number) => `〔fault g${g} v${v}〕`;
const MARKER = /〔fault g(\d+) v(\d+)〕$/;

/** Makes the import files: group g's rows with version v's marker, as CSV text. */
class ImportFiles {
  private readonly groups: GeneratedRow[][];

  constructor(groups: number, rows: number, seed: number) {
    const all = [...generateRows(groups * rows, seed, loadWorld())];
    this.groups = Array.from({ length: groups }, (_, g) => all.slice(g * rows, (g + 1) * rows));
  }

  ids(g: number): string[] {
    return this.groups[g].map((r) => r.id);
  }

  csv(g: number, v: number): string {
    let text = COLUMNS.join(',') + '\n';
    for (const row of this.groups[g]) text += csvLine({ ...row, name: `${row.name} ${marker(g, v)}` });
    return text;
  }
}

/** The run's state, shared by its loops and checks. */
class Run {
  server!: ServerProcess;
  readonly bookings: Booking[] = [];
  readonly versions: ImportVersion[] = [];
  readonly nextVersion: number[];
  readonly lost: string[] = [];
  readonly half: string[] = [];
  readonly violations: string[] = [];
  checks = 0;
  serverErrors = 0;
  counter = 0;
  stopping = false;
  httpImportInFlight = false;
  bookingsInFlight = 0;
  /** Versions seen in the store (current or retired), for the generation check. */
  readonly seen = new Set<string>();
  generation = 0;
  readonly stats = { retried: 0, replayed: 0, bookedAnew: 0, refused: 0 };

  constructor(readonly dbPath: string, readonly dir: string, readonly files: ImportFiles, readonly slots: { id: number; resourceId: string }[],
    readonly groups: number, readonly rand: () => number) {
    this.nextVersion = Array(groups).fill(1);
  }

  check(ok: boolean, list: string[], what: () => string): void {
    this.checks++;
    if (!ok) list.push(what());
  }
}

// ---------------------------------------------------------------------------------------------------------
// Load.

function bookingBody(run: Run, rand: () => number): Record<string, unknown> {
  const n = run.counter++;
  const slot = run.slots[Math.floor(rand() * run.slots.length)];
  const group = rand() < 0.1;
  return {
    slot_id: slot.id, kind: group ? 'group' : 'individual', party_size: group ? 15 + Math.floor(rand() * 6) : 1 + Math.floor(rand() * 3),
    contact: { name: `家长${n}`, phone: phoneNumber(n) }, ...(rand() < 0.2 ? { visitor_ids: [residentId(n)] } : {}),
  };
}

/** Sends a booking (again, for a retry) and records what the client learns; true when the answer was a replay. */
async function book(run: Run, b: Booking): Promise<boolean> {
  run.bookingsInFlight++;
  const res = await sendJson(run.server.url, 'POST', '/v1/bookings', b.body, { 'Idempotency-Key': b.key });
  run.bookingsInFlight--;
  if ('error' in res) {
    b.state = 'unknown';
    return false;
  }
  if (res.status === 201) {
    b.state = 'confirmed';
    b.id = res.json.id;
    b.token = res.json.token;
    return res.headers['idempotent-replayed'] === 'true';
  } else if (res.status === 503 || (res.status === 409 && res.json?.type?.endsWith('/idempotency_in_progress'))) {
    b.state = 'unknown';
  } else if (res.status >= 400 && res.status < 500) {
    b.state = 'refused';
  } else {
    run.serverErrors++;
    b.state = 'unknown';
    run.violations.push(`POST /v1/bookings (key ${b.key}) answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
  }
  return false;
}

async function bookingClient(run: Run, rand: () => number): Promise<void> {
  while (!run.stopping) {
    const r = rand();
    const confirmed = run.bookings.filter((b) => b.state === 'confirmed' && b.cancel === 'none');
    if (r < 0.8 || !confirmed.length) {
      const b: Booking = { key: `fault-${run.counter}-${Math.floor(rand() * 1e9).toString(36)}`, body: bookingBody(run, rand), state: 'unknown', cancel: 'none' };
      run.bookings.push(b);
      await book(run, b);
    } else {
      const b = confirmed[Math.floor(rand() * confirmed.length)];
      b.cancel = 'unknown';
      const res = await send(run.server.url, { method: 'DELETE', path: `/v1/bookings/${b.id}`, headers: { Authorization: `Bearer ${b.token}` } });
      if (!('error' in res) && res.status === 200) b.cancel = 'acked';
      else if (!('error' in res) && res.status !== 503) run.violations.push(`DELETE /v1/bookings/${b.id} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    }
  }
}

async function httpImporter(run: Run, rand: () => number): Promise<void> {
  const mine = Array.from({ length: Math.ceil(run.groups / 2) }, (_, k) => k);
  while (!run.stopping) {
    const g = mine[Math.floor(rand() * mine.length)];
    const v: ImportVersion = { group: g, version: run.nextVersion[g]++, via: 'http', outcome: 'pending' };
    run.versions.push(v);
    await sleep(rand() * 400); // leave the server time for bookings between imports
    if (run.stopping) {
      run.versions.pop();
      run.nextVersion[g]--;
      break;
    }
    run.httpImportInFlight = true;
    const res = await send(run.server.url, {
      method: 'POST', path: '/v1/imports', headers: { 'Content-Type': 'text/csv', ...adminHeaders() }, body: run.files.csv(g, v.version), timeoutMs: 60_000,
    });
    run.httpImportInFlight = false;
    if ('error' in res || res.status === 503) {
      v.outcome = 'unknown';
      continue;
    }
    const report = JSON.parse(res.body.toString() || '{}');
    if (res.status === 200 && report.applied && report.rejected_rows === 0) {
      v.outcome = 'acked';
      v.ackedAt = Date.now();
    } else {
      v.outcome = 'unknown';
      if (res.status >= 500) run.serverErrors++;
      run.violations.push(`POST /v1/imports (g${g} v${v.version}) answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    }
  }
}

/** One CLI import of the next version of a CLI group; resolves when it has exited (or been killed). */
function cliImport(run: Run, rand: () => number, hold: boolean, counters: { kills: number; inTransaction: number }): { done: Promise<void>; kill(): void } {
  const mine = Array.from({ length: Math.floor(run.groups / 2) }, (_, k) => Math.ceil(run.groups / 2) + k);
  const g = mine[Math.floor(rand() * mine.length)];
  const v: ImportVersion = { group: g, version: run.nextVersion[g]++, via: 'cli', outcome: 'pending' };
  run.versions.push(v);
  const file = join(run.dir, `g${g}-v${v.version}.csv`);
  writeFileSync(file, run.files.csv(g, v.version));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', file, '--json'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, EDUMAP_DB: run.dbPath, LOG_LEVEL: 'warn', ...(hold ? { EDUMAP_TEST_HOLD_BEFORE_COMMIT_MS: '2000' } : {}) },
  });
  let stdout = '';
  let stderr = '';
  let killed: 'no' | 'random' | 'holding' = 'no';
  child.stdout!.on('data', (b: Buffer) => { stdout += b; });
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b;
    if (hold && killed === 'no' && stderr.includes('holding inside the import transaction')) {
      killed = 'holding';
      child.kill('SIGKILL');
    }
  });
  const done = new Promise<void>((resolve) => child.once('exit', (code) => {
    if (killed === 'holding') {
      v.outcome = 'aborted';
      counters.kills++;
      counters.inTransaction++;
    } else if (killed === 'random') {
      v.outcome = 'unknown';
      counters.kills++;
    } else if (code === 0) {
      v.outcome = 'acked';
      v.ackedAt = Date.now();
    } else {
      v.outcome = 'unknown';
      run.violations.push(`the import CLI (g${g} v${v.version}) exited ${code}: ${(stdout + stderr).slice(-500)}`);
    }
    resolve();
  }));
  // A holding import is left to reach its transaction, where it is killed.
  return { done, kill: () => { if (!hold && child.exitCode === null && killed === 'no') { killed = 'random'; child.kill('SIGKILL'); } } };
}

// ---------------------------------------------------------------------------------------------------------
// Checks.

/** Sends the bookings cut off by the last kill again, with the same key and body. */
async function retryUnknown(run: Run): Promise<void> {
  for (const b of run.bookings.filter((x) => x.state === 'unknown')) {
    run.stats.retried++;
    // A replay means the first attempt had committed before the kill; a fresh 201 or a refusal, that it had not.
    const replayed = await book(run, b);
    if (replayed) run.stats.replayed++;
    else if (b.state === 'confirmed') run.stats.bookedAnew++;
    else if (b.state === 'refused') run.stats.refused++;
  }
}

/** Every booking the client holds as confirmed is readable with its token, in the state the client expects. */
async function checkBookingsOverHttp(run: Run): Promise<void> {
  for (const b of run.bookings.filter((x) => x.state === 'confirmed')) {
    const res = await sendJson(run.server.url, 'GET', `/v1/bookings/${b.id}`, undefined, { Authorization: `Bearer ${b.token}` });
    const status = 'error' in res ? undefined : res.json?.status;
    run.check(!('error' in res) && res.status === 200, run.lost, () => `booking ${b.id} (key ${b.key}): GET answered ${'error' in res ? res.error : res.status}`);
    if ('error' in res || res.status !== 200) continue;
    if (b.cancel === 'unknown') {
      if (status === 'cancelled') b.cancel = 'acked';
      else if (status === 'confirmed') b.cancel = 'none';
    }
    const expected = b.cancel === 'acked' ? 'cancelled' : 'confirmed';
    run.check(status === expected, run.lost, () => `booking ${b.id}: status ${status}, the client was told ${expected}`);
  }
}

/** The store, read in one transaction: bookings, slots, import groups, generation. */
function checkStore(run: Run): void {
  const db = openDb(run.dbPath);
  try {
    db.transaction(() => {
      const stored = new Map((db.prepare('SELECT id, status FROM bookings').all() as { id: string; status: string }[]).map((r) => [r.id, r.status]));
      for (const b of run.bookings.filter((x) => x.state === 'confirmed')) {
        const status = stored.get(b.id!);
        run.check(status !== undefined, run.lost, () => `booking ${b.id} (key ${b.key}) answered 201 but is not in the database`);
        if (b.cancel === 'acked') run.check(status === 'cancelled', run.lost, () => `booking ${b.id}: cancellation answered 200 but the row is ${status}`);
        if (b.cancel === 'none') run.check(status === 'confirmed', run.lost, () => `booking ${b.id}: the row is ${status}, never cancelled`);
      }
      const slots = db.prepare(`SELECT s.id, s.capacity_individual AS ci, s.taken_individual AS ti, s.capacity_group AS cg, s.taken_group AS tg,
          coalesce(sum(CASE WHEN b.kind = 'individual' THEN b.party_size END), 0) AS bi,
          coalesce(sum(CASE WHEN b.kind = 'group' THEN b.party_size END), 0) AS bg
        FROM slots s LEFT JOIN bookings b ON b.slot_id = s.id AND b.status = 'confirmed' GROUP BY s.id`).all() as Record<string, number>[];
      for (const s of slots) {
        run.check(s.ti === s.bi && s.tg === s.bg, run.violations, () => `slot ${s.id}: taken ${s.ti}/${s.tg} but confirmed bookings hold ${s.bi}/${s.bg}`);
        run.check(s.ti <= s.ci && s.tg <= s.cg, run.violations, () => `slot ${s.id}: over capacity (${s.ti}/${s.ci}, ${s.tg}/${s.cg})`);
      }

      for (let g = 0; g < run.groups; g++) {
        const ids = run.files.ids(g);
        const rows = db.prepare(`SELECT r.id, r.name FROM resources r JOIN batches b ON b.id = r.batch
          WHERE ${CURRENT} AND r.id IN (${ids.map(() => '?').join(',')})`).all(...ids) as { id: string; name: string }[];
        const versions = new Set(rows.map((r) => Number(MARKER.exec(r.name)?.[2] ?? -1)));
        run.check(rows.length === 0 || (rows.length === ids.length && versions.size === 1 && !versions.has(-1)), run.half,
          () => `group g${g}: ${rows.length} of ${ids.length} rows current, versions ${[...versions].join(', ')}`);
        if (versions.size !== 1) continue;
        const current = [...versions][0];
        const mine = run.versions.filter((v) => v.group === g);
        const lastAcked = Math.max(0, ...mine.filter((v) => v.outcome === 'acked').map((v) => v.version));
        const state = mine.find((v) => v.version === current)?.outcome;
        run.check(current >= lastAcked, run.lost, () => `group g${g}: v${current} is current but v${lastAcked} was acknowledged after it`);
        run.check(current === lastAcked || state === 'unknown', run.violations,
          () => `group g${g}: v${current} is current; it was ${state ?? 'never sent'} (last acknowledged v${lastAcked})`);
      }
      // Every version that ever became visible (published), current or since replaced.
      const visible = db.prepare(`SELECT DISTINCT substr(name, instr(name, '〔fault ')) FROM resources
        WHERE name LIKE '%〔fault g%' AND batch IN (SELECT id FROM batches WHERE state = 'published')`).pluck().all() as string[];
      const fresh = visible.filter((m) => !run.seen.has(m));
      for (const m of fresh) {
        run.seen.add(m);
        const [, g, v] = MARKER.exec(m)!.map(Number);
        const state = run.versions.find((x) => x.group === g && x.version === v)?.outcome;
        run.check(state === 'acked' || state === 'unknown', run.violations, () => `${m} is stored but was ${state ?? 'never sent'}`);
      }
      // Retired versions are purged after 10 minutes; only younger acknowledgements must still be stored.
      for (const v of run.versions.filter((x) => x.outcome === 'acked' && Date.now() - x.ackedAt! < 9 * 60_000)) {
        run.check(visible.includes(marker(v.group, v.version)), run.lost, () => `${marker(v.group, v.version)} was acknowledged but is not stored`);
      }
      const generation = dataGeneration(db);
      run.check(generation - run.generation === fresh.length, run.half,
        () => `the data generation moved by ${generation - run.generation} while ${fresh.length} import versions became visible`);
      run.generation = generation;
    })();
  } finally {
    db.close();
  }
}

/** What the restarted server answers: its generation, each slot's remaining places, one version per group. */
async function checkServerView(run: Run): Promise<void> {
  const ready = await sendJson(run.server.url, 'GET', '/readyz');
  run.check(!('error' in ready) && ready.json?.generation === run.generation, run.half,
    () => `/readyz reports generation ${'error' in ready ? ready.error : ready.json?.generation}; the store has ${run.generation}`);
  const db = openDb(run.dbPath);
  const taken = new Map((db.prepare(`SELECT slot_id, kind, sum(party_size) AS n FROM bookings WHERE status = 'confirmed' GROUP BY slot_id, kind`).all() as
    { slot_id: number; kind: string; n: number }[]).map((r) => [`${r.slot_id}/${r.kind}`, r.n]));
  db.close();
  for (const resourceId of new Set(run.slots.map((s) => s.resourceId))) {
    const res = await sendJson(run.server.url, 'GET', `/v1/resources/${resourceId}/slots?from=${encodeURIComponent(formatShanghai(new Date()))}`);
    if ('error' in res || res.status !== 200) {
      run.violations.push(`GET slots of ${resourceId}: ${'error' in res ? res.error : res.status}`);
      continue;
    }
    for (const s of res.json.items as { id: number; capacity: Record<string, number>; remaining: Record<string, number> }[]) {
      for (const kind of ['individual', 'group']) {
        const expected = s.capacity[kind] - (taken.get(`${s.id}/${kind}`) ?? 0);
        run.check(s.remaining[kind] === expected, run.violations, () => `slot ${s.id} ${kind}: the API says ${s.remaining[kind]} remaining, capacity less confirmed is ${expected}`);
      }
    }
  }
  for (let g = 0; g < run.groups; g++) {
    const res = await sendJson(run.server.url, 'GET', `/v1/resources?q=${encodeURIComponent(`〔fault g${g} v`)}&limit=100`);
    if ('error' in res || res.status !== 200) {
      run.violations.push(`search of group g${g}: ${'error' in res ? res.error : res.status}`);
      continue;
    }
    const versions = new Set((res.json.items as { name: string }[]).map((i) => MARKER.exec(i.name)?.[2]));
    run.check(versions.size <= 1, run.half, () => `the search shows group g${g} in versions ${[...versions].join(', ')} at once`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The run.

async function setup(server: ServerProcess): Promise<{ id: number; resourceId: string }[]> {
  const base = Date.parse(`${formatShanghai(new Date()).slice(0, 10)}T00:00:00+08:00`);
  const at = (h: number) => formatShanghai(new Date(base + h * 3_600_000));
  const listed = await sendJson(server.url, 'GET', '/v1/resources?near=116.40,39.92&limit=3');
  if ('error' in listed || listed.status !== 200) throw new Error('fault set-up: the server does not answer searches');
  const slots: { id: number; resourceId: string }[] = [];
  for (const { id: resourceId } of listed.json.items as { id: string }[]) {
    const res = await sendJson(server.url, 'POST', `/v1/resources/${resourceId}/slots`, {
      slots: [3, 4, 5].map((d) => ({ start: at(24 * d + 9), end: at(24 * d + 12), capacity: { individual: 400, group: 200 }, group_size: { min: 15, max: 60 } })),
    }, adminHeaders());
    if ('error' in res || res.status !== 201) throw new Error(`fault set-up: creating slots failed: ${'error' in res ? res.error : res.body}`);
    for (const s of res.json.items) slots.push({ id: s.id, resourceId });
  }
  return slots;
}

/** The fault server notices CLI imports quickly, and drains for a while after SIGTERM (requests still answered). */
const SERVER_ENV = { EDUMAP_POLL_MS: '200', EDUMAP_DRAIN_DELAY_MS: '300', EDUMAP_SHUTDOWN_GRACE_MS: '5000' };

/** Runs the fault run. */
export async function runFault(options: FaultOptions = {}): Promise<FaultReport> {
  const o = { ...FAULT_DEFAULTS, ...options };
  const log = options.log ?? (() => {});
  const rand = createRandom(o.seed);
  const tmp = tempDir('fault');
  const dbPath = join(tmp.dir, 'fault.db');
  const started = Date.now();
  let server = await startServer({ dbPath, env: SERVER_ENV });
  const port = server.port;
  const run = new Run(dbPath, tmp.dir, new ImportFiles(o.groups, o.groupRows, o.seed), await setup(server), o.groups, rand);
  run.server = server;
  const db = openDb(dbPath);
  run.generation = dataGeneration(db);
  db.close();
  const cli = { kills: 0, inTransaction: 0 };
  let kills = 0;
  let killsDuringHttpImport = 0;
  let killsDuringBooking = 0;
  let killsDuringDrain = 0;
  let terms = 0;
  let gracefulExits = 0;
  let rounds = 0;
  try {
    while (kills < o.kills) {
      rounds++;
      run.stopping = false;
      const loops = [
        ...Array.from({ length: o.bookingClients }, (_, k) => bookingClient(run, createRandom(o.seed * 7919 + rounds * 31 + k))),
        httpImporter(run, createRandom(o.seed * 104729 + rounds)),
      ];
      const importing = cliImport(run, rand, rounds % o.holdEvery === 1, cli);
      await sleep(o.minUpMs + rand() * (o.maxUpMs - o.minUpMs));
      if (rounds % 2 === 0) {
        // Every other round aims at an import: the kill lands within 300 ms of one being sent.
        for (const until = Date.now() + 3000; !run.httpImportInFlight && Date.now() < until;) await sleep(5);
        await sleep(rand() * 300);
      }
      let killed = true;
      if (rounds % o.termEvery === 0) {
        // A graceful stop (SIGTERM) cut short: SIGKILL lands while it drains, unless it has already exited.
        terms++;
        server.child.kill('SIGTERM');
        const exit = await Promise.race([server.exited, sleep(rand() * 800).then(() => undefined)]);
        killed = exit === undefined && server.alive();
        if (!killed) {
          gracefulExits++;
          if (exit?.code !== 0) run.violations.push(`SIGTERM: the server exited with ${exit?.code ?? exit?.signal} instead of 0:\n${server.output().slice(-1500)}`);
        }
      }
      run.stopping = true;
      if (killed) {
        if (run.httpImportInFlight) killsDuringHttpImport++;
        if (run.bookingsInFlight > 0) killsDuringBooking++;
        if (terms && rounds % o.termEvery === 0) killsDuringDrain++;
        await server.kill('SIGKILL');
        kills++;
      }
      if (rand() < o.cliKillShare) importing.kill();
      await Promise.all([...loops, importing.done]);

      server = await startServer({ dbPath, port, env: SERVER_ENV });
      run.server = server;
      if (options.sabotage) {
        const damaged = openDb(dbPath);
        options.sabotage(damaged, rounds);
        damaged.close();
      }
      const before = run.lost.length + run.half.length + run.violations.length;
      await retryUnknown(run);
      await checkBookingsOverHttp(run);
      checkStore(run);
      await checkServerView(run);
      const found = run.lost.length + run.half.length + run.violations.length - before;
      log(`  round ${rounds} (${killed ? `kill ${kills}` : 'graceful stop'}): ${run.checks} checks so far, ${found} new violations; ` +
        `${run.bookings.filter((b) => b.state === 'confirmed').length} bookings confirmed, ${run.versions.filter((v) => v.outcome === 'acked').length} imports acknowledged`);
    }
    await retryUnknown(run);
    await checkBookingsOverHttp(run);
    await checkServerView(run);
    await server.stop();
    checkStore(run);
  } finally {
    await server.kill();
    tmp.remove();
  }
  const cutOff = run.versions.filter((v) => v.outcome === 'unknown');
  return {
    seconds: (Date.now() - started) / 1000, rounds, kills, killsDuringHttpImport, killsDuringBooking, killsDuringDrain, gracefulExits, cliKills: cli.kills, cliKillsInTransaction: cli.inTransaction, checks: run.checks,
    bookings: {
      confirmed: run.bookings.filter((b) => b.state === 'confirmed').length,
      cancelled: run.bookings.filter((b) => b.cancel === 'acked').length,
      refused: run.bookings.filter((b) => b.state === 'refused').length,
      retried: run.stats.retried, replayed: run.stats.replayed, bookedAnew: run.stats.bookedAnew, retryRefused: run.stats.refused,
      pending: run.bookings.filter((b) => b.state === 'unknown').length,
    },
    imports: {
      http: run.versions.filter((v) => v.via === 'http').length, cli: run.versions.filter((v) => v.via === 'cli').length,
      acknowledged: run.versions.filter((v) => v.outcome === 'acked').length, cutOff: cutOff.length,
      cutOffApplied: cutOff.filter((v) => run.seen.has(marker(v.group, v.version))).length, versionsVisible: run.seen.size,
    },
    lostWrites: run.lost, halfApplied: run.half, violations: run.violations, serverErrors: run.serverErrors,
    ok: run.lost.length === 0 && run.half.length === 0 && run.violations.length === 0,
  };
}

/** The report as printed by `npm run fault`. */
export function formatFaultReport(r: FaultReport): string {
  const b = r.bookings;
  const i = r.imports;
  return [
    `fault: ${r.kills} server kills (${r.killsDuringHttpImport} during an HTTP import, ${r.killsDuringBooking} during a booking, ${r.killsDuringDrain} while ` +
      `draining after SIGTERM), ${r.gracefulExits} graceful stops that finished first, ${r.cliKills} CLI importer kills ` +
      `(${r.cliKillsInTransaction} inside its write transaction), ${r.rounds} restarts, in ${r.seconds.toFixed(1)} s`,
    `  bookings: ${b.confirmed} confirmed to the client (${b.cancelled} of them cancelled), ${b.refused} refused; ` +
      `${b.retried} retries with the same key of requests cut off by a kill (${b.replayed} replayed a booking committed before the kill, ` +
      `${b.bookedAnew} booked anew, ${b.retryRefused} refused, ${b.pending} still unresolved)`,
    `  imports: ${i.http} over HTTP, ${i.cli} by the CLI; ${i.acknowledged} acknowledged, ${i.cutOff} cut off by a kill (${i.cutOffApplied} of those applied whole, the rest not at all); ${i.versionsVisible} versions became visible`,
    `  checks after each restart: ${r.checks}`,
    `  lost writes: ${r.lostWrites.length}`,
    `  half-applied imports: ${r.halfApplied.length}`,
    `  other violations: ${r.violations.length} (server errors ${r.serverErrors})`,
    ...[...r.lostWrites, ...r.halfApplied, ...r.violations].slice(0, 30).map((v) => `  ✗ ${v}`),
    `  verdict: ${r.ok ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}

const USAGE = `usage: npm run fault -- [--kills N] [--seed S]
  --kills N   SIGKILLs of the server (default ${FAULT_DEFAULTS.kills})
  --seed S    PRNG seed (default ${FAULT_DEFAULTS.seed})
Exit 0: nothing lost or half-applied; 1: a violation; 2: usage.`;

export async function main(argv: string[]): Promise<number> {
  let kills: number;
  let seed: number;
  try {
    const { values } = parseArgs({ args: argv, strict: true, options: { kills: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    kills = intFlag(values, 'kills', FAULT_DEFAULTS.kills, 1, 100_000);
    seed = intFlag(values, 'seed', FAULT_DEFAULTS.seed, -(2 ** 31), 2 ** 31);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  console.log(`fault: ${kills} kills, seed ${seed}`);
  const report = await runFault({ kills, seed, log: (l) => console.log(l) });
  console.log(formatFaultReport(report));
  return report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    console.error(e instanceof UsageError ? e.message : e);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  });
}
