/**
 * The venue console at /venue, end to end (the real app on 127.0.0.1 over a fresh database whose clock the
 * test moves, Debian's chromium): its own page with a policy as strict as the map page's; a wrong key
 * refused plainly; the key kept for the tab only; a resource found by name; the day's slots with places
 * taken and left; rosters with masked phones and a no-show; check-in by the code typed (again: the error),
 * another venue's booking refused; a phone revealed (audited); a slot closed, its bookings listed; a QR code
 * read through `BarcodeDetector` (faked here: headless chromium on Linux has none). axe-core finds nothing
 * serious or critical. Screenshots on a desktop and a phone.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { pagePolicy } from '../../src/http/routes/web.js';
import { OPERATOR, phoneNumber, testService, type TestService } from '../support.js';
import { api, ARTIFACTS, beijingIso, foreign, launch, listen, newPage, seriousViolations } from './browser.js';

const MINUTE = 60_000;
let svc: TestService;
let base: string;
let close: () => Promise<void>;
let browser: Browser;
/** The service's clock runs `offsetMs` ahead of the real one (to end a slot). */
let offsetMs = 0;
let venue: { id: string; name: string };
let other: { id: string; name: string };
let venueKey: string;
const at = Date.now();
/** Ended (a no-show), open for check-in, to be closed; each as its id and its Beijing day. */
const slots = {} as Record<'past' | 'now' | 'close', { id: number; day: string }>;
const bookings = {} as Record<'first' | 'second' | 'closing' | 'missed' | 'elsewhere', { id: string; code: string; phone: string; name: string }>;

beforeAll(async () => {
  await buildWeb();
  svc = await testService({ clock: () => Date.now() + offsetMs });
  ({ base, close } = await listen(svc.app));
  const near = await api(base, 'GET', '/v1/resources?type=museum&near=116.3975,39.9087&limit=30');
  const unique: { id: string; name: string }[] = [];
  for (const r of near.body.items as { id: string; name: string }[]) {
    if ((await api(base, 'GET', `/v1/resources?q=${encodeURIComponent(r.name)}`)).body.count === 1) unique.push(r);
    if (unique.length === 2) break;
  }
  [venue, other] = unique.map((r) => ({ id: r.id, name: r.name }));
  venueKey = (await svc.keys.create({ role: 'venue', resources: [venue.id], label: '测试场馆' }, OPERATOR, () => true)).key;
  const otherKey = (await svc.keys.create({ role: 'venue', resources: [other.id], label: '别的场馆' }, OPERATOR, () => true)).key;
  expect((await api(base, 'PUT', `/v1/resources/${venue.id}/booking-rules`, { credential: venueKey, body: {} })).status).toBe(200);
  expect((await api(base, 'PUT', `/v1/resources/${other.id}/booking-rules`, { credential: otherKey, body: {} })).status).toBe(200);

  const slot = async (resource: string, fromMin: number, toMin: number) => {
    const start = beijingIso(at + fromMin * MINUTE);
    const made = await api(base, 'POST', `/v1/resources/${resource}/slots`, { body: { slots: [{ start, end: beijingIso(at + toMin * MINUTE), capacity: { individual: 20, group: 100 } }] } });
    expect(made.status).toBe(201);
    return { id: (made.body.items as { id: number }[])[0].id, day: start.slice(0, 10) };
  };
  slots.past = await slot(venue.id, 5, 15);
  slots.now = await slot(venue.id, 20, 80);
  slots.close = await slot(venue.id, 90, 120);
  const elsewhere = await slot(other.id, 20, 80);
  const book = async (slotId: number, n: number, name: string, party = 1) => {
    const made = await api(base, 'POST', '/v1/bookings', { key: `b-${n}`, body: { slot_id: slotId, kind: 'individual', party_size: party, contact: { name, phone: phoneNumber(n) } } });
    expect(made.status).toBe(201);
    return { id: made.body.id as string, code: made.body.checkin_code as string, phone: phoneNumber(n), name };
  };
  bookings.first = await book(slots.now.id, 201, '王小明', 2);
  bookings.second = await book(slots.now.id, 202, '李华');
  bookings.closing = await book(slots.close.id, 203, '赵六');
  bookings.missed = await book(slots.past.id, 204, '孙七');
  bookings.elsewhere = await book(elsewhere.id, 205, '周八');
  // 16 minutes on: the first slot has ended unchecked, so its booking is a no-show.
  offsetMs = 16 * MINUTE;
  expect(await svc.bookings.noShows.run()).toBe(1);
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
  await svc?.close();
});

