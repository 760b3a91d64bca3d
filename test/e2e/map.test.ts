/**
 * The map page end to end: the real server (in process, fresh temp database with the bundled Beijing data)
 * on 127.0.0.1, Debian's chromium driven by playwright-core (never a downloaded browser). It loads the page,
 * sees the districts and clustered markers, filters by 体, sets a starting point, opens a resource, books a
 * slot, and checks that every request the page made went to this server only.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { ADMIN_KEY, testService, type TestService } from '../support.js';
import { ARTIFACTS, foreign, launch, listen, newPage, type Opened, type PageOptions } from './browser.js';

/** Tian'anmen: the 体 resource nearest to it gets a bookable slot. */
const CENTRE = '116.3975,39.9087';

interface Listed { id: string; name: string; tags: string[]; distance: string | null }

let svc: TestService;
let base: string;
let close: () => Promise<void>;
let browser: Browser;
let target: { id: string; name: string; lng: number; lat: number };
let slotStart: string;

beforeAll(async () => {
  await buildWeb();
  svc = await testService();
  ({ base, close } = await listen(svc.app));

  const found = await (await fetch(`${base}/v1/resources?tag=ti&near=${CENTRE}&limit=1`)).json() as
    { items: { id: string; name: string; location: { lng: number; lat: number } }[] };
  const r = found.items[0];
  target = { id: r.id, name: r.name, lng: r.location.lng, lat: r.location.lat };
  // Tomorrow 09:00–11:00 Beijing time, 30 places for individuals.
  const day = new Date(Date.now() + 8 * 3_600_000 + 86_400_000).toISOString().slice(0, 10);
  slotStart = `${day}T09:00:00+08:00`;
  const created = await fetch(`${base}/v1/resources/${target.id}/slots`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ slots: [{ start: slotStart, end: `${day}T11:00:00+08:00`, capacity: { individual: 30, group: 0 } }] }),
  });
  expect(created.status).toBe(201);

  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
  await svc?.close();
});

/**
 * The map page, drawn, in a fresh context that records every request and every script error: a refused
 * request too, since nothing on the map page is meant to be refused.
 */
async function openMap(options: PageOptions = {}): Promise<Opened> {
  const opened = await newPage(browser, { refusalsAreErrors: true, ...options });
  await opened.page.goto(base);
  await opened.page.waitForSelector('body[data-districts="16"]');
  await opened.page.waitForSelector('#result-list');
  return opened;
}

const listed = (page: Page): Promise<Listed[]> => page.$$eval('#result-list .result', (els) => els.map((el) => ({
  id: (el as HTMLElement).dataset.id!,
  name: el.querySelector('.result-name')!.textContent!,
  tags: (el as HTMLElement).dataset.tags!.split(' '),
  distance: el.querySelector('.result-distance')?.textContent ?? null,
})));

const isTi = (tags: string[]) => tags.some((t) => t === 'ti' || t.startsWith('ti.'));

/**
 * One-click match with 体 and free seats tomorrow: a plan ranked 1, 2, 3 … each with its reasons, led by
 * the only place with room, which names the slot it would book; then back to the list.
 */
async function checkMatch(page: Page): Promise<void> {
  await page.click('#match');
  await page.waitForSelector('#match-list li.match');
  const plan = await page.$$eval('#match-list li.match', (els) => els.map((el) => ({
    id: (el as HTMLElement).dataset.id, rank: Number((el as HTMLElement).dataset.rank),
    reasons: Array.from(el.querySelectorAll('.reasons li')).map((li) => li.textContent ?? '') })));
  expect(plan.map((p) => p.rank)).toEqual(plan.map((_, k) => k + 1));
  expect(plan.every((p) => p.reasons.length >= 2)).toBe(true);
  expect(plan[0].id).toBe(target.id);
  expect(plan[0].reasons.some((r) => r.startsWith('可预约') && r.includes('余 30 位'))).toBe(true);
  await page.click('#results .back');
  await page.waitForSelector('#result-list');
}

