import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isPostgresUrl, openStore } from '../store/db.js';
import { SqliteDatabase } from '../store/sqlite.js';
import { PostgresDatabase } from '../store/postgres.js';
import { copyStore, CopyRefused } from '../store/copy-store.js';
import { StoreUnavailable } from '../store/sql.js';

const USAGE = `usage: npm run migrate-store -- --from FILE --to URL

Copies a SQLite store (FILE, e.g. var/edumap.db) into a new PostgreSQL database (URL, postgres://user:
password@host:port/database), every table with its ids, sequences and counters, streamed in one
transaction: a failure leaves the target as it was. Both are migrated to the current schema first. The
target must be empty: create it (createdb), run this, then start the servers with EDUMAP_DB=URL. Stop the
servers writing to FILE first: rows written after the copy began are not copied.
Exit 0: copied (the rows of each table are printed); 1: refused or failed (the reason is printed); 2: usage error.`;

/** The migrate-store CLI. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', default: false } } }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.from || !values.to || isPostgresUrl(values.from) || !isPostgresUrl(values.to)) {
    console.error(USAGE);
    return 2;
  }
  if (!existsSync(values.from)) {
    console.error(`migrate-store: no SQLite file ${values.from}`);
    return 1;
  }
  const started = Date.now();
  const source = await openStore(values.from);
  try {
    const target = await openStore(values.to);
    try {
      console.log(`copying ${source.location} into ${target.location}`);
      const report = await copyStore(source as SqliteDatabase, target as PostgresDatabase, (name, rows) => console.log(`${name}\t${rows}`));
      const total = report.tables.reduce((n, t) => n + t.rows, 0);
      console.log(`copied ${total} rows of ${report.tables.length} tables in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    } finally {
      await target.close();
    }
  } catch (e) {
    if (!(e instanceof CopyRefused || e instanceof StoreUnavailable)) throw e;
    console.error(`migrate-store: ${e.message}`);
    return 1;
  } finally {
    await source.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  console.error(err instanceof StoreUnavailable ? `migrate-store: ${err.message}` : err);
  process.exitCode = 1;
});