/** The page's clock as the service's: `offsetMs` ahead, running. */
async function ahead(context: BrowserContext): Promise<void> {
  await context.clock.install({ time: Date.now() + offsetMs });
}

/** Shows a day of the resource already typed (the key given). */
async function showDay(page: Page, day: string): Promise<void> {
  await page.fill('#day', day);
  await page.click('.place-form button[type="submit"]');
  await page.waitForSelector('#place-summary strong');
  await page.waitForSelector('#slot-list, #no-slots');
}

async function useKey(page: Page, key: string): Promise<void> {
  await page.fill('#venue-key', key);
  await page.press('#venue-key', 'Enter');
  await page.waitForSelector('#key-in-use');
}

async function checkIn(page: Page, code: string): Promise<string> {
  await page.fill('#code', code);
  await page.press('#code', 'Enter');
  await page.waitForSelector(`#checkin-result .result-box`);
  await page.waitForFunction(() => !(document.querySelector('.checkin-form button[type="submit"]') as HTMLButtonElement).disabled);
  return (await page.textContent('#checkin-result'))!;
}

test('GET /venue is its own page, with a policy as strict as the map page’s and the camera for this origin only', async () => {
  const res = await fetch(`${base}/venue`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-security-policy')).toBe(pagePolicy({ origins: [] }));
  expect(res.headers.get('permissions-policy')).toContain('camera=(self)');
  expect(res.headers.get('cache-control')).toBe('no-cache');
  const html = await res.text();
  expect(html).toContain('<html lang="zh-CN">');
  expect([...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).every((u) => u.startsWith('/assets/') || u === '#checkin')).toBe(true);
  expect(html).not.toContain('edumap-config');
});

test('the console: a wrong key, the right one, the day’s slots and rosters, check-in twice, another venue’s code, a reveal, a closing', async () => {
  const { context, page, requests, errors } = await newPage(browser);
  await ahead(context);
  await page.goto(`${base}/venue`);
  await page.waitForSelector('body[data-ready="true"]');
  expect(await seriousViolations(page)).toEqual([]);

  // A wrong key: refused plainly, with the status to quote.
  await useKey(page, 'edumap_k_wrong_0123456789');
  await page.fill('#resource-q', venue.name.slice(0, Math.min(4, venue.name.length)));
  await page.click('#resource-search');
  await page.click(`#resource-results .pick[data-id="${venue.id}"]`);
  await expect(page.inputValue('#resource-id')).resolves.toBe(venue.id);
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('day');
  await page.fill('#day', slots.now.day);
  await page.click('.place-form button[type="submit"]');
  await page.waitForSelector('#place-message:not(:empty)');
  await expect(page.textContent('#place-message')).resolves.toContain('密钥无效或已被吊销');
  await expect(page.textContent('#place-message')).resolves.toContain('HTTP 403 · forbidden');

  // The right key: kept for this tab only; the view loads at once.
  await page.click('#forget-key');
  await useKey(page, venueKey);
  await page.waitForSelector(`.slot-item[data-slot="${slots.now.id}"]`);
  expect(await page.evaluate(() => sessionStorage.getItem('edumap.venue.key'))).toBe(venueKey);
  expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(venueKey);
  await expect(page.textContent('#key-in-use')).resolves.not.toContain(venueKey);
  await expect(page.textContent('#place-summary')).resolves.toContain(venue.name);

  const now = page.locator(`.slot-item[data-slot="${slots.now.id}"]`);
  await expect(now.locator('.quota[data-kind="individual"]').textContent()).resolves.toBe('个人：已约 3 / 20，余 17');
  await expect(now.locator('.stats').textContent()).resolves.toBe('有效预约 2 · 已签到 0 · 未到场 0 · 已取消 0');
  // The roster, opened from the keyboard: masked phones, nothing in clear.
  await page.focus(`#roster-toggle-${slots.now.id}`);
  await page.keyboard.press('Enter');
  if ((await page.getAttribute(`#roster-toggle-${slots.now.id}`, 'aria-expanded')) !== 'true') await page.click(`#roster-toggle-${slots.now.id}`);
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe(`roster-toggle-${slots.now.id}`);
  const roster = now.locator('.roster-item');
  await expect(roster.count()).resolves.toBe(2);
  await expect(now.locator(`.roster-item[data-booking="${bookings.first.id}"] .masked`).textContent()).resolves.toBe('139****0201');
  expect(await now.locator('.roster').textContent()).not.toContain(bookings.first.phone);
  await expect(now.locator('.audit-note').textContent()).resolves.toContain('审计日志');

  // Check-in by the code as a visitor might say it: lower case, no hyphen.
  const ok = await checkIn(page, bookings.first.code.toLowerCase().replace('-', ''));
  expect(ok).toContain('✓ 已签到');
  expect(ok).toContain('王小明 · 2 人');
  await page.waitForSelector(`.roster-item[data-booking="${bookings.first.id}"][data-status="checked_in"]`);
  await expect(now.locator('.stats').textContent()).resolves.toContain('已签到 1');
  await expect(page.inputValue('#code')).resolves.toBe('');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('code');
  // Again: already checked in, said plainly.
  const again = await checkIn(page, bookings.first.code);
  expect(again).toContain('✗ 未签到');
  expect(again).toMatch(/该预约已于 .+ 签到，不能重复签到/);
  expect(again).toContain('HTTP 409 · already_checked_in');
  await expect(page.getAttribute('#checkin-result .result-box', 'role')).resolves.toBe('alert');
  expect(await seriousViolations(page)).toEqual([]);
  // Another venue's booking: not this key's.
  const foreignCode = await checkIn(page, bookings.elsewhere.code);
  expect(foreignCode).toContain('不是本密钥所管场馆');
  expect(foreignCode).toContain('HTTP 403 · out_of_scope');
  // A code nobody has.
  expect(await checkIn(page, 'ZZZZ-ZZZZ')).toContain('没有使用此签到码的预约');

  // A contact's phone, revealed to call: shown with the audit note, and in the audit log.
  await now.locator(`#reveal-${bookings.second.id}`).click();
  const revealed = now.locator(`.roster-item[data-booking="${bookings.second.id}"] .phone.revealed`);
  await revealed.waitFor();
  await expect(revealed.textContent()).resolves.toBe(`${bookings.second.phone}（已记入审计日志）`);
  await expect(revealed.locator('a').getAttribute('href')).resolves.toBe(`tel:${bookings.second.phone}`);
  const audit = await api(base, 'GET', '/v1/audit?limit=100');
  expect((audit.body.items as { action: string; target: string; key_label: string }[]).filter((e) => e.action === 'contact.reveal'))
    .toEqual([expect.objectContaining({ target: bookings.second.id, key_label: '测试场馆' })]);

  // The slot that ended: its unchecked booking is a no-show.
  if (slots.past.day !== slots.now.day) await showDay(page, slots.past.day);
  const past = page.locator(`.slot-item[data-slot="${slots.past.id}"]`);
  await expect(past.locator('.stats').textContent()).resolves.toContain('未到场 1');
  await page.click(`#roster-toggle-${slots.past.id}`);
  await expect(past.locator(`.roster-item[data-booking="${bookings.missed.id}"] .badge`).textContent()).resolves.toBe('未到场');

  // Closing a slot: asked first, then its cancelled bookings listed to call.
  if (slots.close.day !== (await page.inputValue('#day'))) await showDay(page, slots.close.day);
  await page.click(`#close-${slots.close.id}`);
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe(`close-yes-${slots.close.id}`);
  await expect(page.textContent(`.slot-item[data-slot="${slots.close.id}"] .ask-box`)).resolves.toContain('它的 1 个有效预约将被取消');
  await page.click(`#close-yes-${slots.close.id}`);
  const closed = page.locator(`#closed-${slots.close.id}`);
  await closed.waitFor();
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe(`closed-${slots.close.id}`);
  await expect(closed.textContent()).resolves.toContain('取消了 1 个预约');
  await expect(closed.locator(`.roster-item[data-booking="${bookings.closing.id}"]`).textContent()).resolves.toContain('赵六');
  await expect(page.locator(`.slot-item[data-slot="${slots.close.id}"]`).count()).resolves.toBe(0);
  const after = await api(base, 'GET', `/v1/slots/${slots.close.id}/roster`);
  expect((after.body.items as { status: string }[]).map((x) => x.status)).toEqual(['cancelled_by_venue']);

  if (slots.now.day !== (await page.inputValue('#day'))) await showDay(page, slots.now.day);
  if ((await page.getAttribute(`#roster-toggle-${slots.now.id}`, 'aria-expanded')) !== 'true') await page.click(`#roster-toggle-${slots.now.id}`);
  // An ended slot has nothing left to close.
  await expect(page.locator(`#close-${slots.past.id}`).count()).resolves.toBe(0);
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'venue.png'), fullPage: true });

  // English: the same console.
  await page.click('#lang');
  await expect(page.textContent('h1')).resolves.toBe('Venue console');
  await expect(page.locator(`.slot-item[data-slot="${slots.now.id}"] .quota[data-kind="individual"]`).textContent()).resolves.toBe('Individuals: 3 of 20 taken, 17 left');
  expect(await seriousViolations(page)).toEqual([]);
  await page.click('#lang');

  // A reload keeps the key (same tab); a new tab's session has none.
  await page.reload();
  await page.waitForSelector(`.slot-item[data-slot="${slots.now.id}"]`);
  const fresh = await context.newPage();
  await fresh.goto(`${base}/venue`);
  await fresh.waitForSelector('#venue-key');
  await fresh.close();

  expect(foreign(requests, base)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
}, 120_000);

