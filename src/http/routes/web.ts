import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import { ROOT } from '../../config.js';
import { AppError } from '../../errors.js';
import { baseMapOf, type BaseMap, type TileSettings } from '../../basemap.js';

/** Where `npm run build:web` writes the map page: `index.html` and hashed files under `assets/`. */
export const WEB_BUILD_DIR = join(ROOT, 'public', 'build');

/** The comment in `web/index.html` that the page's configuration replaces at serve time. */
export const CONFIG_MARK = '<!--edumap-config-->';

/** What the page learns from the server: read by `web/src/config.ts` from `<script id="edumap-config">`. */
export interface PageConfig {
  baseMap: Omit<BaseMap, 'origins'>;
}

/**
 * The page may talk to this server only, and load images from the configured tile hosts: no CDN, no fonts
 * from elsewhere, no tile host with `EDUMAP_TILES=none`. Styles are set from script (CSSOM), never as
 * inline attributes, so `style-src 'self'` holds.
 */
export function pagePolicy(baseMap: Pick<BaseMap, 'origins'>): string {
  return [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", ["img-src 'self' data:", ...baseMap.origins].join(' '),
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The page's configuration as an inert JSON data block (`type="application/json"` is never run, so the
 * `script-src 'self'` policy stands). `<` is escaped so no value can close the element.
 */
export function configBlock(config: PageConfig): string {
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<script type="application/json" id="edumap-config">${json}</script>`;
}

/**
 * The map page at `/`, the venue console at `/venue` and their bundled assets at `/assets/*` (content-hashed
 * names, cached for a year). Only these paths are taken, so `/v1`, `/healthz`, `/readyz` and `/openapi.yaml`
 * are never shadowed. The base map comes from the tile settings (validated again here: it throws on bad ones).
 */
export function webRoutes(settings: TileSettings, dir: string = WEB_BUILD_DIR): Router {
  const router = Router();
  const { origins, ...baseMap } = baseMapOf(settings);
  const block = configBlock({ baseMap });

  /** Sends a built page with its policy; `fill` writes the server's part into it. */
  const page = (file: string, headers: Record<string, string>, fill: (html: string) => string = (html) => html) =>
    async (_req: Request, res: Response) => {
      const path = join(dir, file);
      if (!existsSync(path)) throw new AppError('not_found', 'the pages are not built; run `npm run build:web`');
      const html = fill(await readFile(path, 'utf8'));
      for (const [name, value] of Object.entries({ ...PAGE_HEADERS, ...headers })) res.setHeader(name, value);
      res.type('html').send(html);
    };

  router.get('/', page('index.html', { 'Content-Security-Policy': pagePolicy({ origins }) }, (html) => html.replace(CONFIG_MARK, block)));
  // The venue console: no tiles, so images from this server and data: only (the QR codes); the camera for
  // scanning them, and nothing else the browser could be asked for.
  router.get('/venue', page('venue.html', {
    'Content-Security-Policy': pagePolicy({ origins: [] }),
    'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()',
  }));

  router.use('/assets', express.static(join(dir, 'assets'), {
    index: false, redirect: false, immutable: true, maxAge: '365d', fallthrough: true,
  }));

  return router;
}

/** Headers of every page: never cached stale, no sniffing, no referrer sent anywhere. */
const PAGE_HEADERS = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
