/**
 * What the page tests share (the map, its tiles, bookings, the venue console): Debian's chromium through
 * playwright-core (never a downloaded browser), an app listening on 127.0.0.1, a page that records its
 * requests and script errors, and axe-core's serious and critical findings against WCAG 2.1 A and AA.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type express from 'express';
import { ADMIN_KEY, ROOT } from '../support.js';

export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Launches chromium headless, offline but for 127.0.0.1; `extraArgs` for a fake camera and the like. */
export async function launch(extraArgs: string[] = []): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--lang=zh-CN', ...extraArgs],
  });
}

/** Listens on a free port of 127.0.0.1; the base URL and a `close()`. */
export async function listen(app: express.Express): Promise<{ base: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface Opened { context: BrowserContext; page: Page; requests: string[]; errors: string[] }

/** How `newPage` opens: the context's own options, and what counts as an error. */
export interface PageOptions extends BrowserContextOptions {
  /**
   * Count a refused request (a 4xx the console reports as "Failed to load resource") as an error too. Off by
   * default: the booking and venue pages meet refusals on purpose and show the API's answer themselves.
   */
  refusalsAreErrors?: boolean;
}

/** What the console logs for a refused request. */
const REFUSED = /Failed to load resource: the server responded with a status of 4\d\d/;

/** A fresh context (Chinese, Beijing time, a desktop window unless told) and a page recording requests and errors. */
export async function newPage(browser: Browser, options: PageOptions = {}): Promise<Opened> {
  const { refusalsAreErrors = false, ...contextOptions } = options;
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1280, height: 860 }, acceptDownloads: true, ...contextOptions });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (req) => requests.push(req.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && (refusalsAreErrors || !REFUSED.test(m.text()))) errors.push(m.text());
  });
  return { context, page, requests, errors };
}

/** axe-core's serious and critical findings against WCAG 2.1 A and AA, one line each. */
export async function seriousViolations(page: Page, include?: string): Promise<string[]> {
  let axe = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  if (include) axe = axe.include(include);
  const result = await axe.analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Requests to anything but `base` (data: and blob: URLs are local). */
export function foreign(requests: string[], base: string): string[] {
  return requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
}

/** An API call as a client would make it, JSON in and out. */
export async function api(base: string, method: string, path: string, options: { body?: unknown; credential?: string; key?: string } = {}): Promise<{ status: number; body: Record<string, unknown> & { items?: unknown[] } }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  headers.Authorization = `Bearer ${options.credential ?? ADMIN_KEY}`;
  if (options.key) headers['Idempotency-Key'] = options.key;
  const res = await fetch(`${base}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** `YYYY-MM-DD` in Beijing, `days` from today. */
export function beijingDay(days: number): string {
  return new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

/** An instant as ISO 8601 in Beijing time, to the second. */
export function beijingIso(ms: number): string {
  return `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}

/**
 * A valid unified social credit code (统一社会信用代码, GB 32100-2015) from its first 17 characters: the
 * check character is computed as `src/booking/identity.ts` checks it.
 */
export function orgCode(body17: string): string {
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const sum = [...body17].reduce((s, c, i) => s + chars.indexOf(c) * weights[i], 0);
  return body17 + chars[(31 - (sum % 31)) % 31];
}
