/**
 * Soak: mixed search and booking load on loopback against a real server process, for a bounded time.
 *
 *   npm run soak -- [--seconds N] [--connections C] [--seed S]
 *
 * Searches (nearest, filters, GeoJSON, free seats, clusters, one-click match, single records) and bookings
 * (slots made first through the admin API; then book with Idempotency-Keys, replay, read, .ics, cancel) are
 * drawn by weight from one seeded PRNG and sent over C keep-alive connections. Reports total requests,
 * errors (5xx, connection errors, any status the action does not expect), p50/p99 latency, and the server's
 * resident memory at start, after warm-up, in the middle and at the end. After the load, each slot's
 * remaining places must equal its capacity less the bookings the client holds as confirmed.
 *
 * Exit 1 on any error, on memory growth (end RSS > warm RSS × 1.2 + 20 MB), or if the server died.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createRandom } from './gen.js';
import { formatShanghai } from '../src/time.js';
import { phoneNumber, residentId } from '../test/support.js';
import {
  UsageError, adminHeaders, intFlag, mb, percentile, send, sendJson, startServer, tempDir,
  type Answer, type Failure, type Memory, type ServerProcess,
} from './harness.js';

export const SOAK_DEFAULTS = {
  seconds: 60,
  connections: 8,
  seed: 1,
  /** Memory may grow by this factor and this many kB between the end of warm-up and the end. */
  growthFactor: 1.2,
  growthSlackKb: 20 * 1024,
  /** How often the server's memory is read, in ms. */
  sampleMs: 500,
};

export interface SoakOptions {
  seconds?: number;
  connections?: number;
  seed?: number;
  /** Seconds of load before the reference memory reading (default 20% of the run, 2–10 s). */
  warmupSeconds?: number;
  log?: (line: string) => void;
}

export interface ActionStats { count: number; errors: number; p50Ms: number; p99Ms: number }

export interface SoakReport {
  seconds: number;
  connections: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  latency: { p50Ms: number; p99Ms: number; maxMs: number };
  byAction: Record<string, ActionStats>;
  bookings: { created: number; replayed: number; cancelled: number; slotsChecked: number; slotMismatches: string[] };
  /** Resident memory (kB): at start (before load), after warm-up, in the middle and at the end of the load. */
  memory: {
    startKb: number; warmKb: number; middleKb: number; endKb: number; maxKb: number; limitKb: number; warmAnonKb: number; endAnonKb: number; grew: boolean;
    /** RSS (kB) at about every tenth of the run, for the eye. */
    timeline: { t: number; rssKb: number }[];
  };
  alive: boolean;
  errorLogLines: string[];
  ok: boolean;
}

interface Slot { id: number; resourceId: string; start: string; capacity: { individual: number; group: number } }
interface Held {
  id: string;
  token: string;
  slot: Slot;
  kind: 'individual' | 'group';
  party: number;
  /** A DELETE is in flight: a read may see either state. */
  cancelling: boolean;
  cancelled: boolean;
}

/** Shared state of one run. */
interface World {
  server: ServerProcess;
  agent: http.Agent;
  resourceIds: string[];
  tags: string[];
  slots: Slot[];
  held: Held[];
  /** Next number for keys, visitors and phones. */
  counter: number;
  at(hours: number): string;
  created: number;
  replayed: number;
  cancelled: number;
}

/** What one action did: its answer (or failure), and the reason it is an error, if it is one. */
interface Done { res: Answer | Failure; error?: string }

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)];
const point = (rand: () => number) => `${(116.25 + rand() * 0.35).toFixed(4)},${(39.8 + rand() * 0.25).toFixed(4)}`;

function expect(res: Answer | Failure, status: number, what: string): string | undefined {
  if ('error' in res) return `${what}: no answer (${res.error})`;
  if (res.status !== status) return `${what}: ${res.status} ${res.body.toString().slice(0, 300)}`;
  return undefined;
}

