/**
 * The map page over the operator's tiles, end to end: the real app on 127.0.0.1 configured with
 * `EDUMAP_TILES` = a URL template of a tile server started here (127.0.0.1, PNGs it draws), Debian's
 * chromium through playwright-core. Tiles come from that server and nowhere else, the CSP names it, the
 * credit and 审图号 show; declared GCJ-02, the same tiles carry every marker shifted by the GCJ-02 offset,
 * and clicks and GPS positions reach the API in GCJ-02.
 */
import { join } from 'node:path';
import gcoordModule from 'gcoord';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { createApp } from '../../src/http/app.js';
import { testService, type TestService } from '../support.js';
import { ARTIFACTS, launch, listen, newPage, seriousViolations, type Opened, type PageOptions } from './browser.js';
import { startTileServer, type TileServer } from './tile-server.js';

const gcoord = gcoordModule as unknown as typeof gcoordModule.default;

const ATTRIBUTION = 'edumap test tiles';
const REVIEW_NO = 'GS(2024)0568号';
/** The zoom of the offset test: 1 px ≈ 3.7 m in Beijing, so ~550 m of GCJ-02 offset is some 150 px. */
const ZOOM = 15;

let svc: TestService;
let tiles: TileServer;
let browser: Browser;
const closers: (() => Promise<void>)[] = [];
/** The page's server with the tiles declared WGS-84, and with the same tiles declared GCJ-02. */
let wgsBase: string;
let gcjBase: string;
/** A resource that its own full name finds alone, and where it is (WGS-84). */
let target: { id: string; name: string; lng: number; lat: number };

async function serve(tilesCrs: 'wgs84' | 'gcj02'): Promise<string> {
  const app = createApp({ ...svc, config: { ...svc.config, tiles: tiles.template, tilesCrs, tilesAttribution: ATTRIBUTION, mapReviewNo: REVIEW_NO } });
  const { base, close } = await listen(app);
  closers.push(close);
  return base;
}

beforeAll(async () => {
  await buildWeb();
  tiles = await startTileServer();
  svc = await testService();
  wgsBase = await serve('wgs84');
  gcjBase = await serve('gcj02');
  const near = await (await fetch(`${wgsBase}/v1/resources?near=116.3975,39.9087&limit=20`)).json() as
    { items: { id: string; name: string; location: { lng: number; lat: number } }[] };
  for (const r of near.items) {
    const alone = await (await fetch(`${wgsBase}/v1/resources?q=${encodeURIComponent(r.name)}`)).json() as { count: number };
    if (alone.count === 1) {
      target = { id: r.id, name: r.name, lng: r.location.lng, lat: r.location.lat };
      break;
    }
  }
  expect(target).toBeDefined();
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const close of closers) await close();
  await tiles?.close();
  await svc?.close();
});

/**
 * Opens the page of `base` (at `hash`) in a fresh context that records every request and script error (a
 * refused request too: nothing on the map is meant to be refused), once every tile in view has loaded; the
 * page's Content-Security-Policy beside.
 */
async function open(base: string, hash = '', options: PageOptions = {}): Promise<Opened & { csp: string }> {
  const opened = await newPage(browser, { refusalsAreErrors: true, ...options });
  const response = await opened.page.goto(`${base}/${hash}`);
  await opened.page.waitForSelector('body[data-districts="16"]');
  await opened.page.waitForSelector('#result-list');
  await opened.page.waitForFunction(() => {
    const all = document.querySelectorAll('img.leaflet-tile');
    return all.length > 0 && document.querySelectorAll('img.leaflet-tile-loaded').length === all.length;
  });
  return { ...opened, csp: response!.headers()['content-security-policy'] };
}

