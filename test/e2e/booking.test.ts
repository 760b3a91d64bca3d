/**
 * Booking from the map page, end to end (the real app on 127.0.0.1, a fresh database with the bundled data,
 * Debian's chromium): the venue's rules stated before booking; a family books a real-name slot for three
 * with their resident IDs (an ID mistyped first: the API's error beside that field), reloads, finds it under
 * my bookings with its check-in code and QR code, downloads the .ics and cancels it; a school group books
 * with its unified social credit code and leader; a full slot offers the waitlist, whose entry shows its
 * position and, once promoted, moves into my bookings; a cancellation after the cut-off shows the API's
 * refusal. axe-core finds nothing serious or critical on the form (individual, real name, group, with
 * errors shown) nor on my bookings. Screenshots of the form and of my bookings, desktop and phone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { OPERATOR, phoneNumber, residentId, testService, type TestService } from '../support.js';
import { api, ARTIFACTS, beijingDay, beijingIso, foreign, launch, listen, newPage, orgCode, seriousViolations } from './browser.js';

let svc: TestService;
let base: string;
let close: () => Promise<void>;
let browser: Browser;
/** Real-name museum (rules stored by its venue key); a place without rules for the waitlist and the cut-off. */
let realName: { id: string; name: string };
let plain: { id: string; name: string };
let realSlot: number;
let laterSlot: number;
let fullSlot: number;
const held: { id: string; token: string }[] = [];
const ORG = orgCode('91110108MA01ABCDE');

beforeAll(async () => {
  await buildWeb();
  svc = await testService();
  ({ base, close } = await listen(svc.app));
  const near = await api(base, 'GET', '/v1/resources?type=museum&near=116.3975,39.9087&limit=30');
  const unique: { id: string; name: string }[] = [];
  for (const r of near.body.items as { id: string; name: string }[]) {
    const alone = await api(base, 'GET', `/v1/resources?q=${encodeURIComponent(r.name)}`);
    if (alone.body.count === 1) unique.push({ id: r.id, name: r.name });
    if (unique.length === 2) break;
  }
  [realName, plain] = unique;
  const venueKey = (await svc.keys.create({ role: 'venue', resources: [realName.id], label: '测试票务' }, OPERATOR, () => true)).key;
  const rules = await api(base, 'PUT', `/v1/resources/${realName.id}/booking-rules`, {
    credential: venueKey,
    body: { window_days: 7, release_time: '17:00', real_name: true, per_contact_daily: 5, cancel_cutoff_hours: 2, group: { min: 15, max: 60, org_code_required: true } },
  });
  expect(rules.status).toBe(200);
  const slot = async (id: string, start: string, end: string, capacity: object) => {
    const made = await api(base, 'POST', `/v1/resources/${id}/slots`, { body: { slots: [{ start, end, capacity }] } });
    expect(made.status).toBe(201);
    return (made.body.items as { id: number }[])[0].id;
  };
  const tomorrow = beijingDay(1);
  realSlot = await slot(realName.id, `${tomorrow}T09:00:00+08:00`, `${tomorrow}T11:00:00+08:00`, { individual: 30, group: 100 });
  // Ten days ahead: released 7 days before at 17:00, so not open yet.
  laterSlot = await slot(realName.id, `${beijingDay(10)}T09:00:00+08:00`, `${beijingDay(10)}T11:00:00+08:00`, { individual: 30, group: 100 });
  fullSlot = await slot(plain.id, `${tomorrow}T14:00:00+08:00`, `${tomorrow}T15:00:00+08:00`, { individual: 2 });
  for (const n of [101, 102]) {
    const b = await api(base, 'POST', '/v1/bookings', { key: `fill-${n}`, body: { slot_id: fullSlot, kind: 'individual', party_size: 1, contact: { name: '占位', phone: phoneNumber(n) } } });
    expect(b.status).toBe(201);
    held.push({ id: b.body.id as string, token: b.body.token as string });
  }
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await close?.();
  await svc?.close();
});

/** Opens the map page, finds the resource by its name and opens its card, with the booking form drawn. */
async function openCard(page: Page, r: { id: string; name: string }): Promise<void> {
  await page.goto(base);
  await page.waitForSelector('body[data-districts="16"]');
  await page.waitForSelector('#result-list .result');
  await page.fill('#f-q', r.name);
  await page.click(`#result-list .result[data-id="${r.id}"]`);
  await page.waitForSelector('form.booking #contact-name');
}