async function get(w: World, path: string, headers: Record<string, string> = {}): Promise<Answer | Failure> {
  return send(w.server.url, { path, headers, agent: w.agent });
}

/** The actions and their relative weights. */
const ACTIONS: Record<string, { weight: number; run: (w: World, rand: () => number) => Promise<Done> }> = {
  'search.near': {
    weight: 22,
    run: async (w, rand) => {
      const filter = pick(rand, ['', `&tag=${encodeURIComponent(pick(rand, w.tags))}`, '&type=museum,park', '&stage=primary', '&free=true', '&radius_km=5']);
      const res = await get(w, `/v1/resources?near=${point(rand)}&limit=${1 + Math.floor(rand() * 20)}${filter}`);
      return { res, error: expect(res, 200, 'search near') };
    },
  },
  'search.filters': {
    weight: 8,
    run: async (w, rand) => {
      const res = await get(w, `/v1/resources?tag=${encodeURIComponent(pick(rand, w.tags))}&open_at=${encodeURIComponent(w.at(24 + Math.floor(rand() * 96)))}&limit=20&crs=gcj02`);
      return { res, error: expect(res, 200, 'search filters') };
    },
  },
  'search.geojson': {
    weight: 6,
    run: async (w, rand) => {
      const res = await get(w, `/v1/resources?near=${point(rand)}&format=geojson&limit=50&crs=bd09`);
      return { res, error: expect(res, 200, 'search geojson') };
    },
  },
  'search.seats': {
    weight: 5,
    run: async (w, rand) => {
      const res = await get(w, `/v1/resources?near=${point(rand)}&available_from=${encodeURIComponent(w.at(48))}&available_to=${encodeURIComponent(w.at(24 * 9))}&seats=${1 + Math.floor(rand() * 4)}&limit=5`);
      return { res, error: expect(res, 200, 'search with seats') };
    },
  },
  clusters: {
    weight: 4,
    run: async (w, rand) => {
      const [lng, lat] = point(rand).split(',').map(Number);
      const res = await get(w, `/v1/clusters?bbox=${(lng - 0.2).toFixed(3)},${(lat - 0.1).toFixed(3)},${(lng + 0.2).toFixed(3)},${(lat + 0.1).toFixed(3)}&zoom=${9 + Math.floor(rand() * 6)}`);
      return { res, error: expect(res, 200, 'clusters') };
    },
  },
  match: {
    weight: 8,
    run: async (w, rand) => {
      const [lng, lat] = point(rand).split(',').map(Number);
      const body = {
        origins: [{ lng, lat, label: 'home' }, ...(rand() < 0.5 ? [{ lng: lng + 0.05, lat: lat + 0.03, label: 'school', weight: 2 }] : [])],
        needs: { stage: pick(rand, ['primary', 'junior']), domains: { ti: 2, zhi: 1, mei: 1 }, ...(rand() < 0.3 ? { party: { seats: 2 } } : {}) },
        limit: 5,
      };
      const res = await sendJson(w.server.url, 'POST', '/v1/match', body, {}, w.agent);
      return { res, error: expect(res, 200, 'match') };
    },
  },
  resource: {
    weight: 5,
    run: async (w, rand) => {
      const res = await get(w, `/v1/resources/${pick(rand, w.resourceIds)}?crs=gcj02`);
      return { res, error: expect(res, 200, 'one resource') };
    },
  },
  slots: {
    weight: 5,
    run: async (w, rand) => {
      const slot = pick(rand, w.slots);
      const res = await get(w, `/v1/resources/${slot.resourceId}/slots?from=${encodeURIComponent(w.at(24))}&to=${encodeURIComponent(w.at(24 * 12))}`);
      return { res, error: expect(res, 200, 'slots') };
    },
  },
  book: {
    weight: 16,
    run: async (w, rand) => {
      const slot = pick(rand, w.slots);
      const n = w.counter++;
      const group = rand() < 0.1;
      const party = group ? 15 + Math.floor(rand() * 30) : 1 + Math.floor(rand() * 4);
      const body = {
        slot_id: slot.id, kind: group ? 'group' : 'individual', party_size: party,
        contact: { name: `家长${n}`, phone: phoneNumber(n) },
        ...(rand() < 0.3 ? { visitor_ids: [residentId(n)] } : {}),
      };
      const key = `soak-${n}`;
      const res = await sendJson(w.server.url, 'POST', '/v1/bookings', body, { 'Idempotency-Key': key }, w.agent);
      const error = expect(res, 201, 'book');
      if (error || 'error' in res) return { res, error };
      w.held.push({ id: res.json.id, token: res.json.token, slot, kind: body.kind as Held['kind'], party, cancelling: false, cancelled: false });
      w.created++;
      if (rand() < 0.15) {
        // A client retrying: the same key and body answer the same booking again.
        const again = await sendJson(w.server.url, 'POST', '/v1/bookings', body, { 'Idempotency-Key': key }, w.agent);
        const replayError = expect(again, 201, 'replayed booking');
        if (replayError || 'error' in again) return { res: again, error: replayError };
        if (again.json.id !== res.json.id || again.headers['idempotent-replayed'] !== 'true') {
          return { res: again, error: `replayed booking: answered ${again.json.id} (replayed ${again.headers['idempotent-replayed']}), first was ${res.json.id}` };
        }
        w.replayed++;
      }
      return { res };
    },
  },
  'booking.get': {
    weight: 7,
    run: async (w, rand) => {
      if (!w.held.length) return ACTIONS['search.near'].run(w, rand);
      const b = pick(rand, w.held);
      const ics = rand() < 0.25;
      const res = await get(w, `/v1/bookings/${b.id}${ics ? '.ics' : ''}`, { Authorization: `Bearer ${b.token}` });
      let error = expect(res, 200, ics ? 'booking .ics' : 'read booking');
      const expected = b.cancelling ? ['"confirmed"', '"cancelled"'] : [b.cancelled ? '"cancelled"' : '"confirmed"'];
      if (!error && !ics && 'status' in res && !expected.some((x) => res.body.includes(`"status":${x}`))) {
        error = `read booking ${b.id}: status is not ${expected.join(' or ')}: ${res.body.toString().slice(0, 200)}`;
      }
      return { res, error };
    },
  },
  'booking.cancel': {
    weight: 5,
    run: async (w, rand) => {
      const open = w.held.filter((b) => !b.cancelled && !b.cancelling);
      if (!open.length) return ACTIONS['search.near'].run(w, rand);
      const b = pick(rand, open);
      b.cancelling = true;
      const res = await sendJson(w.server.url, 'DELETE', `/v1/bookings/${b.id}`, undefined, { Authorization: `Bearer ${b.token}` }, w.agent);
      b.cancelling = false;
      const error = expect(res, 200, 'cancel');
      if (!error) {
        b.cancelled = true;
        w.cancelled++;
      }
      return { res, error };
    },
  },
  'booking.wrong-token': {
    weight: 1,
    run: async (w, rand) => {
      if (!w.held.length) return ACTIONS['search.near'].run(w, rand);
      const res = await get(w, `/v1/bookings/${pick(rand, w.held).id}`, { Authorization: 'Bearer not-the-token-of-this-booking' });
      return { res, error: expect(res, 404, 'read with a wrong token') };
    },
  },
};

