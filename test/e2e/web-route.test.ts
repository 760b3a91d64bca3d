import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { buildWeb } from '../../scripts/build-web.js';
import { CONFIG_MARK, webRoutes } from '../../src/http/routes/web.js';
import { createApp } from '../../src/http/app.js';
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
  page = pageApp(DEFAULTS);
  svc = await testService();
}, 60_000);
afterAll(async () => {
  await svc.close();
  rmSync(built, { recursive: true, force: true });
});

/** The page route alone over this test's build, with these tile settings. */
function pageApp(settings: Parameters<typeof webRoutes>[0]): express.Express {
  return express().use(webRoutes(settings, built)).use(errorHandler(createLogger({ ...DEFAULTS, logLevel: 'silent' })));
}

/** The value of one directive of a Content-Security-Policy header. */
function directive(csp: string, name: string): string | undefined {
  return csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `));
}

/** The configuration the page reads from its JSON data block. */
function pageConfig(html: string): { baseMap: Record<string, unknown> } {
  const m = /<script type="application\/json" id="edumap-config">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no configuration block in the page');
  return JSON.parse(m[1]);
}

describe('the map page route', () => {
  test('GET / answers the page with a policy that allows this server only', async () => {
    const res = await request(page).get('/');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('<html lang="zh-CN">');
    const csp = res.headers['content-security-policy'];
    for (const rule of ["default-src 'self'", "connect-src 'self'", "script-src 'self'", "style-src 'self'"]) {
      expect(csp).toContain(rule);
    }
    // No tiles configured: images from this server only.
    expect(directive(csp, 'img-src')).toBe("img-src 'self' data:");
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
      const app = express().use(webRoutes(DEFAULTS, empty)).use(errorHandler(createLogger({ ...DEFAULTS, logLevel: 'silent' })));
      const res = await request(app).get('/');
      expect(res.status).toBe(404);
      expect(res.body.detail).toContain('npm run build:web');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the base map the operator configured', () => {
  const template = { ...DEFAULTS, tiles: 'https://{1-2}.tiles.example.cn/{z}/{x}/{y}.png', tilesCrs: 'gcj02', tilesAttribution: '示例 <b>tiles</b>', mapReviewNo: 'GS(2024)0568号' };

  test('none: the page is told so, and the marker comment is replaced', async () => {
    const res = await request(page).get('/');
    expect(res.text).not.toContain(CONFIG_MARK);
    expect(pageConfig(res.text).baseMap).toEqual({ kind: 'none', crs: 'wgs84', layers: [], attribution: '', reviewNo: null });
  });

  test('a template: img-src names exactly its hosts; the page gets its layer, crs, credit and 审图号', async () => {
    const res = await request(pageApp(template)).get('/');
    expect(res.status).toBe(200);
    expect(directive(res.headers['content-security-policy'], 'img-src')).toBe("img-src 'self' data: https://1.tiles.example.cn https://2.tiles.example.cn");
    expect(directive(res.headers['content-security-policy'], 'connect-src')).toBe("connect-src 'self'");
    expect(pageConfig(res.text).baseMap).toEqual({
      kind: 'template', crs: 'gcj02', attribution: '示例 <b>tiles</b>', reviewNo: 'GS(2024)0568号',
      layers: [{ url: 'https://{s}.tiles.example.cn/{z}/{x}/{y}.png', subdomains: ['1', '2'], maxZoom: 18 }],
    });
    // The credit's markup stays inert text inside the data block: it cannot close the element.
    expect(res.text).not.toContain('<b>tiles');
  });

  test('tianditu and amap: their tile hosts, and only those', async () => {
    const tianditu = await request(pageApp({ ...DEFAULTS, tiles: 'tianditu', tiandituKey: '0123456789abcdef0123456789abcdef' })).get('/');
    expect(directive(tianditu.headers['content-security-policy'], 'img-src'))
      .toBe(`img-src 'self' data: ${[0, 1, 2, 3, 4, 5, 6, 7].map((k) => `https://t${k}.tianditu.gov.cn`).join(' ')}`);
    expect(pageConfig(tianditu.text).baseMap.crs).toBe('wgs84');
    const amap = await request(pageApp({ ...DEFAULTS, tiles: 'amap' })).get('/');
    expect(directive(amap.headers['content-security-policy'], 'img-src'))
      .toBe(`img-src 'self' data: ${[1, 2, 3, 4].map((k) => `https://webrd0${k}.is.autonavi.com`).join(' ')}`);
    expect(pageConfig(amap.text).baseMap.crs).toBe('gcj02');
  });

  test('the whole app serves the page with the policy of its configuration (helmet\'s stays on the API)', async () => {
    const app = createApp({ ...svc, config: { ...svc.config, tiles: 'amap' } });
    const api = await request(app).get('/v1/areas');
    expect(directive(api.headers['content-security-policy'], 'img-src')).not.toContain('autonavi');
    // createApp serves public/build/; build it there too (the build writes each file whole, so parallel builds are safe).
    await buildWeb();
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(directive(res.headers['content-security-policy'], 'img-src')).toContain('https://webrd01.is.autonavi.com');
    expect(pageConfig(res.text).baseMap.kind).toBe('amap');
  });

  test('the venue console: its own page and bundle, no tile host whatever the map uses, the camera for this origin only', async () => {
    const res = await request(pageApp(template)).get('/venue');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    const csp = res.headers['content-security-policy'];
    expect(directive(csp, 'img-src')).toBe("img-src 'self' data:");
    for (const rule of ["default-src 'self'", "connect-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(rule);
    expect(res.headers['permissions-policy']).toBe('camera=(self), microphone=(), geolocation=(), payment=(), usb=()');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.text).not.toContain('edumap-config');
    const js = /src="(\/assets\/venue-\w+\.js)"/.exec(res.text)![1];
    const script = await request(pageApp(template)).get(js);
    expect(script.status).toBe(200);
    // Leaflet stays with the map page.
    expect(script.text).not.toMatch(/leaflet-container/);
  });

  test('bad settings stop the app from being built, with the variable named', () => {
    expect(() => createApp({ ...svc, config: { ...svc.config, tiles: 'tianditu' } })).toThrow(/EDUMAP_TIANDITU_KEY/);
  });
});

describe('the built page carries no source maps unless asked', () => {
  test('a default build writes no .map and names none; a debugging build does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edumap-web-maps-'));
    try {
      const plain = await buildWeb(dir);
      expect(readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.map'))).toEqual([]);
      expect(readFileSync(join(dir, plain.js), 'utf8')).not.toContain('sourceMappingURL');
      const debug = await buildWeb(dir, { sourcemap: true });
      expect(readdirSync(join(dir, 'assets')).some((f) => f.endsWith('.js.map'))).toBe(true);
      expect(readFileSync(join(dir, debug.js), 'utf8')).toContain('sourceMappingURL');
      // Built again without: the maps of the debugging build are gone.
      await buildWeb(dir);
      expect(readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.map'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
