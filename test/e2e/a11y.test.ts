/**
 * The map page for everyone (GB/T 37668-2019 ≈ WCAG 2.1 AA, and 适老化), end to end: the real app on
 * 127.0.0.1 without tiles, Debian's chromium through playwright-core, axe-core for what a machine can
 * judge (no serious or critical finding on the map, on a card with its booking form open, on the list
 * alone), and the rest by hand: every control reached and worked by the keyboard with a visible focus,
 * text at 200 % and a window at 200 % zoom without loss, the list usable without the map.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { ADMIN_KEY, testService, type TestService } from '../support.js';
import { ARTIFACTS, launch, listen, newPage, seriousViolations, type PageOptions } from './browser.js';

let svc: TestService;
let server: Awaited<ReturnType<typeof listen>>;
let base: string;
let browser: Browser;
/** A resource with a bookable slot tomorrow. */
let target: { id: string; name: string };
let resources: number;

beforeAll(async () => {
  await buildWeb();
  svc = await testService();
  server = await listen(svc.app);
  base = server.base;
  const found = await (await fetch(`${base}/v1/resources?tag=mei&near=116.3975,39.9087&limit=1`)).json() as { items: { id: string; name: string }[] };
  target = found.items[0];
  const day = new Date(Date.now() + 8 * 3_600_000 + 86_400_000).toISOString().slice(0, 10);
  const created = await fetch(`${base}/v1/resources/${target.id}/slots`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ slots: [{ start: `${day}T14:00:00+08:00`, end: `${day}T16:00:00+08:00`, capacity: { individual: 20, group: 0 } }] }),
  });
  expect(created.status).toBe(201);
  resources = ((await (await fetch(`${base}/readyz`)).json()) as { resources: number }).resources;
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await svc?.close();
});

/** The map page, drawn: its districts outlined and the first results listed. */
async function open(options: PageOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const { context, page, errors } = await newPage(browser, options);
  await page.goto(base);
  await page.waitForSelector('body[data-districts="16"]');
  await page.waitForSelector('#result-list .result');
  return { context, page, errors };
}

/** What has the focus, and whether it shows: an outline (or ring) at least 2 px wide. */
const focused = (page: Page) => page.evaluate(() => {
  const el = document.activeElement as HTMLElement | null;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const ring = style.boxShadow !== 'none' && style.boxShadow !== '';
  const name = el.id ? `#${el.id}` : el.dataset.domain && el.classList.contains('chip') ? `chip:${el.dataset.domain}`
    : el.classList.contains('leaflet-marker-icon') ? 'marker' : el.classList.contains('result') ? 'result'
      : el.className.toString().match(/leaflet-control-zoom-(in|out)/)?.[0] ?? el.tagName.toLowerCase();
  return { name, visible: outline || ring };
});

test('axe-core: no serious or critical finding on the map, nor on a card with its booking form open', async () => {
  const { context, page, errors } = await open();
  expect(await seriousViolations(page)).toEqual([]);

  await page.fill('#f-q', target.name);
  await page.click(`#result-list .result[data-id="${target.id}"]`);
  await page.waitForSelector('form.booking #contact-name');
  expect(await seriousViolations(page)).toEqual([]);
  // A failed submission shows each error beside its field (tied to it), a summary (role=alert), and moves
  // the focus to the first field at fault.
  await page.click('form.booking button[type="submit"]');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('contact-name');
  await expect(page.textContent('#contact-name-error')).resolves.toBe('请输入联系人姓名');
  await expect(page.textContent('#contact-phone-error')).resolves.toBe('请输入 11 位手机号');
  await expect(page.getAttribute('form.booking .error', 'role')).resolves.toBe('alert');
  await expect(page.getAttribute('#contact-name', 'aria-invalid')).resolves.toBe('true');
  await expect(page.getAttribute('#contact-name', 'aria-describedby')).resolves.toBe('contact-name-error');
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'map-card-form.png') });

  // In English too: the page's language follows, so screen readers speak it right.
  await page.click('#lang');
  await expect(page.getAttribute('html', 'lang')).resolves.toBe('en');
  expect(await seriousViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);