test('on a phone: one column that fits, every control in reach; a QR code read by the camera checks in', async () => {
  const { context, page, errors } = await newPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await ahead(context);
  // Headless chromium on Linux has no BarcodeDetector and no camera: both faked, as a phone's would answer.
  await context.addInitScript(() => {
    const w = window as unknown as { BarcodeDetector: unknown; fakeQr?: string };
    w.BarcodeDetector = class {
      async detect(): Promise<{ rawValue: string }[]> {
        return w.fakeQr ? [{ rawValue: w.fakeQr }] : [];
      }
    };
    navigator.mediaDevices.getUserMedia = async () => {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 64;
      const g = canvas.getContext('2d')!;
      setInterval(() => {
        g.fillStyle = `hsl(${Date.now() % 360}, 60%, 50%)`;
        g.fillRect(0, 0, 64, 64);
      }, 50);
      return canvas.captureStream(10);
    };
  });
  await page.goto(`${base}/venue`);
  await page.waitForSelector('body[data-ready="true"]');
  await useKey(page, venueKey);
  await page.fill('#resource-id', venue.id);
  await showDay(page, slots.now.day);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  for (const selector of ['#lang', '#large-text', '#forget-key', '#resource-id', '#day', '#code', '#scan', `#roster-toggle-${slots.now.id}`]) {
    const box = (await page.locator(selector).boundingBox())!;
    expect({ selector, inside: box.x >= -0.5 && box.x + box.width <= 390.5, tall: box.height >= 44 }).toEqual({ selector, inside: true, tall: true });
  }
  await page.click(`#roster-toggle-${slots.now.id}`);
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'venue-phone.png'), fullPage: true });

  // Scan: the camera's picture shows, the code is read, the visitor checked in, the camera off again.
  await page.click('#scan');
  await page.waitForSelector('video.scan-video');
  await expect(page.getAttribute('#scan', 'aria-pressed')).resolves.toBe('true');
  await page.evaluate((code) => {
    (window as unknown as { fakeQr: string }).fakeQr = code;
  }, bookings.second.code);
  await page.waitForSelector('#checkin-result .result-box.ok');
  await expect(page.textContent('#checkin-result')).resolves.toContain('李华 · 1 人');
  await expect(page.locator('video.scan-video').count()).resolves.toBe(0);
  await page.waitForSelector(`.roster-item[data-booking="${bookings.second.id}"][data-status="checked_in"]`);
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);

