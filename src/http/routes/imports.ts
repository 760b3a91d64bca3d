import { Router, type Request } from 'express';
import { AppError } from '../../errors.js';
import { importCsv, type Encoding } from '../../import/csv.js';
import type { Crs } from '../../geo/crs.js';
import { authenticator } from '../auth.js';
import type { AppDeps } from '../app.js';
import type { Metrics } from '../metrics.js';

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'];

/** `POST /v1/imports`: a CSV body, streamed into the importer; the snapshot is rebuilt when rows changed. */
export function importRoutes({ contract, holder, db, tax, config, log, keys, audit, maintenance }: AppDeps, metrics: Metrics): Router {
  const router = Router();
  const auth = authenticator(keys);

  router.post('/v1/imports', async (req, res) => {
    const by = await auth(req);
    const { query } = contract.input('importResources', req);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!CSV_TYPES.includes(type)) {
      throw new AppError('unsupported_media_type', `send the CSV file with Content-Type: text/csv (got '${type || 'none'}')`);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > config.importMaxBytes) throw tooLarge(config.importMaxBytes);

    let report;
    try {
      report = await importCsv(limited(req, config.importMaxBytes), { db, tax, areas: holder.current.areas }, {
        crs: query.crs as Crs, encoding: query.encoding as Encoding, dryRun: query.dry_run as boolean, strict: query.strict as boolean,
        by, mode: query.mode as 'upsert' | 'sync' | undefined,
        inside: (t, summary) => audit.record(t, by, 'resources.import', 'resources', { ...summary }),
      });
    } catch (e) {
      metrics.imports.inc({ outcome: 'failed' });
      throw e;
    }
    metrics.imports.inc({ outcome: report.dry_run ? 'dry_run' : report.applied ? 'applied' : 'strict_rejected' });
    for (const result of ['inserted', 'updated', 'unchanged'] as const) metrics.importRows.inc({ result }, report[result]);
    metrics.importRows.inc({ result: 'rejected' }, report.rejected_rows);
    if (report.applied && report.inserted + report.updated + report.deleted > 0) await holder.rebuild();
    maintenance.kick(); // fold what was published, or clean up what was staged and not
    log.info({ rows: report.rows, inserted: report.inserted, updated: report.updated, rejected_rows: report.rejected_rows,
      applied: report.applied, seconds: report.seconds }, 'import');
    res.json(report);
  });

  return router;
}

function tooLarge(max: number): AppError {
  return new AppError('payload_too_large', `the CSV is larger than ${max} bytes; split it or use the CLI (npm run import)`);
}

/** The request body as chunks, failing with a 413 once it passes `max` bytes. */
async function* limited(req: Request, max: number): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > max) throw tooLarge(max);
    yield chunk;
  }
}