const remaining = async (id: string, slotId: number) =>
  ((await api(base, 'GET', `/v1/resources/${id}/slots?from=${beijingDay(0)}T00:00&to=${beijingDay(12)}T00:00`)).body.items as { id: number; remaining: { individual: number; group: number } }[])
    .find((x) => x.id === slotId)!.remaining;

test('a family books a real-name slot for three, reloads, finds it in my bookings, downloads the .ics and cancels it', async () => {
  const { context, page, requests, errors } = await newPage(browser);
  await openCard(page, realName);

  // The rules come first: release, cut-off, real name, the per-contact cap, groups, no-shows.
  const rules = await page.textContent('.rules');
  for (const part of ['放号：每个时段提前 7 天的 17:00 开放预约', '开始前 2 小时截止取消', '实名预约', '每个手机号每天最多预约 5 人', '团体：15–60 人，需填写统一社会信用代码和领队身份证号', '爽约：90 天内 3 次']) {
    expect({ part, shown: rules!.includes(part) }).toEqual({ part, shown: true });
  }
  // The slot ten days ahead is not released yet: it says when it opens, and cannot be chosen.
  const later = page.locator(`.slot[data-slot="${laterSlot}"]`);
  await expect(later.textContent()).resolves.toMatch(/17:00 开放预约/);
  await expect(page.isDisabled(`#slot-${laterSlot}`)).resolves.toBe(true);
  await expect(page.isChecked(`#slot-${realSlot}`)).resolves.toBe(true);

  // Three people: three ID fields. The second is mistyped (its check character): the API says so beside it.
  await page.fill('#contact-name', '张明');
  await page.fill('#contact-phone', '13800138000');
  await page.fill('#party-size', '3');
  await expect(page.locator('.visitor-list input').count()).resolves.toBe(3);
  const ids = [residentId(1), residentId(2), residentId(3)];
  const wrong = ids[1].slice(0, 17) + (ids[1][17] === '0' ? '1' : '0');
  await page.fill('#visitor-0', ids[0]);
  await page.fill('#visitor-1', wrong);
  await page.fill('#visitor-2', ids[2]);
  await page.click('form.booking button[type="submit"]');
  await page.waitForSelector('#visitor-1-error:not(:empty)');
  await expect(page.textContent('#visitor-1-error')).resolves.toContain('不是有效的 18 位居民身份证号码');
  await expect(page.getAttribute('#visitor-1', 'aria-invalid')).resolves.toBe('true');
  await expect(page.getAttribute('#visitor-1', 'aria-describedby')).resolves.toContain('visitor-1-error');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('visitor-1');
  await expect(page.textContent('#visitor-0-error')).resolves.toBe('');
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'booking-form-errors.png'), fullPage: true });

  await page.fill('#visitor-1', ids[1]);
  await page.click('form.booking button[type="submit"]');
  const confirmation = page.locator('.confirmation[data-status="confirmed"]');
  await confirmation.waitFor();
  const bookingId = (await confirmation.getAttribute('data-booking'))!;
  const code = (await page.textContent('.confirmation .checkin-code'))!;
  expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  await page.waitForSelector('.confirmation img.qr');
  expect((await remaining(realName.id, realSlot)).individual).toBe(27);
  // What is kept on the device: the booking's id and token, nothing personal.
  const kept = await page.evaluate(() => localStorage.getItem('edumap.mine'));
  const items = JSON.parse(kept!) as Record<string, unknown>[];
  expect(items.map((x) => Object.keys(x).sort())).toEqual([['id', 'kind', 'savedAt', 'token']]);
  expect(kept).not.toMatch(/13800138000|张明|110108/);
  await expect(page.textContent('#mine .count')).resolves.toBe('1');

  // After a reload, my bookings has it: status, slot, place, the code in text and as a QR code.
  await page.reload();
  await page.waitForSelector('#result-list .result');
  await page.click('#mine');
  const item = page.locator(`.mine-item[data-kind="booking"][data-id="${bookingId}"]`);
  await item.waitFor();
  await expect(item.getAttribute('data-status')).resolves.toBe('confirmed');
  await expect(item.locator('h4').textContent()).resolves.toBe(realName.name);
  await expect(item.locator('.checkin-code').textContent()).resolves.toBe(code);
  await expect(item.textContent()).resolves.toContain('3 人');
  await item.locator('img.qr').waitFor();
  await expect(item.locator('img.qr').getAttribute('alt')).resolves.toContain(code);
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('mine-title');
  await expect(page.textContent('.mine .kept')).resolves.toContain('不保存姓名、手机号或身份证号');
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'mine.png') });

  // The calendar file: fetched with the token, saved as a file carrying the time and the code.
  const download = page.waitForEvent('download');
  await item.locator('button.ics').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`${bookingId}.ics`);
  const ics = readFileSync((await file.path())!, 'utf8').replace(/\r\n /g, '');
  expect(ics).toMatch(/^BEGIN:VCALENDAR\r\n/);
  expect(ics).toContain('BEGIN:VEVENT');
  expect(ics).toContain(`DTSTART:${beijingDay(1).replace(/-/g, '')}T010000Z`);
  expect(ics).toContain(code);

  // On a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, 'mine-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 860 });

  // Cancel, from the keyboard: asked first ("keep it" puts everything back), then the API's answer shown.
  await item.locator('button.ask').focus();
  await page.keyboard.press('Enter');
  await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('确认取消');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(item.locator('.ask-box').isHidden()).resolves.toBe(true);
  await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('取消预约');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  const cancelled = page.locator(`.mine-item[data-id="${bookingId}"][data-status="cancelled"]`);
  await cancelled.waitFor();
  await expect(cancelled.locator('.mine-result').textContent()).resolves.toContain('已取消');
  expect((await remaining(realName.id, realSlot)).individual).toBe(30);
  // A finished booking can leave the device.
  await cancelled.locator('button.remove').click();
  await expect(page.locator('.mine-item').count()).resolves.toBe(0);
  await expect(page.evaluate(() => JSON.parse(localStorage.getItem('edumap.mine')!).length)).resolves.toBe(0);

  expect(foreign(requests, base)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
}, 120_000);