/** Makes slots with room for the whole run on `resources`, through the admin API. */
async function makeSlots(server: ServerProcess, resourceIds: string[], at: (h: number) => string): Promise<Slot[]> {
  const slots: Slot[] = [];
  for (const resourceId of resourceIds) {
    const body = { slots: [2, 3, 4, 5, 6, 7].map((day) => ({
      start: at(24 * day + 9), end: at(24 * day + 11), capacity: { individual: 100_000, group: 100_000 }, group_size: { min: 15, max: 200 },
    })) };
    const res = await sendJson(server.url, 'POST', `/v1/resources/${resourceId}/slots`, body, adminHeaders());
    if ('error' in res || res.status !== 201) throw new Error(`soak set-up: creating slots failed: ${'error' in res ? res.error : `${res.status} ${res.body}`}`);
    for (const s of res.json.items) slots.push({ id: s.id, resourceId, start: s.start, capacity: s.capacity });
  }
  return slots;
}

/** After the load: each slot's remaining places against the bookings the client holds as confirmed. */
async function checkSlots(w: World): Promise<string[]> {
  const taken = new Map<number, { individual: number; group: number }>();
  for (const b of w.held) {
    if (b.cancelled) continue;
    const t = taken.get(b.slot.id) ?? { individual: 0, group: 0 };
    t[b.kind] += b.party;
    taken.set(b.slot.id, t);
  }
  const mismatches: string[] = [];
  for (const resourceId of new Set(w.slots.map((s) => s.resourceId))) {
    const res = await sendJson(w.server.url, 'GET', `/v1/resources/${resourceId}/slots?from=${encodeURIComponent(w.at(24))}&to=${encodeURIComponent(w.at(24 * 12))}`);
    if ('error' in res || res.status !== 200) {
      mismatches.push(`slots of ${resourceId}: ${'error' in res ? res.error : res.status}`);
      continue;
    }
    for (const s of res.json.items as { id: number; capacity: { individual: number; group: number }; remaining: { individual: number; group: number } }[]) {
      const t = taken.get(s.id) ?? { individual: 0, group: 0 };
      for (const kind of ['individual', 'group'] as const) {
        if (s.remaining[kind] !== s.capacity[kind] - t[kind]) {
          mismatches.push(`slot ${s.id} ${kind}: remaining ${s.remaining[kind]}, capacity ${s.capacity[kind]} less ${t[kind]} confirmed = ${s.capacity[kind] - t[kind]}`);
        }
      }
    }
  }
  return mismatches;
}

