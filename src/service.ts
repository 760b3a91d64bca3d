import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { ROOT } from './config.js';
import { openStore, bumpStructure } from './store/db.js';
import type { Database } from './store/sql.js';
import { AreaStore } from './store/areas.js';
import { loadTaxonomy, type Taxonomy } from './taxonomy/taxonomy.js';
import { AreaIndex, districtsFromGeoJson } from './geo/areas.js';
import { SnapshotHolder } from './engine/holder.js';
import { Queries } from './engine/query.js';
import { importCsv, type ImportReport } from './import/csv.js';
import { Contract } from './http/contract.js';
import type { Logger } from './log.js';
import { Bookings } from './booking/bookings.js';
import { Audit } from './access/audit.js';
import { KeyRing } from './access/keys.js';
import { Maintenance } from './import/maintenance.js';
import { ResourceEdits } from './import/edit.js';
import { AreaEdits } from './import/areas.js';
import { RateWindows } from './store/rate-windows.js';
import { follow, type Follower } from './replica.js';
import { warmUpHours } from './calendar/hours.js';

/** The bundled data files loaded into an empty database, in order. */
export const BUNDLED_CSV = ['resources.csv', 'osm-sample.csv'];
export const BUNDLED_DISTRICTS = 'districts.wgs84.geojson';

/** The parts of a running service, wired from a config. */
export interface Service {
  config: Config;
  db: Database;
  tax: Taxonomy;
  holder: SnapshotHolder;
  contract: Contract;
  log: Logger;
  /** Search, clusters, match and single resources: the query path. */
  queries: Queries;
  bookings: Bookings;
  /** Keys and their principals (stored keys and the bootstrap `EDUMAP_ADMIN_KEYS`). */
  keys: KeyRing;
  audit: Audit;
  /** Folding, cleaning and purging of the versioned store, in the background. */
  maintenance: Maintenance;
  /** Single edits of resources (PATCH, DELETE). */
  edits: ResourceEdits;
  /** School districts uploaded and deleted. */
  areaEdits: AreaEdits;
  /**
   * The request budgets every replica spends together (`rate_windows`): on PostgreSQL, where replicas
   * behind a balancer share the store; undefined on SQLite, whose one process counts in memory.
   */
  rateWindows: RateWindows | undefined;
  /**
   * Keeps the snapshot and the availability index in step with writes committed by other processes (other
   * replicas, a CLI import): on PostgreSQL by NOTIFY, with the counters compared on every reconnection and
   * every `checkMs`; on SQLite by reading the counters every `checkMs`. 0: never (tests refresh by hand).
   */
  follow(checkMs: number, onError: (e: unknown) => void): void;
  /** Deletes the ended windows of `rateWindows` every `ms` (nothing on SQLite). */
  sweepEvery(ms: number, onError: (e: unknown) => void): void;
  /** Stops background work and closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the database, loads the taxonomy (validated) and the contract, seeds an empty database with the
 * bundled districts and resources, and builds the first snapshot.
 */
export async function openService(config: Config, log: Logger, options: { onlyDistricts?: boolean; clock?: () => number } = {}): Promise<Service> {
  const tax = loadTaxonomy(config.taxonomyDir);
  const contract = new Contract(join(ROOT, 'openapi.yaml'));
  const db = await openStore(config.dbPath, { busyTimeoutMs: config.busyTimeoutMs, checkpoint: {} });
  if (options.onlyDistricts) await seedDistricts(db, config.dataDir);
  else await seedIfEmpty(db, tax, config.dataDir, log);
  const holder = new SnapshotHolder(db, tax, { build: config.snapshotBuild, foldDelayMs: config.foldDelayMs, recordCacheBytes: config.recordCacheBytes,
    clusterCacheBytes: config.clusterCacheBytes,
    savedFile: config.snapshotFile, saveEveryMs: config.snapshotSaveMs, save: process.env.EDUMAP_SNAPSHOT_SAVER !== '0', log });
  const snap = await holder.rebuild();
  log.info({ resources: snap.size, generation: snap.generation, taxonomy: tax.version }, 'snapshot built');
  warmUpHours();
  const audit = new Audit(db, options.clock);
  const keys = new KeyRing(db, config.adminKeys, audit);
  const bookings = new Bookings(db, holder, audit, { hashKey: config.hashKey, dataKey: config.dataKey, dataKeysOld: config.dataKeysOld,
    cancelCutoffHours: config.cancelCutoffHours, clock: options.clock, log });
  const queries = new Queries(holder, bookings.availability, options.clock);
  const maintenance = new Maintenance(db, { retentionMs: config.changesRetentionMs, log });
  const edits = new ResourceEdits(db, holder, tax, audit, (t, id, nowMs, at) => bookings.admin.closeFuture(t, id, nowMs, at), options.clock);
  const areaEdits = new AreaEdits(db, holder, audit, options.clock);
  const rateWindows = db.dialect === 'postgres' ? new RateWindows(db) : undefined;
  let follower: Follower | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  const clock = options.clock ?? Date.now;
  return {
    config, db, tax, holder, contract, log, queries, bookings, keys, audit, maintenance, edits, areaEdits, rateWindows,
    follow(checkMs, onError) {
      if (checkMs > 0 && !follower) follower = follow(db, { holder, availability: bookings.availability }, { checkMs, onError });
    },
    sweepEvery(ms, onError) {
      if (!rateWindows || sweeper || ms <= 0) return;
      sweeper = setInterval(() => void rateWindows.sweep(clock()).catch(onError), ms);
      sweeper.unref();
    },
    async close() {
      clearInterval(sweeper);
      await follower?.stop();
      await holder.stop();
      maintenance.stop();
      bookings.stop();
      await maintenance.idle();
      await db.close();
    },
  };
}

/** Loads the district boundaries when the store has none. Returns how many were loaded. */
export async function seedDistricts(db: Database, dataDir: string): Promise<number> {
  const store = new AreaStore(db);
  if ((await store.count('district')) > 0) return 0;
  const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(dataDir, BUNDLED_DISTRICTS), 'utf8')));
  await db.tx(async (t) => {
    await store.save(t, districts, new Date().toISOString());
    await bumpStructure(t);
  });
  return districts.length;
}

/** Seeds districts and, when no resource is stored yet, the bundled CSVs. */
export async function seedIfEmpty(db: Database, tax: Taxonomy, dataDir: string, log: Logger): Promise<ImportReport[]> {
  const districts = await seedDistricts(db, dataDir);
  if (districts) log.info({ districts }, 'loaded bundled district boundaries');
  if (await db.value('SELECT 1 FROM resources LIMIT 1')) return [];
  const areas = new AreaIndex(await new AreaStore(db).list());
  const reports: ImportReport[] = [];
  for (const file of BUNDLED_CSV) {
    const report = await importCsv(createReadStream(join(dataDir, file)), { db, tax, areas });
    if (report.rejected_rows) log.warn({ file, rejected: report.rejected.slice(0, 5) }, 'bundled data has rejected rows');
    log.info({ file, inserted: report.inserted }, 'loaded bundled resources');
    reports.push(report);
  }
  return reports;
}