test('the map page: districts and clusters, 体 filter, nearest from here, a resource card and a booking', async () => {
  const { context, page, requests, errors } = await openMap({ permissions: ['geolocation'], geolocation: { longitude: 0, latitude: 0 } });

  // The 16 districts as the base layer, with their names, and clustered markers whose counts add up.
  expect(await page.locator('path.district').count()).toBe(16);
  expect(await page.locator('.district-label').count()).toBe(16);
  expect(await page.locator('.district-label:not(.hidden)', { hasText: '海淀区' }).count()).toBe(1);
  const clusters = await page.$$eval('.cluster', (els) => els.map((el) => Number((el as HTMLElement).dataset.count)));
  expect(clusters.length).toBeGreaterThan(0);
  expect(clusters.every((n) => n >= 2)).toBe(true);
  const markerTotal = clusters.reduce((a, b) => a + b, 0) + await page.locator('.pin').count();
  const ready = await (await fetch(`${base}/readyz`)).json() as { resources: number };
  expect(markerTotal).toBe(ready.resources); // the whole city is in view at the start
  expect(await page.locator('.legend li').count()).toBe(6);
  const before = await listed(page);
  expect(before.length).toBeGreaterThan(0);
  expect(before.some((r) => !isTi(r.tags))).toBe(true);

  // Every control has a label; the chips say whether they are on.
  const unlabelled = await page.$$eval('input, select, button', (els) => els.filter((el) => {
    const e = el as HTMLInputElement;
    return !(e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('title') || e.textContent?.trim());
  }).map((el) => el.outerHTML.slice(0, 80)));
  expect(unlabelled).toEqual([]);

  // English and back.
  await page.click('#lang');
  await expect(page.textContent('h1')).resolves.toBe('Beijing Education Resource Map');
  await page.waitForSelector('.district-label:not(.hidden) span:text-is("Haidian")');
  await page.click('#lang');
  await expect(page.textContent('h1')).resolves.toBe('北京教育资源地图');

  // 体: the list changes to 体 resources only, and the map follows.
  const totalBefore = await page.textContent('#results-title');
  await page.click('button.chip[data-domain="ti"]');
  await expect(page.getAttribute('button.chip[data-domain="ti"]', 'aria-pressed')).resolves.toBe('true');
  await page.waitForFunction(() => {
    const items = Array.from(document.querySelectorAll<HTMLElement>('#result-list .result'));
    return items.length > 0 && items.every((el) => el.dataset.tags!.split(' ').some((t: string) => t === 'ti' || t.startsWith('ti.')));
  });
  const ti = await listed(page);
  expect(ti.length).toBeGreaterThan(0);
  for (const r of ti) expect({ id: r.id, ti: isTi(r.tags) }).toEqual({ id: r.id, ti: true });
  expect(await page.textContent('#results-title')).not.toBe(totalBefore);
  const tiMarkers = await page.$$eval('.cluster', (els) => els.reduce((a, el) => a + Number((el as HTMLElement).dataset.count), 0))
    + await page.locator('.pin').count();
  expect(tiMarkers).toBeLessThan(markerTotal);

  // A click on the map sets the starting point: the list is now nearest first, with distances.
  const box = (await page.locator('#map').boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForSelector('.origin-dot');
  await page.waitForSelector('#result-list .result .result-distance');
  const near = await listed(page);
  expect(near.every((r) => isTi(r.tags) && r.distance !== null)).toBe(true);

  // The browser's location (allowed here) at the resource with a slot: it comes first.
  await context.setGeolocation({ longitude: target.lng, latitude: target.lat });
  await page.click('#locate');
  await page.waitForFunction((id) => document.querySelector<HTMLElement>('#result-list .result')?.dataset.id === id, target.id);

  // Free seats tomorrow: the only resource with a slot is left, on the list and on the map.
  const tomorrow = slotStart.slice(0, 10);
  await page.selectOption('#f-date', tomorrow);
  await page.waitForFunction((id) => {
    const items = Array.from(document.querySelectorAll<HTMLElement>('#result-list .result'));
    return items.length === 1 && items[0].dataset.id === id;
  }, target.id);
  await page.waitForFunction((id) => {
    const pins = Array.from(document.querySelectorAll<HTMLElement>('.pin'));
    return document.querySelectorAll('.cluster').length === 0 && pins.length === 1 && pins[0].dataset.id === id;
  }, target.id);

  // One-click match from here: a ranked plan with its reasons.
  await checkMatch(page);

  // Its card: facts, terms, the slot with its places left; then a booking.
  await page.click(`#result-list .result[data-id="${target.id}"]`);
  await page.waitForSelector(`.card[data-id="${target.id}"]`);
  await expect(page.textContent('#card-title')).resolves.toBe(target.name);
  expect(await page.locator('.card .term').count()).toBeGreaterThan(0);
  const slot = page.locator('.slot').first();
  await slot.waitFor();
  await expect(slot.textContent()).resolves.toContain('余 30 位');
  await page.fill('#contact-name', '张明');
  await page.fill('#contact-phone', '13800138000');
  await page.fill('#party-size', '2');
  await page.click('form.booking button[type="submit"]');
  const confirmation = page.locator('.confirmation[data-status="confirmed"]');
  await confirmation.waitFor();
  await expect(confirmation.textContent()).resolves.toContain('预约成功');
  const bookingId = (await confirmation.getAttribute('data-booking'))!;
  await expect(page.getAttribute('.confirmation a.ics', 'href')).resolves.toBe(`/v1/bookings/${bookingId}.ics`);

  // The booking is real: two of the slot's 30 places are taken.
  const slots = await (await fetch(`${base}/v1/resources/${target.id}/slots`)).json() as { items: { start: string; remaining: { individual: number } }[] };
  expect(slots.items.find((s) => s.start === slotStart)?.remaining.individual).toBe(28);

  // The calendar file downloads with the booking's token.
  const download = page.waitForEvent('download');
  await page.click('.confirmation a.ics');
  const ics = await download;
  expect(ics.suggestedFilename()).toBe(`${bookingId}.ics`);

  await page.screenshot({ path: join(ARTIFACTS, 'map-final.png') });

  expect(foreign(requests, base)).toEqual([]);
  expect(requests.some((u) => u.startsWith(`${base}/v1/clusters?`))).toBe(true);
  expect(errors).toEqual([]);
  await context.close();
}, 120_000);

test('on a phone-sized screen the page fits the width and keeps the map, filters and list; chips take the keyboard', async () => {
  const { context, page, requests, errors } = await openMap({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  const map = (await page.locator('#map').boundingBox())!;
  expect(map.width).toBeGreaterThan(350);
  expect(map.height).toBeGreaterThan(300);
  // The chips work from the keyboard: focus 美育 and press Space.
  await page.focus('button.chip[data-domain="mei"]');
  await page.keyboard.press('Space');
  await expect(page.getAttribute('button.chip[data-domain="mei"]', 'aria-pressed')).resolves.toBe('true');
  await page.waitForFunction(() => {
    const items = Array.from(document.querySelectorAll<HTMLElement>('#result-list .result'));
    return items.length > 0 && items.every((el) => el.dataset.tags!.split(' ').some((t: string) => t === 'mei' || t.startsWith('mei.')));
  });
  await page.screenshot({ path: join(ARTIFACTS, 'map-phone.png'), fullPage: true });
  expect(foreign(requests, base)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
}, 60_000);