test('a school group books with its unified social credit code and leader (a wrong code first, named beside its field)', async () => {
  const { context, page, errors } = await newPage(browser);
  await openCard(page, realName);
  await page.check('#kind-group');
  await expect(page.locator('.visitors').isHidden()).resolves.toBe(true);
  await expect(page.inputValue('#party-size')).resolves.toBe('15');
  await expect(page.textContent('#party-size-hint')).resolves.toBe('15–60 人');
  await page.fill('#contact-name', '李老师');
  await page.fill('#contact-phone', phoneNumber(7));
  await page.fill('#party-size', '32');
  await page.fill('#org-code', ORG.slice(0, 17) + (ORG[17] === '0' ? '1' : '0'));
  await page.fill('#leader-id', residentId(50));
  await page.click('form.booking button[type="submit"]');
  await page.waitForSelector('#org-code-error:not(:empty)');
  await expect(page.textContent('#org-code-error')).resolves.toContain('统一社会信用代码');
  await expect(page.getAttribute('#org-code', 'aria-invalid')).resolves.toBe('true');
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'booking-group.png'), fullPage: true });

  await page.fill('#org-code', ORG.toLowerCase());
  await page.click('form.booking button[type="submit"]');
  const confirmation = page.locator('.confirmation[data-status="confirmed"]');
  await confirmation.waitFor();
  const id = (await confirmation.getAttribute('data-booking'))!;
  expect((await remaining(realName.id, realSlot)).group).toBe(68);
  const roster = await api(base, 'GET', `/v1/slots/${realSlot}/roster`);
  expect((roster.body.items as { id: string; kind: string; org_code: string; party_size: number }[]).find((x) => x.id === id))
    .toMatchObject({ kind: 'group', org_code: ORG, party_size: 32 });
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);

