import request from 'supertest';
import { distance } from 'geokdbush';
import { fromWgs84 } from '../src/geo/crs.js';
import { testService, type TestService } from './support.js';

let svc: TestService;
beforeAll(async () => {
  svc = await testService();
});
afterAll(() => svc.close());

const home = { lng: 116.3264, lat: 39.9606, label: 'home' };
const school = { lng: 116.3102, lat: 39.9917, label: 'school' };
const post = (body: unknown) => request(svc.app).post('/v1/match').send(body as object);

describe('POST /v1/match', () => {
  test('a balanced plan: every requested domain is represented before any repeats, heaviest first', async () => {
    const res = await post({ origins: [home], needs: { domains: { ti: 2, zhi: 1, mei: 1, lao: 1 } }, limit: 6 });
    expect(res.status).toBe(200);
    const domains = res.body.items.map((i: { domain: string }) => i.domain);
    expect(domains.slice(0, 4)).toEqual(['ti', 'lao', 'mei', 'zhi']);
    for (const item of res.body.items.slice(0, 4)) {
      expect(item.reasons.matched_domains).toContain(item.domain);
      expect(item.resource.tags.some((t: string) => t === item.domain || t.startsWith(`${item.domain}.`))).toBe(true);
    }
    expect(res.body.items).toHaveLength(6);
  });

  test('the score is the documented sum of its weighted parts, and items after the plan are by score', async () => {
    const res = await post({ origins: [home], needs: { domains: { ti: 1 }, time: { at: '2026-12-05T14:00' } }, limit: 8 });
    const { weights } = res.body.scoring;
    for (const item of res.body.items) {
      const { distance, terms, open } = item.breakdown;
      expect(item.score).toBeCloseTo(weights.distance * distance + weights.terms * terms + weights.open * open, 3);
      expect(distance).toBeCloseTo(Math.exp(-item.reasons.effective_distance_m / 1000 / 5), 3);
    }
    const scores = res.body.items.slice(1).map((i: { score: number }) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  test('two origins combine by weighted mean distance, reported per origin', async () => {
    const res = await post({ origins: [home, { ...school, weight: 3 }], limit: 3 });
    expect(res.body.combine).toBe('weighted_mean_distance');
    for (const item of res.body.items) {
      const [a, b] = item.reasons.distance_m.map((d: { distance_m: number }) => d.distance_m);
      expect(item.reasons.distance_m.map((d: { label: string }) => d.label)).toEqual(['home', 'school']);
      expect(Math.abs(item.reasons.effective_distance_m - (a + 3 * b) / 4)).toBeLessThanOrEqual(1);
    }
  });

  test('hard filters hold: stage, required tags, require_open', async () => {
    const res = await post({
      origins: [home], needs: { stage: 'preschool', tags: ['mei'], time: { at: '2026-12-05T10:00' }, require_open: true }, limit: 10,
    });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    for (const item of res.body.items) {
      expect(item.resource.stages).toContain('preschool');
      expect(item.resource.tags.some((t: string) => t === 'mei' || t.startsWith('mei.'))).toBe(true);
      expect(item.reasons.open.open).toBe(true);
    }
  });

  test('equal requests get equal answers', async () => {
    const body = { origins: [home, school], needs: { domains: { ti: 1, 美育: 1 } }, limit: 5 };
    const a = await post(body);
    const b = await post(body);
    expect(a.body).toEqual(b.body);
  });

  test('GCJ-02 origins give the same places as their WGS-84 twins', async () => {
    const gcj = { lng: 116.33265, lat: 39.96198 }; // ≈ home, as Amap would show it
    const a = await post({ origins: [gcj], crs: 'gcj02', needs: { domains: { zhi: 1 } }, limit: 5 });
    expect(a.body.crs).toBe('gcj02');
    const b = await post({ origins: [home], needs: { domains: { zhi: 1 } }, limit: 5 });
    expect(a.body.items.map((i: { resource: { id: string } }) => i.resource.id)).toEqual(b.body.items.map((i: { resource: { id: string } }) => i.resource.id));
    // Locations come back in GCJ-02: each is its WGS-84 twin converted (≈ 500 m off in Beijing), to the centimetre.
    for (const [k, item] of (a.body.items as { resource: { location: { lng: number; lat: number } } }[]).entries()) {
      const wgs = b.body.items[k].resource.location;
      const [lng, lat] = fromWgs84([wgs.lng, wgs.lat], 'gcj02');
      expect(item.resource.location.lng).toBeCloseTo(lng, 6);
      expect(item.resource.location.lat).toBeCloseTo(lat, 6);
      expect(distance(wgs.lng, wgs.lat, item.resource.location.lng, item.resource.location.lat)).toBeGreaterThan(0.2);
    }
  });

  test.each([
    [{}, 'body.origins'],
    [{ origins: [] }, 'body.origins'],
    [{ origins: [{ lng: 'x', lat: 39.9 }] }, 'body.origins[0].lng'],
    [{ origins: [{ lng: 216.3, lat: 39.9 }] }, 'body.origins[0].lng'],
    [{ origins: [home], needs: { domains: { sport: 1 } } }, 'body.needs.domains.sport'],
    [{ origins: [home], needs: { domains: { ti: -1 } } }, 'body.needs.domains.ti'],
    [{ origins: [home], needs: { stage: 'university' } }, 'body.needs.stage'],
    [{ origins: [home], needs: { time: { at: 'saturday' } } }, 'body.needs.time.at'],
    [{ origins: [home], needs: { time: { from: '2026-12-05T14:00', to: '2026-12-05T10:00' } } }, 'body.needs.time.to'],
    [{ origins: [home], needs: { require_open: true } }, 'body.needs.require_open'],
    [{ origins: [home], limit: 0 }, 'body.limit'],
    [{ origins: [home], colour: 'red' }, 'body.colour'],
    [{ origins: [home], needs: { tags: ['|'] } }, 'body.needs.tags[0]'],
  ])('400 naming the field for %j', async (body, path) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  test('415 for a body that is not JSON, 400 for JSON that does not parse', async () => {
    const text = await request(svc.app).post('/v1/match').set('Content-Type', 'text/plain').send('origins');
    expect(text.status).toBe(415);
    const bad = await request(svc.app).post('/v1/match').set('Content-Type', 'application/json').send('{"origins":');
    expect(bad.status).toBe(400);
    expect(bad.type).toBe('application/problem+json');
  });

  test('413 for an oversized body', async () => {
    const res = await post({ origins: [home], needs: { tags: ['x'.repeat(20_000)] } });
    expect(res.status).toBe(413);
  });
});
