import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import { ROOT } from '../../config.js';
import { AppError } from '../../errors.js';

/** Where `npm run build:web` writes the map page: `index.html` and hashed files under `assets/`. */
export const WEB_BUILD_DIR = join(ROOT, 'public', 'build');

/**
 * The page may talk to this server only: no CDN, no tiles, no fonts from elsewhere. Styles are set from
 * script (CSSOM), never as inline attributes, so `style-src 'self'` holds.
 */
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/**
 * The map page at `/` and its bundled assets at `/assets/*` (content-hashed names, cached for a year).
 * Only these two paths are taken, so `/v1`, `/healthz`, `/readyz` and `/openapi.yaml` are never shadowed.
 */
export function webRoutes(dir: string = WEB_BUILD_DIR): Router {
  const router = Router();
  const index = join(dir, 'index.html');

  router.get('/', (_req, res) => {
    if (!existsSync(index)) throw new AppError('not_found', 'the map page is not built; run `npm run build:web`');
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.sendFile(index);
  });

  router.use('/assets', express.static(join(dir, 'assets'), {
    index: false, redirect: false, immutable: true, maxAge: '365d', fallthrough: true,
  }));

  return router;
}
