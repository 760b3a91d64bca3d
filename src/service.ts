import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { openDb, type Db, bumpGeneration } from './store/db.js';
import { AreaStore } from './store/areas.js';
import { loadTaxonomy, type Taxonomy } from './taxonomy/taxonomy.js';
import { AreaIndex, districtsFromGeoJson } from './geo/areas.js';
import { SnapshotHolder } from './engine/holder.js';
import { importCsv, type ImportReport } from './import/csv.js';
import { Contract } from './http/contract.js';
import { ROOT } from './config.js';
import type { Logger } from './log.js';
import { Bookings } from './booking/bookings.js';

/** The bundled data files loaded into an empty database, in order. */
export const BUNDLED_CSV = ['resources.csv', 'osm-sample.csv'];
export const BUNDLED_DISTRICTS = 'districts.wgs84.geojson';

/** The parts of a running service, wired from a config. */
export interface Service {
  config: Config;
  db: Db;
  tax: Taxonomy;
  holder: SnapshotHolder;
  contract: Contract;
  log: Logger;
  bookings: Bookings;
}

/**
 * Opens the database, loads the taxonomy (validated) and the contract, seeds an empty database with the
 * bundled districts and resources, and builds the first snapshot.
 */
export async function openService(config: Config, log: Logger, options: { onlyDistricts?: boolean } = {}): Promise<Service> {
  const tax = loadTaxonomy(config.taxonomyDir);
  const contract = new Contract(join(ROOT, 'openapi.yaml'));
  const db = openDb(config.dbPath);
  if (options.onlyDistricts) seedDistricts(db, config.dataDir);
  else await seedIfEmpty(db, tax, config.dataDir, log);
  const holder = new SnapshotHolder(db, tax);
  const snap = holder.rebuild();
  log.info({ resources: snap.size, generation: snap.generation, taxonomy: tax.version }, 'snapshot built');
  const bookings = new Bookings(db, holder, { hashKey: config.hashKey, cancelCutoffHours: config.cancelCutoffHours, log });
  return { config, db, tax, holder, contract, log, bookings };
}

/** Loads the district boundaries when the store has none. */
export function seedDistricts(db: Db, dataDir: string): number {
  const store = new AreaStore(db);
  if (store.count('district') > 0) return 0;
  const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(dataDir, BUNDLED_DISTRICTS), 'utf8')));
  db.transaction(() => {
    store.save(districts, new Date().toISOString());
    bumpGeneration(db);
  })();
  return districts.length;
}

/** Seeds districts and, when no resource is stored yet, the bundled CSVs. */
export async function seedIfEmpty(db: Db, tax: Taxonomy, dataDir: string, log: Logger): Promise<ImportReport[]> {
  const districts = seedDistricts(db, dataDir);
  if (districts) log.info({ districts }, 'loaded bundled district boundaries');
  const stored = db.prepare('SELECT count(*) FROM resources').pluck().get() as number;
  if (stored > 0) return [];
  const areas = new AreaIndex(new AreaStore(db).list());
  const reports: ImportReport[] = [];
  for (const file of BUNDLED_CSV) {
    const report = await importCsv(createReadStream(join(dataDir, file)), { db, tax, areas });
    if (report.rejected_rows) log.warn({ file, rejected: report.rejected.slice(0, 5) }, 'bundled data has rejected rows');
    log.info({ file, inserted: report.inserted }, 'loaded bundled resources');
    reports.push(report);
  }
  return reports;
}