test('every control is reached by Tab with a visible focus, and works from the keyboard', async () => {
  const { context, page, errors } = await open();
  const seen = new Map<string, boolean>();
  for (let k = 0; k < 90; k++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f && !seen.has(f.name)) seen.set(f.name, f.visible);
  }
  const expected = ['#skip', '#mine', '#list-only', '#large-text', '#lang', 'chip:de', 'chip:zhi', 'chip:ti', 'chip:mei', 'chip:lao',
    '#f-stage', '#f-area', '#f-date', '#f-q', '#f-free', '#f-open', '#locate', '#use-centre', '#match',
    '#map', 'marker', 'leaflet-control-zoom-in', 'leaflet-control-zoom-out', 'result'];
  expect(expected.filter((name) => !seen.has(name))).toEqual([]);
  expect([...seen].filter(([, visible]) => !visible).map(([name]) => name)).toEqual([]);

  // A chip by Enter; the map by its arrow keys and +; the starting point at the map's centre by a button.
  await page.focus('button.chip[data-domain="zhi"]');
  await page.keyboard.press('Enter');
  await expect(page.getAttribute('button.chip[data-domain="zhi"]', 'aria-pressed')).resolves.toBe('true');
  await page.keyboard.press('Enter');
  const before = await page.evaluate(() => location.hash);
  await page.focus('#map');
  await page.keyboard.press('+');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((h) => location.hash !== h && location.hash.startsWith('#map='), before);
  await page.focus('#use-centre');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.origin-dot');
  await page.waitForSelector('#result-list .result .result-distance');

  // A marker by Enter: a cluster zooms in. A single place by Space: its card opens.
  await page.focus('.leaflet-marker-icon[role="button"]:has(.cluster)');
  const zoomBefore = await page.evaluate(() => location.hash.split('/')[0]);
  await page.keyboard.press('Enter');
  await page.waitForFunction((z) => location.hash.split('/')[0] !== z, zoomBefore);
  await page.fill('#f-q', target.name);
  await page.waitForFunction((id) => document.querySelector<HTMLElement>('.pin')?.dataset.id === id, target.id);
  await page.focus('.leaflet-marker-icon[role="button"]:has(.pin)');
  await page.keyboard.press(' ');
  await page.waitForSelector(`.card[data-id="${target.id}"]`);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#card', { state: 'hidden' });

  // A result by Enter opens its card with the focus on its name; Escape closes it and gives the focus back.
  await page.focus('#result-list .result');
  const id = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.card[data-id="${id}"]`);
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('card-title');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#card', { state: 'hidden' });
  await expect(page.evaluate(() => (document.activeElement as HTMLElement).dataset.id)).resolves.toBe(id);
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);

test('text at 200 % and a window at 200 % zoom: nothing cut off, nothing to scroll sideways', async () => {
  // The reader's own font size doubled (rem everywhere): the text grows, the page still fits.
  const { context, page, errors } = await open();
  const h1 = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('h1')!).fontSize));
  await page.evaluate(() => document.documentElement.style.setProperty('font-size', '200%'));
  await expect(page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('h1')!).fontSize))).resolves.toBeCloseTo(h1 * 2, 0);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
  await page.evaluate(() => document.documentElement.style.removeProperty('font-size'));
  // The 大字 switch: larger text, remembered.
  await page.click('#large-text');
  await expect(page.getAttribute('#large-text', 'aria-pressed')).resolves.toBe('true');
  await expect(page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).resolves.toBe('20px');
  await page.reload();
  await page.waitForSelector('#result-list .result');
  await expect(page.evaluate(() => document.documentElement.classList.contains('large-text'))).resolves.toBe(true);
  await context.close();

  // 1280 × 860 at 200 % zoom is a 640 × 430 window of CSS pixels: the narrow layout, every control in reach.
  const zoomed = await open({ viewport: { width: 640, height: 430 } });
  expect(await zoomed.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(640);
  for (const selector of ['#lang', '#large-text', '#list-only', 'button.chip[data-domain="lao"]', '#f-q', '#match', '#map', '#result-list .result']) {
    const box = (await zoomed.page.locator(selector).first().boundingBox())!;
    expect({ selector, right: box.x + box.width <= 640.5, left: box.x >= -0.5 }).toEqual({ selector, right: true, left: true });
  }
  // The map lies above the list, not over it.
  const mapBox = (await zoomed.page.locator('.mapwrap').boundingBox())!;
  const listBox = (await zoomed.page.locator('#results').boundingBox())!;
  expect(listBox.y).toBeGreaterThanOrEqual(mapBox.y + mapBox.height - 0.5);
  await zoomed.page.screenshot({ path: join(ARTIFACTS, 'map-zoom200.png'), fullPage: true });
  expect([...errors, ...zoomed.errors]).toEqual([]);
  await zoomed.context.close();
}, 90_000);

test('the list alone, without the map: the whole city, a district at a time, cards open from it', async () => {
  const { context, page, errors } = await open();
  await page.click('#list-only');
  await expect(page.getAttribute('#list-only', 'aria-pressed')).resolves.toBe('true');
  await page.waitForSelector('#map', { state: 'hidden' });
  await page.waitForFunction((n) => document.querySelector('#results-title')?.textContent === `全市 · ${n} 处`, resources);
  expect(await page.locator('#result-list .result').count()).toBe(20);
  // Page through with "load more", by the keyboard: the focus goes to the first of the new items.
  await page.focus('#results .more');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#result-list .result').length === 40);
  await expect(page.evaluate(() => Array.from(document.querySelectorAll('#result-list .result')).indexOf(document.activeElement!))).resolves.toBe(20);
  // One district: every item is in it.
  await page.selectOption('#f-area', '110108');
  await page.waitForFunction(() => {
    const items = Array.from(document.querySelectorAll('#result-list .result-meta'));
    return document.querySelector('#results-title')?.textContent?.startsWith('海淀区 · ') && items.length > 0 && items.every((el) => el.textContent!.includes('海淀区'));
  });
  await expect(page.textContent('#live')).resolves.toContain('海淀区');
  expect(await seriousViolations(page)).toEqual([]);
  // A card from the list, by the keyboard.
  await page.focus('#result-list .result');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.card #card-title');
  await page.keyboard.press('Escape');
  // Back to the map: it is drawn again, with its markers.
  await page.click('#list-only');
  await page.waitForSelector('#map', { state: 'visible' });
  await page.waitForFunction(() => document.querySelectorAll('.marker-host').length > 0);
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);
