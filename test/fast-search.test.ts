import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../src/http/app.js';
import { fastSearch } from '../src/http/fast-search.js';
import { Budget, ClientKeys, securityHeaderList } from '../src/http/guards.js';
import { Metrics } from '../src/http/metrics.js';
import { ADMIN_KEY, testService, type TestService } from './support.js';

// The search's fast path (src/http/fast-search.ts) answers GET /v1/resources without express: here its
// answers are held to express's, byte for byte, and its choice of what to take to what it must leave.

let svc: TestService;
afterEach(async () => {
  await svc?.close();
});

/** An answer as a client sees it, less what differs per request anyway (the date, a fresh request id). */
function seen(res: request.Response) {
  const { date: _date, 'x-request-id': id, ...headers } = res.headers as Record<string, string>;
  return { status: res.status, headers, id: id === undefined ? 'none' : /^[0-9a-f-]{36}$/.test(id) ? 'uuid' : id, body: res.text };
}

describe('the fast search answers as express does', () => {
  test('the same status, headers and body, request after request, for plain searches and for what it leaves to express', async () => {
    svc = await testService({ config: { searchPerMinute: 40 } });
    const fast = createApp(svc);
    const slow = createApp(svc, undefined, { fastSearch: false });
    await request(fast).get('/v1/resources?near=116.3972,39.9163&limit=3');
    const first = await request(slow).get('/v1/resources?near=116.3972,39.9163&limit=3');
    const cursor = first.body.next_cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const asks: { path: string; headers?: Record<string, string>; head?: boolean }[] = [
      { path: '/v1/resources' },
      { path: '/v1/resources?near=116.3972,39.9163&limit=10' },
      { path: '/v1/resources?near=116.3972,39.9163&limit=3' },
      { path: `/v1/resources?near=116.3972,39.9163&limit=3&cursor=${cursor}` },
      { path: '/v1/resources?tag=mei&tag=zhi&type=museum&limit=5&crs=gcj02' },
      { path: '/v1/resources?near=116.3972,39.9163&radius_km=3&format=geojson&limit=4' },
      { path: '/v1/resources?area=110108&open_at=2026-12-05T14:00&limit=5', headers: { 'X-Request-Id': 'client-id-1' } },
      { path: '/v1/resources?q=%E5%8D%9A%E7%89%A9%E9%A6%86&limit=2' },
      { path: '/v1/resources?stage=primary&free=true&limit=2' },
      // Left to express: bad input (a 400 counted once), a cursor of another query, exports, HEAD, other spellings, keys.
      { path: '/v1/resources?limit=abc' },
      { path: '/v1/resources?colour=red' },
      { path: `/v1/resources?tag=mei&limit=3&cursor=${cursor}` },
      { path: '/v1/resources?format=csv&tag=mei' },
      { path: '/v1/resources?format=geojson&tag=mei' },
      { path: '/v1/resources?limit=2', head: true },
      { path: '/v1/resources/?limit=2' },
      { path: '/V1/Resources?limit=2' },
      { path: '/v1/resources?limit=2', headers: { Authorization: `Bearer ${ADMIN_KEY}` } },
      { path: '/v1/resources?limit=2', headers: { Authorization: 'Bearer made-up' } },
      { path: '/v1/resources?limit=2', headers: { 'Accept-Language': 'zh-CN' } },
      { path: '/v1/resources?limit=abc', headers: { 'Accept-Language': 'zh-CN' } },
    ];
    for (const ask of asks) {
      const send = (app: typeof fast) => {
        const req = ask.head ? request(app).head(ask.path) : request(app).get(ask.path);
        for (const [name, value] of Object.entries(ask.headers ?? {})) req.set(name, value);
        return req;
      };
      const [a, b] = [await send(fast), await send(slow)];
      expect({ ask, ...seen(a) }).toEqual({ ask, ...seen(b) });
    }
    // Forty a minute: both apps have spent the same of their budgets, and both refuse the same way once spent.
    const spent = seen(await request(slow).get('/v1/resources?limit=1')).headers.ratelimit;
    expect(seen(await request(fast).get('/v1/resources?limit=1')).headers.ratelimit).toBe(spent);
    for (let k = 0; k < 40; k++) await request(fast).get('/v1/resources?limit=1');
    for (let k = 0; k < 40; k++) await request(slow).get('/v1/resources?limit=1');
    const [a, b] = [await request(fast).get('/v1/resources?limit=1'), await request(slow).get('/v1/resources?limit=1')];
    expect(a.status).toBe(429);
    expect(seen(a)).toEqual(seen(b));
  });

  test('each request counts once against the budget, whichever path answers it', async () => {
    svc = await testService({ config: { searchPerMinute: 5 } });
    const app = createApp(svc);
    const remaining: number[] = [];
    // Plain (fast), a 400 from the schema (express), a 400 from the search itself after the fast path counted it (express).
    for (const path of ['/v1/resources?limit=1', '/v1/resources?limit=abc', '/v1/resources?cursor=bm90LWEtY3Vyc29y', '/v1/resources?limit=1']) {
      const res = await request(app).get(path);
      remaining.push(Number(/r=(\d+)/.exec(res.headers.ratelimit)![1]));
    }
    expect(remaining).toEqual([4, 3, 2, 1]);
    expect((await request(app).get('/v1/resources?limit=1')).status).toBe(200);
    const refused = await request(app).get('/v1/resources?limit=1');
    expect(refused.status).toBe(429);
    expect(refused.type).toBe('application/problem+json');
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
  });

  test('its answers are logged and counted in the metrics as express\'s are', async () => {
    svc = await testService();
    const lines: Record<string, unknown>[] = [];
    const log = Object.create(svc.log) as typeof svc.log;
    log.info = ((o: Record<string, unknown>, msg: string) => void (msg === 'request' && lines.push(o))) as typeof log.info;
    const app = createApp({ ...svc, log });
    await request(app).get('/v1/resources?limit=2').set('X-Request-Id', 'abc-1').expect(200);
    await request(app).get('/v1/resources?limit=zz').set('X-Request-Id', 'abc-2').expect(400);
    expect(lines.map(({ req_id, method, route, status }) => ({ req_id, method, route, status }))).toEqual([
      { req_id: 'abc-1', method: 'GET', route: '/v1/resources', status: 200 },
      { req_id: 'abc-2', method: 'GET', route: '/v1/resources', status: 400 },
    ]);
    expect(lines[0].ms).toEqual(expect.any(Number));
    const metrics = (await request(app).get('/metrics')).text;
    expect(metrics).toMatch(/^edumap_http_requests_total\{method="GET",route="\/v1\/resources",status="200"\} 1$/m);
    expect(metrics).toMatch(/^edumap_http_requests_total\{method="GET",route="\/v1\/resources",status="400"\} 1$/m);
    expect(metrics).toMatch(/^edumap_http_request_duration_seconds_count\{method="GET",route="\/v1\/resources",status="200"\} 1$/m);
  });
});

