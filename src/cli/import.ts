import { createReadStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { AreaStore } from '../store/areas.js';
import { loadTaxonomy } from '../taxonomy/taxonomy.js';
import { AreaIndex } from '../geo/areas.js';
import { isCrs, type Crs } from '../geo/crs.js';
import { importCsv, type Encoding } from '../import/csv.js';
import { AppError } from '../errors.js';
import { seedDistricts } from '../service.js';
import { commandLine } from '../access/keys.js';
import { Maintenance } from '../import/maintenance.js';

const USAGE = `usage: npm run import -- FILE.csv [--crs wgs84|gcj02|bd09] [--encoding auto|utf8|gb18030] [--mode upsert|sync] [--dry-run] [--strict] [--json]

Imports resources into the database named by EDUMAP_DB (default var/edumap.db). A running server
picks the change up within a second. A column the file lacks keeps the stored values; an empty cell
clears one. --mode sync also deletes the resources the file does not list (listed in the report; with
--dry-run nothing changes). Exit 0: no row rejected; 1: some rows (or the file) rejected; 2: usage error.`;

/** The import CLI. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        crs: { type: 'string', default: 'wgs84' },
        encoding: { type: 'string', default: 'auto' },
        mode: { type: 'string', default: 'upsert' },
        'dry-run': { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const crs = values.crs!;
  const encoding = values.encoding!;
  const problems = [
    positionals.length !== 1 && 'give exactly one CSV file',
    !isCrs(crs) && `--crs must be wgs84, gcj02 or bd09, not '${crs}'`,
    !['auto', 'utf8', 'gb18030'].includes(encoding) && `--encoding must be auto, utf8 or gb18030, not '${encoding}'`,
    !['upsert', 'sync'].includes(values.mode!) && `--mode must be upsert or sync, not '${values.mode}'`,
  ].filter(Boolean);
  let size = 0;
  if (!problems.length) {
    try {
      size = statSync(positionals[0]).size;
    } catch {
      problems.push(`cannot read '${positionals[0]}'`);
    }
  }
  if (problems.length) {
    console.error(`${problems.join('\n')}\n\n${USAGE}`);
    return 2;
  }

  const config = loadConfig(process.env, {}, { secrets: 'unused' });
  const db = await openStore(config.dbPath);
  await seedDistricts(db, config.dataDir);
  const tax = loadTaxonomy(config.taxonomyDir);
  const areas = new AreaIndex(await new AreaStore(db).list());

  const bar = process.stderr.isTTY && !values.json
    ? new SingleBar({ format: 'importing [{bar}] {percentage}% | {value}/{total} MB | {rate} MB/s', hideCursor: true }, Presets.shades_classic)
    : null;
  const started = Date.now();
  bar?.start(Math.max(1, Math.round(size / 1e6)), 0, { rate: '0' });
  const holdMs = Number(process.env.EDUMAP_TEST_HOLD_BEFORE_COMMIT_MS ?? 0);
  const holdStagedMs = Number(process.env.EDUMAP_TEST_HOLD_AFTER_STAGING_MS ?? 0);
  const holdPublishMs = Number(process.env.EDUMAP_TEST_HOLD_BEFORE_PUBLISH_MS ?? 0);
  try {
    const report = await importCsv(createReadStream(positionals[0], { highWaterMark: 1 << 20 }), { db, tax, areas }, {
      crs: crs as Crs, encoding: encoding as Encoding, dryRun: values['dry-run'], strict: values.strict, mode: values.mode as 'upsert' | 'sync',
      by: commandLine('npm run import'),
      onProgress: (bytes) => bar?.update(Math.round(bytes / 1e6), { rate: (bytes / 1e6 / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) }),
      onRejection: values.json ? undefined : (r) => {
        bar?.stop();
        console.log(`line ${r.line}, column ${r.column}${r.value ? ` = '${r.value}'` : ''}: ${r.reason}`);
      },
      maxReported: values.json ? 10_000 : 0,
      // Test hooks for crash safety: stop inside the write transaction, or after the first rows are staged,
      // so that a test can kill the process there.
      beforeCommit: holdMs > 0 ? () => hold('holding inside the import transaction', holdMs) : undefined,
      afterChunk: holdStagedMs > 0 ? (staged) => hold(`holding after staging ${staged} rows`, holdStagedMs) : undefined,
      beforePublish: holdPublishMs > 0 ? () => hold('holding between staging and publish', holdPublishMs) : undefined,
    });
    bar?.stop();
    if (values.json) console.log(JSON.stringify(report));
    else {
      const mode = report.dry_run ? 'dry run, nothing written' : report.applied ? 'applied' : 'strict: nothing applied';
      console.log(`${report.rows} rows in ${report.seconds.toFixed(2)} s (${Math.round(report.rows / Math.max(report.seconds, 1e-6))} rows/s; publishing ${report.apply_seconds.toFixed(2)} s), ${report.encoding}, ${mode}`);
      console.log(`inserted ${report.inserted}, updated ${report.updated}, unchanged ${report.unchanged}, rejected ${report.rejected_rows}`);
      if (report.mode === 'sync') {
        console.log(`deleted ${report.deleted} (not listed in the file)${report.dry_run ? ', in a dry run: none really' : ''}`);
        for (const id of report.deleted_ids) console.log(`  ${id}`);
      }
    }
    return report.rejected_rows > 0 ? 1 : 0;
  } catch (e) {
    bar?.stop();
    if (!(e instanceof AppError)) throw e;
    if (values.json) console.log(JSON.stringify({ error: e.message, errors: e.errors }));
    else console.error(`the file was not imported: ${e.message}`);
    return 1;
  } finally {
    // Fold what was published (or clean up what was staged), so the store is tidy for every reader.
    await new Maintenance(db, { retentionMs: config.changesRetentionMs }).run();
    await db.close();
  }
}

function hold(message: string, ms: number): void {
  console.error(message);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (err) => {
  console.error(err);
  process.exitCode = 1;
});
