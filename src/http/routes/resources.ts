import { once } from 'node:events';
import { Router, type Response } from 'express';
import type { Crs } from '../../geo/crs.js';
import { isExport, type SearchRequest } from '../../engine/query.js';
import type { ExportStream } from '../../export/export.js';
import { etagOf, type ResourcePatch } from '../../import/edit.js';
import { invalidField } from '../../errors.js';
import { authenticator, bearer } from '../auth.js';
import { mergePatchBody } from '../body.js';
import type { AppDeps } from '../app.js';

/**
 * `GET /v1/resources` (search; with `format=csv`, or `geojson` without a `limit`, the whole filtered set
 * streamed), `GET`, `PATCH` and `DELETE /v1/resources/{id}`.
 */
export function resourceRoutes({ contract, queries, keys, edits, maintenance }: AppDeps): Router {
  const router = Router();
  const auth = authenticator(keys);

  router.get('/v1/resources', async (req, res) => {
    const { query } = contract.input('searchResources', req);
    const params = query as SearchRequest & { encoding?: 'utf8' | 'gb18030' };
    if (params.encoding !== undefined && params.format !== 'csv') throw invalidField('query.encoding', 'applies to format=csv only');
    if (isExport(params)) {
      if (params.cursor !== undefined) throw invalidField('query.cursor', 'an export has no pages: leave out cursor');
      const by = bearer(req) === undefined ? undefined : await auth(req);
      await stream(res, await queries.export(params, params.format, by));
      return;
    }
    const answer = await queries.search(params);
    res.type(answer.type).send(answer.body);
  });

  router.get('/v1/resources/:id', async (req, res) => {
    const { query, params } = contract.input('getResource', req);
    const answer = await queries.resource(params.id, query.crs as Crs | undefined);
    res.setHeader('ETag', etagOf(answer.version));
    res.type(answer.type).send(answer.body);
  });

  router.patch('/v1/resources/:id', mergePatchBody('64kb'), async (req, res) => {
    const by = await auth(req);
    const { params, query } = contract.input('patchResource', req);
    const { seq, changed } = await edits.patch(params.id, req.body as ResourcePatch, by, req.get('if-match'));
    if (changed) maintenance.kick();
    const answer = await queries.resource(params.id, query.crs as Crs | undefined);
    res.setHeader('ETag', etagOf(seq));
    res.type(answer.type).send(answer.body);
  });

  router.delete('/v1/resources/:id', async (req, res) => {
    const by = await auth(req);
    const { params, query } = contract.input('deleteResource', req);
    await edits.remove(params.id, by, { cancelBookings: query.cancel_bookings as boolean | undefined, ifMatch: req.get('if-match') });
    maintenance.kick();
    res.status(204).end();
  });

  return router;
}

/** Sends an export chunk by chunk, waiting when the client reads slowly; stops when it goes away. */
async function stream(res: Response, out: ExportStream): Promise<void> {
  res.type(out.type);
  res.setHeader('Content-Disposition', `attachment; filename="${out.filename}"`);
  res.setHeader('Cache-Control', 'no-store');
  for await (const chunk of out.body) {
    if (res.destroyed) break;
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  res.end();
}