describe('what the fast search takes', () => {
  /** Which requests `fastSearch` takes (true) and which it leaves (false), on a real server. */
  async function takes(service: TestService, asks: { path: string; method?: string; headers?: Record<string, string> }[]): Promise<boolean[]> {
    const keys = new ClientKeys(async () => false);
    const fast = fastSearch(service, {
      metrics: new Metrics(service.holder), budget: new Budget(100, 'search', keys), log: service.log,
      headers: securityHeaderList(), trust: () => false,
    });
    const out: boolean[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const fallback = () => res.writeHead(299).end('express');
      const taken = fast(req, res, fallback);
      out.push(taken);
      if (!taken) fallback();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const ask of asks) await fetch(`http://127.0.0.1:${port}${ask.path}`, { method: ask.method ?? 'GET', headers: ask.headers });
    } finally {
      server.close();
    }
    return out;
  }

  test('the plain search; not exports, bad input, other methods or spellings, keys, or cross-origin requests when CORS is on', async () => {
    svc = await testService({ config: { corsOrigins: ['https://app.example.cn'] } });
    expect(await takes(svc, [
      { path: '/v1/resources' },
      { path: '/v1/resources?near=116.4,39.9&limit=10&tag=mei&format=geojson' },
      { path: '/v1/resources?format=csv' },
      { path: '/v1/resources?format=geojson' },
      { path: '/v1/resources?encoding=gb18030' },
      { path: '/v1/resources?limit=0' },
      { path: '/v1/resources', method: 'HEAD' },
      { path: '/v1/resources', method: 'POST' },
      { path: '/v1/resources/' },
      { path: '/v1/resources/beijing-police-museum' },
      { path: '/v1/resources', headers: { Authorization: 'Bearer k' } },
      { path: '/v1/resources', headers: { Origin: 'https://app.example.cn' } },
    ])).toEqual([true, true, false, false, false, false, false, false, false, false, false, false]);
  });

  test('nothing while the index is not ready', async () => {
    svc = await testService({ seed: false });
    const ready = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(svc.holder), 'ready')!;
    Object.defineProperty(svc.holder, 'ready', { get: () => false, configurable: true });
    try {
      expect(await takes(svc, [{ path: '/v1/resources' }])).toEqual([false]);
    } finally {
      Object.defineProperty(svc.holder, 'ready', ready);
    }
  });
});
