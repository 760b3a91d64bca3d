import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import request from 'supertest';
import parsePrometheus from 'parse-prometheus-text-format';
import { ADMIN_KEY, HEADER, ROOT, csvLine, startServer, testService, type TestService } from './support.js';

let svc: TestService;
afterEach(() => svc?.close());

describe('GET /metrics', () => {
  test('is Prometheus text with requests by route template, the snapshot, imports and process figures', async () => {
    svc = await testService();
    await request(svc.app).get('/v1/resources?limit=2');
    await request(svc.app).get('/v1/resources/palace-museum');
    await request(svc.app).get('/v1/resources/nope');
    await request(svc.app).post('/v1/imports').set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv')
      .send([HEADER, csvLine({ id: 'm1', name: '测', type: 'park', lng: 116.4, lat: 39.9, tags: 'ti' })].join('\n'));
    const res = await request(svc.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/text\/plain/);
    const families = new Map(parsePrometheus(res.text).map((f) => [f.name, f]));

    const requests = families.get('edumap_http_requests_total')!;
    expect(requests.type).toBe('COUNTER');
    const count = (route: string, status: string) =>
      Number(requests.metrics.find((m) => m.labels?.route === route && m.labels?.status === status)?.value ?? 0);
    expect(count('/v1/resources', '200')).toBe(1);
    expect(count('/v1/resources/:id', '200')).toBe(1);
    expect(count('/v1/resources/:id', '404')).toBe(1); // the template, never the raw id
    expect(requests.metrics.some((m) => m.labels?.route?.includes('palace'))).toBe(false);
    expect(families.get('edumap_http_request_duration_seconds')!.type).toBe('HISTOGRAM');
    expect(Number(families.get('edumap_snapshot_resources')!.metrics[0].value)).toBe(svc.holder.current.size);
    expect(Number(families.get('edumap_snapshot_age_seconds')!.metrics[0].value)).toBeGreaterThanOrEqual(0);
    expect(families.get('edumap_imports_total')!.metrics).toEqual([expect.objectContaining({ labels: { outcome: 'applied' }, value: '1' })]);
    expect(families.has('edumap_process_resident_memory_bytes')).toBe(true);
    expect(families.has('edumap_nodejs_eventloop_lag_seconds')).toBe(true);
  });
});

describe('docs', () => {
  test('/docs is a page served with local assets only', async () => {
    svc = await testService({ seed: false });
    const page = await request(svc.app).get('/docs');
    expect(page.status).toBe(200);
    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(2);
    for (const ref of refs) {
      expect(ref.startsWith('/')).toBe(true); // same origin, no CDN
      expect((await request(svc.app).get(ref)).status).toBe(200);
    }
    expect((await request(svc.app).get('/docs/assets/../../package.json')).status).toBe(404);
    expect((await request(svc.app).get('/docs/assets/index.html')).status).toBe(404);
  });
});

describe('the image', () => {
  // `npm run build` in the Dockerfile compiled scripts/ too, which import test/ (not in the image, and
  // written for jest): the build failed, unseen, since the fuzz and fault scripts began to.
  test("the Dockerfile's build step compiles the server from what the Dockerfile copies", () => {
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const copied = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^COPY (?!--from)(?:--\S+ )*(\S+) /gm)].map((m) => m[1]);
    for (const dir of build.include) expect(copied).toContain(dir);
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noEmit'], { cwd: ROOT, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 120_000);
});

