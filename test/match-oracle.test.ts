import request from 'supertest';
import { distance } from 'geokdbush';
import { COLUMNS, createRandom, csvLine, generateRows } from '../scripts/gen.js';
import { expandTerm } from '../src/taxonomy/taxonomy.js';
import { isOpenAt, parseHoursWithCalendar } from '../src/calendar/hours.js';
import { SCORING } from '../src/match/match.js';
import { testService, type TestService } from './support.js';
import { readPlain, type Plain } from './oracle.js';

/**
 * POST /v1/match against a brute-force ranking: on data small enough that the candidate pool holds every
 * resource, every candidate is scored by the documented formula straight from the stored rows, the
 * balanced plan is picked as documented, and the answer must be exactly that.
 */
let svc: TestService;
let all: Plain[];
const RESOURCES = 150; // fewer than SCORING.pool: the pool is every resource that passes the filters

beforeAll(async () => {
  svc = await testService({ seed: false });
  const csv = COLUMNS.join(',') + '\n' + [...generateRows(RESOURCES, 31)].map(csvLine).join('');
  expect((await svc.importText(csv)).inserted).toBe(RESOURCES);
  all = await readPlain(svc.db);
});
afterAll(() => svc.close());

interface Expected { id: string; score: number; domain: string | null }

const round = (x: number) => Math.round(x * 1e4) / 1e4;

function bruteForce(body: {
  origins: { lng: number; lat: number; weight?: number }[];
  needs: { domains?: Record<string, number>; tags?: string[]; stage?: string; time?: { at: string } };
  limit: number;
}): Expected[] {
  const tax = svc.tax;
  const ancestors = (id: string) => {
    const out: string[] = [];
    for (let at: string | null = id; at !== null; at = tax.byId.get(at)!.parent) out.push(at);
    return out;
  };
  const domains = Object.entries(body.needs.domains ?? {}).map(([id, weight]) => ({ id, weight }));
  const domainTotal = domains.reduce((s, d) => s + d.weight, 0);
  const required = (body.needs.tags ?? []).map((g) => g.split('|'));
  const weightSum = body.origins.reduce((s, o) => s + (o.weight ?? 1), 0);
  const at = body.needs.time ? new Date(`${body.needs.time.at}+08:00`) : undefined;
  const scored = all.filter((r) => {
    const has = new Set(r.terms.flatMap(ancestors));
    if (domains.length && !domains.some((d) => has.has(d.id))) return false;
    if (!required.every((g) => g.some((t) => has.has(t)))) return false;
    if (body.needs.stage) {
      const related = new Set([...expandTerm(tax, body.needs.stage), ...ancestors(body.needs.stage)]);
      if (!r.stages.some((s) => related.has(s))) return false;
    }
    return true;
  }).map((r) => {
    const has = new Set(r.terms.flatMap(ancestors));
    const km = body.origins.reduce((s, o) => s + (o.weight ?? 1) * distance(o.lng, o.lat, r.lng, r.lat), 0) / weightSum;
    const covered = domains.filter((d) => has.has(d.id));
    let open = 0.5;
    if (at && r.hours) {
      const parsed = parseHoursWithCalendar(r.hours, svc.holder.current.calendar);
      open = 'hours' in parsed && isOpenAt(parsed.hours, at) ? 1 : 0;
    }
    const breakdown = {
      distance: round(Math.exp(-km / SCORING.distanceScaleKm)),
      terms: domainTotal ? round(covered.reduce((s, d) => s + d.weight, 0) / domainTotal) : 1,
      open,
    };
    const score = round(SCORING.weights.distance * breakdown.distance + SCORING.weights.terms * breakdown.terms + SCORING.weights.open * breakdown.open);
    return { id: r.id, score, metres: Math.round(km * 1000), matched: covered.map((d) => d.id) };
  }).sort((a, b) => b.score - a.score || a.metres - b.metres || (a.id < b.id ? -1 : 1));

  const picked: Expected[] = [];
  const taken = new Set<string>();
  for (const d of [...domains].sort((a, b) => b.weight - a.weight || a.id.localeCompare(b.id))) {
    if (picked.length >= body.limit) break;
    const best = scored.find((c) => !taken.has(c.id) && c.matched.includes(d.id));
    if (!best) continue;
    taken.add(best.id);
    picked.push({ id: best.id, score: best.score, domain: d.id });
  }
  for (const c of scored) {
    if (picked.length >= body.limit) break;
    if (taken.has(c.id)) continue;
    taken.add(c.id);
    picked.push({ id: c.id, score: c.score, domain: c.matched[0] ?? null });
  }
  return picked;
}

test('the answer is the brute-force ranking by the documented score, for random requests', async () => {
  const rand = createRandom(5);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const roots = ['de', 'zhi', 'ti', 'mei', 'lao'];
  const subTerms = svc.tax.terms.filter((t) => t.facet === 'domain' && t.parent !== null).map((t) => t.id);
  let nonEmpty = 0;
  for (let n = 0; n < 60; n++) {
    const origin = () => ({ lng: 116.2 + rand() * 0.4, lat: 39.8 + rand() * 0.25, weight: rand() < 0.3 ? 1 + Math.floor(rand() * 3) : undefined });
    const origins = rand() < 0.4 ? [origin(), origin()] : [origin()];
    const needs: Parameters<typeof bruteForce>[0]['needs'] = {};
    if (rand() < 0.8) {
      needs.domains = {};
      for (const root of roots) if (rand() < 0.4) needs.domains[rand() < 0.2 ? pick(subTerms.filter((t) => t.startsWith(`${root}.`))) ?? root : root] = 1 + Math.floor(rand() * 3);
      if (!Object.keys(needs.domains).length) delete needs.domains;
    }
    if (rand() < 0.3) needs.tags = [rand() < 0.5 ? pick(roots) : `${pick(roots)}|${pick(roots)}`];
    if (rand() < 0.3) needs.stage = pick(['primary', 'junior', 'senior', 'preschool']);
    if (rand() < 0.4) needs.time = { at: `2026-12-0${1 + Math.floor(rand() * 7)}T${String(8 + Math.floor(rand() * 12)).padStart(2, '0')}:00` };
    const body = { origins: origins.map((o) => (o.weight === undefined ? { lng: o.lng, lat: o.lat } : o)), needs, limit: 1 + Math.floor(rand() * 8) };
    const res = await request(svc.app).post('/v1/match').send(body);
    expect(res.status).toBe(200);
    const got = res.body.items.map((i: { resource: { id: string }; score: number; domain: string | null }) => ({ id: i.resource.id, score: i.score, domain: i.domain }));
    expect({ body, got }).toEqual({ body, got: bruteForce(body) });
    if (got.length) nonEmpty++;
  }
  expect(nonEmpty).toBeGreaterThan(40); // the requests really matched places
});
