import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';
import { AppError } from '../../errors.js';
import type { Metrics } from '../metrics.js';
import type { AppDeps } from '../app.js';

const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const DOCS_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>edumap API</title>
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;
// No validator badge: it would call a third-party host.
const DOCS_INIT = "window.ui = SwaggerUIBundle({ url: '/openapi.yaml', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true });\n";

/**
 * Liveness, readiness (503 before the first snapshot, while draining, and while the database does not answer),
 * metrics, the contract and its docs.
 */
export function opsRoutes({ holder, contract, db }: AppDeps, metrics: Metrics, state: { draining: boolean }): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (state.draining) throw new AppError('not_ready', 'the service is shutting down');
    if (!holder.ready) throw new AppError('not_ready', 'the index is still being built');
    await db.ping(); // StoreUnavailable: a 503 naming no host (the handler answers it as not_ready)
    const snap = holder.current;
    res.json({ status: 'ready', resources: snap.size, generation: snap.generation, built_at: snap.builtAt.toISOString() });
  });
  router.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.text();
    res.type(contentType).send(body);
  });
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(contract.text);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_HTML);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT);
  });
  const assets = express.static(SWAGGER_UI, { index: false, fallthrough: false, maxAge: '1d' });
  router.use('/docs/assets', (req, res, next) => {
    if (!DOCS_FILES.includes(req.path.slice(1))) return next(new AppError('not_found', `no docs asset ${req.path}`));
    assets(req, res, next);
  });

  return router;
}