/** Runs the soak against a fresh server. */
export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const o = { ...SOAK_DEFAULTS, ...options };
  const log = options.log ?? (() => {});
  const warmupSeconds = options.warmupSeconds ?? Math.min(10, Math.max(2, o.seconds * 0.2));
  const tmp = tempDir('soak');
  const server = await startServer({ dbPath: `${tmp.dir}/soak.db` });
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  try {
    const base = Date.parse(`${formatShanghai(new Date()).slice(0, 10)}T00:00:00+08:00`);
    const at = (hours: number) => formatShanghai(new Date(base + hours * 3_600_000));
    const listed = await sendJson(server.url, 'GET', '/v1/resources?near=116.40,39.92&limit=100');
    const taxonomy = await sendJson(server.url, 'GET', '/v1/taxonomy');
    if ('error' in listed || 'error' in taxonomy || listed.status !== 200) throw new Error('soak set-up: the server does not answer searches');
    const resourceIds = (listed.json.items as { id: string }[]).map((r) => r.id);
    const tags = (taxonomy.json.terms as { id: string; facet: string }[]).filter((t) => t.facet === 'domain' || /^(de|zhi|ti|mei|lao)\b/.test(t.id)).map((t) => t.id);
    const w: World = {
      server, agent, resourceIds, tags: tags.length ? tags : ['ti', 'zhi', 'mei'], slots: await makeSlots(server, resourceIds.slice(0, 20), at),
      held: [], counter: 0, at, created: 0, replayed: 0, cancelled: 0,
    };

    const table = Object.entries(ACTIONS);
    const total = table.reduce((s, [, a]) => s + a.weight, 0);
    const choose = (rand: () => number) => {
      let u = rand() * total;
      for (const [name, a] of table) if ((u -= a.weight) < 0) return name;
      return table[0][0];
    };

    const latencies: number[] = [];
    const perAction = new Map<string, { ms: number[]; errors: number }>();
    const errorSamples: string[] = [];
    let errors = 0;
    const memory: { t: number; m: Memory }[] = [];
    const startMemory = server.memory();
    const started = Date.now();
    const endAt = started + o.seconds * 1000;
    const sampler = setInterval(() => {
      const m = server.memory();
      if (m) memory.push({ t: (Date.now() - started) / 1000, m });
    }, o.sampleMs);
    const reporter = setInterval(() => {
      const m = server.memory();
      log(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${latencies.length} requests, ${errors} errors, server RSS ${m ? mb(m.rssKb) : 'gone'}`);
    }, 10_000);

    const connection = async (k: number) => {
      const rand = createRandom(o.seed * 1009 + k);
      while (Date.now() < endAt) {
        const name = choose(rand);
        const done = await ACTIONS[name].run(w, rand);
        const stats = perAction.get(name) ?? { ms: [], errors: 0 };
        perAction.set(name, stats);
        stats.ms.push(done.res.ms);
        latencies.push(done.res.ms);
        if (done.error) {
          errors++;
          stats.errors++;
          if (errorSamples.length < 20) errorSamples.push(done.error);
        }
        if (!server.alive()) break;
      }
    };
    await Promise.all(Array.from({ length: o.connections }, (_, k) => connection(k)));
    clearInterval(sampler);
    clearInterval(reporter);
    const seconds = (Date.now() - started) / 1000;
    const endMemory = server.memory();
    if (endMemory) memory.push({ t: seconds, m: endMemory });

    const slotMismatches = server.alive() ? await checkSlots(w) : ['the server died'];
    errors += slotMismatches.length;
    const alive = server.alive();

    const after = memory.filter((s) => s.t >= warmupSeconds);
    const warm = after[0]?.m ?? endMemory ?? startMemory;
    const middleT = (warmupSeconds + seconds) / 2;
    const middle = after.reduce((best, s) => (Math.abs(s.t - middleT) < Math.abs(best.t - middleT) ? s : best), after[0] ?? { t: 0, m: warm! }).m;
    const end = endMemory ?? memory[memory.length - 1]?.m;
    const limitKb = Math.round((warm?.rssKb ?? 0) * o.growthFactor + o.growthSlackKb);
    const grew = !end || !warm || end.rssKb > limitKb;
    const sorted = Float64Array.from(latencies).sort();
    const byAction: Record<string, ActionStats> = {};
    for (const [name, s] of [...perAction].sort(([a], [b]) => a.localeCompare(b))) {
      const ms = Float64Array.from(s.ms).sort();
      byAction[name] = { count: ms.length, errors: s.errors, p50Ms: percentile(ms, 0.5), p99Ms: percentile(ms, 0.99) };
    }
    const errorLogLines = server.output().split('\n').filter((l) => /"level":(5\d|60)/.test(l)).slice(0, 20);
    errors += errorLogLines.length;
    return {
      seconds, connections: o.connections, requests: latencies.length, errors, errorSamples: [...errorSamples, ...slotMismatches.slice(0, 10)],
      latency: { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted[sorted.length - 1] ?? NaN },
      byAction,
      bookings: { created: w.created, replayed: w.replayed, cancelled: w.cancelled, slotsChecked: w.slots.length, slotMismatches },
      memory: {
        startKb: startMemory?.rssKb ?? NaN, warmKb: warm?.rssKb ?? NaN, middleKb: middle?.rssKb ?? NaN, endKb: end?.rssKb ?? NaN,
        maxKb: Math.max(...memory.map((s) => s.m.rssKb)), limitKb, warmAnonKb: warm?.anonKb ?? NaN, endAnonKb: end?.anonKb ?? NaN, grew,
        timeline: memory.filter((_s, k) => k % Math.max(1, Math.floor(memory.length / 10)) === 0 || k === memory.length - 1).map((s) => ({ t: s.t, rssKb: s.m.rssKb })),
      },
      alive, errorLogLines,
      ok: errors === 0 && !grew && alive,
    };
  } finally {
    agent.destroy();
    await server.stop();
    tmp.remove();
  }
}

/** The report as printed by `npm run soak`. */
export function formatSoakReport(r: SoakReport): string {
  const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
  const m = r.memory;
  const lines = [
    `soak: ${r.seconds.toFixed(1)} s, ${r.connections} connections, ${r.requests} requests (${Math.round(r.requests / r.seconds)}/s), errors ${r.errors}`,
    `  latency: p50 ${ms(r.latency.p50Ms)} ms, p99 ${ms(r.latency.p99Ms)} ms, max ${ms(r.latency.maxMs)} ms`,
    ...Object.entries(r.byAction).map(([name, a]) => `    ${name.padEnd(20)} ${String(a.count).padStart(7)}  p50 ${ms(a.p50Ms).padStart(6)} ms  p99 ${ms(a.p99Ms).padStart(6)} ms  errors ${a.errors}`),
    `  bookings: ${r.bookings.created} confirmed (${r.bookings.replayed} retried with the same key and replayed), ${r.bookings.cancelled} cancelled; ` +
      `remaining places of ${r.bookings.slotsChecked} slots ${r.bookings.slotMismatches.length ? `DISAGREE in ${r.bookings.slotMismatches.length} cases` : 'agree with the confirmed bookings'}`,
    `  server RSS: start ${mb(m.startKb)}, after warm-up ${mb(m.warmKb)}, middle ${mb(m.middleKb)}, end ${mb(m.endKb)}, max ${mb(m.maxKb)} ` +
      `(anonymous ${mb(m.warmAnonKb)} → ${mb(m.endAnonKb)}); limit ${mb(m.limitKb)} → ${m.grew ? 'GREW' : 'no growth'}`,
    `  RSS over time: ${m.timeline.map((s) => `${s.t.toFixed(0)} s ${(s.rssKb / 1024).toFixed(0)}`).join(', ')} (MB)`,
    `  server: ${r.alive ? 'alive' : 'DEAD'}, ${r.errorLogLines.length} error lines in its log`,
    ...r.errorSamples.map((e) => `  ✗ ${e}`),
    ...r.errorLogLines.map((l) => `  log: ${l.slice(0, 600)}`),
    `  verdict: ${r.ok ? 'PASS' : 'FAIL'}`,
  ];
  return lines.join('\n');
}

const USAGE = `usage: npm run soak -- [--seconds N] [--connections C] [--seed S]
  --seconds N      length of the load (default ${SOAK_DEFAULTS.seconds})
  --connections C  concurrent keep-alive connections (default ${SOAK_DEFAULTS.connections})
  --seed S         PRNG seed (default ${SOAK_DEFAULTS.seed})
Exit 0: no error and no memory growth; 1: errors, growth or a dead server; 2: usage.`;

export async function main(argv: string[]): Promise<number> {
  let seconds: number;
  let connections: number;
  let seed: number;
  try {
    const { values } = parseArgs({ args: argv, strict: true, options: {
      seconds: { type: 'string' }, connections: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' },
    } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    seconds = intFlag(values, 'seconds', SOAK_DEFAULTS.seconds, 1, 24 * 3600);
    connections = intFlag(values, 'connections', SOAK_DEFAULTS.connections, 1, 1000);
    seed = intFlag(values, 'seed', SOAK_DEFAULTS.seed, -(2 ** 31), 2 ** 31);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  console.log(`soak: ${seconds} s with ${connections} connections on 127.0.0.1`);
  const report = await runSoak({ seconds, connections, seed, log: (l) => console.log(l) });
  console.log(formatSoakReport(report));
  return report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    console.error(e instanceof UsageError ? e.message : e);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  });
}
