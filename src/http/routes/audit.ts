import { Router } from 'express';
import { authenticator } from '../auth.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/audit`: the audit log, for operator keys. */
export function auditRoutes({ contract, keys, audit }: AppDeps): Router {
  const router = Router();
  const auth = authenticator(keys);

  router.get('/v1/audit', async (req, res) => {
    const by = await auth(req);
    const { query } = contract.input('listAudit', req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await audit.page(by, query.after === undefined ? undefined : Number(query.after), (query.limit as number | undefined) ?? 100));
  });

  return router;
}