test('a full slot offers the waitlist; joining shows the position; once promoted the booking is in my bookings', async () => {
  const { context, page, errors } = await newPage(browser);
  await openCard(page, plain);
  // No rules stored: the defaults are stated, no ID fields.
  await expect(page.textContent('.rules')).resolves.toContain('无需实名');
  await expect(page.locator('.visitors').isHidden()).resolves.toBe(true);
  await expect(page.textContent(`.slot[data-slot="${fullSlot}"]`)).resolves.toContain('已满 · 可候补');
  await page.check(`#slot-${fullSlot}`);
  await page.fill('#contact-name', '王芳');
  await page.fill('#contact-phone', phoneNumber(8));
  await page.fill('#party-size', '1');
  await page.click('form.booking button[type="submit"]');
  await page.waitForSelector('#join-waitlist');
  await expect(page.textContent('#booking-error')).resolves.toContain('该时段余位不足');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('join-waitlist');
  expect(await seriousViolations(page)).toEqual([]);
  await page.click('#join-waitlist');
  const waiting = page.locator('.waiting[data-status="waiting"]');
  await waiting.waitFor();
  await expect(waiting.locator('.position').textContent()).resolves.toBe('当前排第 1 位');
  const entryId = (await waiting.getAttribute('data-entry'))!;

  await waiting.locator('button').click();
  const entry = page.locator(`.mine-item[data-kind="waitlist"][data-id="${entryId}"]`);
  await entry.waitFor();
  await expect(entry.locator('.position').textContent()).resolves.toBe('候补第 1 位');
  await expect(entry.textContent()).resolves.toContain(plain.name);
  expect(await seriousViolations(page)).toEqual([]);

  // A place frees up: the entry becomes a booking, which my bookings shows with its code.
  expect((await api(base, 'DELETE', `/v1/bookings/${held[0].id}`, { credential: held[0].token })).status).toBe(200);
  await page.click('.mine .back');
  await page.click('#mine');
  const promoted = page.locator('.mine-item[data-kind="booking"][data-status="confirmed"]');
  await promoted.waitFor();
  await expect(promoted.textContent()).resolves.toContain('候补成功，已转为预约');
  await expect(promoted.locator('.checkin-code').textContent()).resolves.toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await expect(page.locator('.mine-item[data-kind="waitlist"]').count()).resolves.toBe(0);
  const kept = JSON.parse((await page.evaluate(() => localStorage.getItem('edumap.mine')))!) as { kind: string; id: string }[];
  expect(kept.map((x) => x.kind)).toEqual(['booking']);
  expect(kept[0].id).toBe(await promoted.getAttribute('data-id'));
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);

test('cancelling after the cut-off shows the API’s refusal', async () => {
  // A slot whose cut-off (2 hours before, by default) is a few seconds away; booked on this device.
  const start = Date.now() + 2 * 3_600_000 + 8_000;
  const made = await api(base, 'POST', `/v1/resources/${plain.id}/slots`, { body: { slots: [{ start: beijingIso(start), end: beijingIso(start + 1_800_000), capacity: { individual: 5 } }] } });
  expect(made.status).toBe(201);
  const slotId = (made.body.items as { id: number }[])[0].id;
  const b = await api(base, 'POST', '/v1/bookings', { key: 'cutoff', body: { slot_id: slotId, kind: 'individual', party_size: 1, contact: { name: '赵', phone: phoneNumber(9) } } });
  expect(b.body.cancellable).toBe(true);
  const { context, page, errors } = await newPage(browser);
  await page.goto(base);
  await page.evaluate(([id, token]) => localStorage.setItem('edumap.mine', JSON.stringify([{ kind: 'booking', id, token, savedAt: Date.now() }])), [b.body.id as string, b.body.token as string]);
  await page.reload();
  await page.waitForSelector('#result-list .result');
  await page.click('#mine');
  const item = page.locator(`.mine-item[data-id="${b.body.id}"]`);
  await item.locator('button.ask').waitFor();
  await page.waitForTimeout(Math.max(0, start - 2 * 3_600_000 - Date.now() + 500));
  await item.locator('button.ask').click();
  await item.locator('button.yes').click();
  const refusal = item.locator('.mine-result.error');
  await refusal.waitFor();
  await expect(refusal.textContent()).resolves.toMatch(/^已过取消截止时间（.+），不能再取消$/);
  await expect(refusal.getAttribute('role')).resolves.toBe('alert');
  await expect(item.getAttribute('data-status')).resolves.toBe('confirmed');
  expect(errors).toEqual([]);
  await context.close();
}, 60_000);
