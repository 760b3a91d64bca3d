import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { buildWeb } from '../../scripts/build-web.js';
import { webRoutes } from '../../src/http/routes/web.js';
import { errorHandler } from '../../src/http/problem.js';
import { createLogger } from '../../src/log.js';
import { DEFAULTS } from '../../src/config.js';
import { testService, type TestService } from '../support.js';

let svc: TestService;
/** The page built into a directory of this test's own (the e2e test rebuilds public/build/ in parallel). */
let built: string;
let page: express.Express;
beforeAll(async () => {
  built = mkdtempSync(join(tmpdir(), 'edumap-web-'));
  await buildWeb(built);
  page = express().use(webRoutes(built)).use(errorHandler(createLogger({ ...DEFAULTS, logLevel: 'silent' })));
  svc = await testService();
}, 60_000);
afterAll(async () => {
  await svc.close();
  rmSync(built, { recursive: true, force: true });
});

describe('the map page route', () => {
  test('GET / answers the page with a policy that allows this server only', async () => {
    const res = await request(page).get('/');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('<html lang="zh-CN">');
    const csp = res.headers['content-security-policy'];
    for (const rule of ["default-src 'self'", "connect-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:"]) {
      expect(csp).toContain(rule);
    }
    expect(res.headers['cache-control']).toBe('no-cache');
    // Every script, stylesheet and icon is local.
    const refs = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(refs.every((u) => u.startsWith('/assets/') || u === '#results')).toBe(true);
  });

  test('the hashed assets are served with a year of caching, and the bundle names no other host', async () => {
    const html = await request(page).get('/');
    const js = /src="(\/assets\/app-\w+\.js)"/.exec(html.text)![1];
    const css = /href="(\/assets\/app-\w+\.css)"/.exec(html.text)![1];
    const script = await request(page).get(js);
    expect(script.status).toBe(200);
    expect(script.type).toBe('text/javascript');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const style = await request(page).get(css);
    expect(style.status).toBe(200);
    expect(style.type).toBe('text/css');
    // No URL to fetch from elsewhere: Leaflet's own links (attribution, docs) are not requests, tiles and fonts are.
    const text = readFileSync(join(built, js.slice(1)), 'utf8') + readFileSync(join(built, css.slice(1)), 'utf8');
    expect(text).not.toMatch(/\{s\}\.tile|tile\.openstreetmap|fonts\.googleapis|unpkg\.com|cdn\.jsdelivr/);
    expect(text).not.toMatch(/url\(\s*["']?https?:/);
  });

  test('does not shadow the API or the operations endpoints', async () => {
    expect((await request(svc.app).get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(svc.app).get('/readyz')).body.status).toBe('ready');
    expect((await request(svc.app).get('/openapi.yaml')).type).toBe('application/yaml');
    expect((await request(svc.app).get('/v1/areas')).body.count).toBe(16);
    const unknown = await request(svc.app).get('/v1/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('application/problem+json');
  });

  test('an unknown asset is a problem+json 404, and so is a path outside the assets', async () => {
    for (const path of ['/assets/app-NOPE.js', '/assets/../package.json', '/assets/%2e%2e/index.html', '/index.html', '/favicon.ico']) {
      const res = await request(svc.app).get(path);
      expect({ path, status: res.status, type: res.type }).toEqual({ path, status: 404, type: 'application/problem+json' });
    }
  });

  test('before the page is built, GET / says how to build it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'edumap-web-empty-'));
    try {
      const app = express().use(webRoutes(empty)).use(errorHandler(createLogger({ ...DEFAULTS, logLevel: 'silent' })));
      const res = await request(app).get('/');
      expect(res.status).toBe(404);
      expect(res.body.detail).toContain('npm run build:web');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
