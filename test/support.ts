import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DEFAULTS, ROOT, type Config } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { openService, type Service } from '../src/service.js';
import { createApp } from '../src/http/app.js';
import { importCsv, type ImportOptions } from '../src/import/csv.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

/** A service over a fresh database file in its own temp directory; `close()` removes it. */
export interface TestService extends Service {
  dir: string;
  app: ReturnType<typeof createApp>;
  close(): void;
  /** Imports CSV text (or bytes) into this service's store and rebuilds the snapshot. */
  importText(text: string | Buffer, options?: ImportOptions): ReturnType<typeof importCsv>;
}

/** Builds a service for one test: `seed` loads the bundled Beijing data (default), else districts only. */
export async function testService(options: { seed?: boolean; config?: Partial<Config> } = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'edumap-test-'));
  const config: Config = { ...DEFAULTS, dbPath: join(dir, 'edumap.db'), adminKeys: [ADMIN_KEY], logLevel: 'silent', pollMs: 0, ...options.config };
  const log = createLogger(config);
  const seed = options.seed ?? true;
  const service = await openService(config, log, { onlyDistricts: !seed });
  const app = createApp(service);
  return {
    ...service,
    dir,
    app,
    close() {
      service.holder.stop();
      service.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async importText(text, opts) {
      const report = await importCsv(Readable.from([Buffer.from(text)]), { db: service.db, tax: service.tax, areas: service.holder.current.areas }, opts);
      service.holder.refreshIfChanged();
      return report;
    },
  };
}

export const HEADER = 'id,name,name_en,type,lng,lat,crs,district,address,tags,stages,opening_hours,free,booking_required,phone,url,source,coord_precision_m,notes';

/** One CSV line in the bundled column order from a partial row. */
export function csvLine(row: Partial<Record<string, string | number>>): string {
  const cols = HEADER.split(',');
  return cols.map((c) => {
    const v = String(row[c] ?? '');
    return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }).join(',');
}

export { ROOT };