test('every control is reached by Tab with a visible focus; text at 200 % still fits a phone', async () => {
  const { context, page, errors } = await newPage(browser);
  await ahead(context);
  await page.goto(`${base}/venue`);
  await page.waitForSelector('body[data-ready="true"]');
  await useKey(page, venueKey);
  await page.fill('#resource-id', venue.id);
  await showDay(page, slots.now.day);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const seen = new Map<string, boolean>();
  for (let k = 0; k < 40; k++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      return { name: el.id ? `#${el.id}` : el.tagName.toLowerCase(), visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
    });
    if (f && !seen.has(f.name)) seen.set(f.name, f.visible);
  }
  const expected = ['#skip', '#large-text', '#lang', '#forget-key', '#resource-id', '#resource-q', '#resource-search', '#day', '#code',
    '#day-refresh', `#roster-toggle-${slots.now.id}`, `#close-${slots.now.id}`];
  expect(expected.filter((name) => !seen.has(name))).toEqual([]);
  expect([...seen].filter(([, visible]) => !visible).map(([name]) => name)).toEqual([]);
  // The skip link goes straight to check-in.
  await page.focus('#skip');
  await page.keyboard.press('Enter');
  await expect(page.evaluate(() => location.hash)).resolves.toBe('#checkin');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => document.documentElement.style.setProperty('font-size', '200%'));
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  for (const selector of ['#code', '.checkin-form button[type="submit"]', `#roster-toggle-${slots.now.id}`]) {
    const box = (await page.locator(selector).boundingBox())!;
    expect({ selector, inside: box.x >= -0.5 && box.x + box.width <= 390.5 }).toEqual({ selector, inside: true });
  }
  expect(errors).toEqual([]);
  await context.close();
}, 60_000);