/** Requests to anything but the page's server and the tile server (data: and blob: URLs are local). */
const foreign = (requests: string[], base: string) =>
  requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith(`${tiles.origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));

/** A point's Web Mercator pixel position at `zoom` (256-px tiles), as Leaflet and the tile server count. */
function worldPx([lng, lat]: [number, number], zoom: number): { x: number; y: number } {
  const size = 256 * 2 ** zoom;
  const phi = (lat * Math.PI) / 180;
  return { x: ((lng + 180) / 360) * size, y: ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * size };
}

test('the tiles come from the configured server and nowhere else; the CSP names it; the credit and 审图号 show', async () => {
  const before = tiles.requests.length;
  const { context, page, requests, errors, csp } = await open(wgsBase);

  const img = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('img-src '));
  expect(img).toBe(`img-src 'self' data: ${tiles.origin}`);
  const tileUrls = requests.filter((u) => u.startsWith(`${tiles.origin}/`));
  expect(tileUrls.length).toBeGreaterThan(0);
  expect(tileUrls.every((u) => /\/\d+\/\d+\/\d+\.png$/.test(u))).toBe(true);
  expect(tiles.requests.length - before).toBeGreaterThanOrEqual(new Set(tileUrls).size);
  const srcs = await page.$$eval('img.leaflet-tile', (els) => els.map((el) => (el as HTMLImageElement).src));
  expect(srcs.every((s) => s.startsWith(`${tiles.origin}/`))).toBe(true);
  expect(foreign(requests, wgsBase)).toEqual([]);
  expect(requests.filter((u) => u.includes('/v1/areas')).length).toBe(1);

  // The credit, with the 审图号, is on the map and inside the view.
  const credit = page.locator('.leaflet-control-attribution');
  await expect(credit.textContent()).resolves.toContain(`${ATTRIBUTION} · 审图号：${REVIEW_NO}`);
  const box = (await credit.boundingBox())!;
  expect(box.y + box.height).toBeLessThanOrEqual(860);
  expect(box.x).toBeGreaterThanOrEqual(0);

  // Every district named, no name over another or over a marker.
  const labels = await page.$$eval('.district-label:not(.hidden) span', (els) => els.map((el) => el.getBoundingClientRect().toJSON() as DOMRect));
  expect(labels).toHaveLength(16);
  const markers = await page.$$eval('.marker-host', (els) => els.map((el) => el.getBoundingClientRect().toJSON() as DOMRect));
  const overlap = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  for (const [k, a] of labels.entries()) {
    expect(labels.filter((b, j) => j !== k && overlap(a, b))).toEqual([]);
    expect(markers.filter((m) => overlap(a, m))).toEqual([]);
  }

  await page.screenshot({ path: join(ARTIFACTS, 'map-tiles.png') });
  expect(await seriousViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);

test('on a phone the tiles, the credit and the 审图号 fit the screen', async () => {
  const { context, page, requests, errors } = await open(wgsBase, '', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const map = (await page.locator('#map').boundingBox())!;
  const credit = (await page.locator('.leaflet-control-attribution').boundingBox())!;
  expect(credit.x).toBeGreaterThanOrEqual(map.x);
  expect(credit.x + credit.width).toBeLessThanOrEqual(map.x + map.width + 0.5);
  await expect(page.locator('.leaflet-control-attribution').textContent()).resolves.toContain(REVIEW_NO);
  await page.locator('#map').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'map-tiles-phone.png') });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, 'map-tiles-phone-top.png') });
  expect(foreign(requests, wgsBase)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
}, 60_000);

/** The target's pin, alone on the map at `ZOOM` (found by its name), relative to the tile it lies on. */
async function pinOnTile(page: Page): Promise<{ x: number; y: number; pin: { x: number; y: number } }> {
  await page.fill('#f-q', target.name);
  await page.waitForFunction((id) => {
    const pins = document.querySelectorAll<HTMLElement>('.pin');
    return pins.length === 1 && pins[0].dataset.id === id && !document.querySelector('.cluster') && document.body.dataset.loading === 'false';
  }, target.id);
  const at = worldPx([target.lng, target.lat], ZOOM);
  const tile = page.locator(`img.leaflet-tile[src$="/${ZOOM}/${Math.floor(at.x / 256)}/${Math.floor(at.y / 256)}.png"]`);
  const t = (await tile.boundingBox())!;
  const p = (await page.locator('.pin').boundingBox())!;
  const pin = { x: p.x + p.width / 2, y: p.y + p.height / 2 };
  return { x: pin.x - t.x, y: pin.y - t.y, pin };
}

test('tiles declared GCJ-02: markers move onto them by the GCJ-02 offset; clicks and GPS reach the API in GCJ-02', async () => {
  const hash = `#map=${ZOOM}/${target.lat}/${target.lng}`;
  const wgs = await open(wgsBase, hash);
  const onWgs = await pinOnTile(wgs.page);
  await wgs.context.close();

  const gcj = await open(gcjBase, hash, { permissions: ['geolocation'], geolocation: { longitude: 0, latitude: 0 } });
  const { page, requests, errors } = gcj;
  const onGcj = await pinOnTile(page);

  // The same tiles, the marker where GCJ-02 puts the place: expected shift from the offset at this zoom.
  const shifted = worldPx(gcoord.transform([target.lng, target.lat], gcoord.WGS84, gcoord.GCJ02) as [number, number], ZOOM);
  const plain = worldPx([target.lng, target.lat], ZOOM);
  const expected = { x: shifted.x - plain.x, y: shifted.y - plain.y };
  expect(Math.hypot(expected.x, expected.y)).toBeGreaterThan(100); // ~500 m is well over 100 px here
  expect(Math.abs(onGcj.x - onWgs.x - expected.x)).toBeLessThanOrEqual(1.5);
  expect(Math.abs(onGcj.y - onWgs.y - expected.y)).toBeLessThanOrEqual(1.5);

  // Everything the page asked of the API was in GCJ-02.
  const api = requests.filter((u) => /\/v1\/(clusters|resources|areas)\b/.test(u));
  expect(api.length).toBeGreaterThan(0);
  expect(api.filter((u) => new URL(u).searchParams.get('crs') !== 'gcj02')).toEqual([]);

  // "Near here" from a click 40 px below the pin: the distance is what 40 px is on the ground, not ~550 m.
  const metresPerPx = (156_543.033 * Math.cos((target.lat * Math.PI) / 180)) / 2 ** ZOOM;
  await page.mouse.click(onGcj.pin.x, onGcj.pin.y + 40);
  await page.waitForSelector('.origin-dot');
  const distance = async () => {
    await page.waitForSelector(`#result-list .result[data-id="${target.id}"] .result-distance`);
    return Number((await page.textContent('#result-list .result-distance'))!.replace(/[^\d.]/g, ''));
  };
  expect(Math.abs(await distance() - 40 * metresPerPx)).toBeLessThanOrEqual(15);
  const near = requests.filter((u) => u.includes('/v1/resources?') && new URL(u).searchParams.has('near') && !new URL(u).searchParams.has('bbox'));
  expect(near.length).toBeGreaterThan(0);
  expect(near.every((u) => new URL(u).searchParams.get('crs') === 'gcj02')).toBe(true);

  // The browser's GPS position (WGS-84) at the place itself: converted, it is 0 m away, not ~550 m.
  await gcj.context.setGeolocation({ longitude: target.lng, latitude: target.lat });
  await page.click('#locate');
  await page.waitForFunction(() => /^0\s/.test(document.querySelector('#result-list .result-distance')?.textContent ?? ''));

  expect(foreign(requests, gcjBase)).toEqual([]);
  expect(errors).toEqual([]);
  await gcj.context.close();
}, 90_000);