describe('access control and limits', () => {
  test('rate limits answer 429 problem+json with RateLimit headers and Retry-After, per client', async () => {
    svc = await testService({ seed: false, config: { searchPerMinute: 3, bookingPerMinute: 2 } });
    const statuses: number[] = [];
    for (let k = 0; k < 4; k++) statuses.push((await request(svc.app).get('/v1/resources?limit=1')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await request(svc.app).get('/v1/resources?limit=1');
    expect(limited.type).toBe('application/problem+json');
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited.headers['ratelimit-policy']).toMatch(/q=3/);
    expect(limited.headers.ratelimit).toMatch(/r=0/);
    // A made-up bearer token buys no fresh budget: it counts against the address.
    const madeUp = await request(svc.app).get('/v1/resources?limit=1').set('Authorization', `Bearer x${Math.random()}`);
    expect(madeUp.status).toBe(429);
    // A valid key is its own client with its own budget.
    const other = await request(svc.app).get('/v1/resources?limit=1').set('Authorization', `Bearer ${ADMIN_KEY}`);
    expect(other.status).toBe(200);
    // Booking has its own, stricter budget.
    const book = [];
    for (let k = 0; k < 3; k++) book.push((await request(svc.app).post('/v1/bookings').send({})).status);
    expect(book[2]).toBe(429);
    expect(book.slice(0, 2).every((s) => s !== 429)).toBe(true);
  });

  test('security headers are set; CORS only for configured origins', async () => {
    svc = await testService({ seed: false });
    const res = await request(svc.app).get('/healthz').set('Origin', 'https://evil.example');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    await svc.close();
    svc = await testService({ seed: false, config: { corsOrigins: ['https://app.example.cn'] } });
    const ok = await request(svc.app).get('/healthz').set('Origin', 'https://app.example.cn');
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.cn');
    const no = await request(svc.app).get('/healthz').set('Origin', 'https://evil.example');
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('admin keys never reach the logs', async () => {
    const lines: string[] = [];
    svc = await testService({ seed: false });
    const { createLogger } = await import('../src/log.js');
    const log = createLogger({ logLevel: 'info' }, { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream);
    log.info({ headers: { authorization: `Bearer ${ADMIN_KEY}` }, authorization: ADMIN_KEY }, 'x');
    expect(lines.join('')).not.toContain(ADMIN_KEY);
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM: /readyz turns 503, the request in flight finishes, the process exits 0', async () => {
    const dir = (await import('node:fs')).mkdtempSync('/tmp/edumap-stop-');
    const server = await startServer({ EDUMAP_DB: `${dir}/db.sqlite`, EDUMAP_DRAIN_DELAY_MS: '1500' });
    try {
      const body = [HEADER, csvLine({ id: 'late', name: '晚到', type: 'park', lng: 116.4, lat: 39.9, tags: 'ti' })].join('\n');
      const { port } = new URL(server.url);
      // An import whose body arrives in two parts, with SIGTERM sent in between.
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/imports', method: 'POST',
          headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        const bytes = Buffer.from(body);
        req.write(bytes.subarray(0, 40));
        setTimeout(() => {
          server.child.kill('SIGTERM');
          setTimeout(() => req.end(bytes.subarray(40)), 800);
        }, 200);
      });
      await new Promise((r) => setTimeout(r, 500));
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      const done = await answer;
      expect(done.status).toBe(200);
      expect(JSON.parse(done.text)).toMatchObject({ applied: true, inserted: 1 });
      const code = await new Promise<number | null>((resolve) => {
        if (server.child.exitCode !== null) resolve(server.child.exitCode);
        else server.child.once('exit', (c) => resolve(c));
      });
      expect(code).toBe(0);
      expect(server.output()).toMatch(/"msg":"stopped"/);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('requests Node rejects before the app', () => {
  test('bad bytes in a URL and oversized headers are answered as problem+json, and the server stays up', async () => {
    const { connect } = await import('node:net');
    const dir = (await import('node:fs')).mkdtempSync('/tmp/edumap-raw-');
    const server = await startServer({ EDUMAP_DB: `${dir}/db.sqlite` });
    const raw = (bytes: Buffer) => new Promise<string>((resolve, reject) => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(bytes));
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    try {
      const badUrl = await raw(Buffer.concat([Buffer.from('GET /v1/areas?kind='), Buffer.from([0xff, 0xfe]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
      expect(badUrl).toMatch(/^HTTP\/1\.1 400 /);
      expect(badUrl).toMatch(/Content-Type: application\/problem\+json/);
      expect(JSON.parse(badUrl.slice(badUrl.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400 });
      const big = await raw(Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
