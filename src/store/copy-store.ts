import type { SqliteDatabase } from './sqlite.js';
import type { PostgresDatabase } from './postgres.js';

/**
 * Every table of the store, in an order where each row's references point to rows copied before it
 * (bookings → slots, booking_visitors → bookings, waitlist → slots and bookings).
 */
export const STORE_TABLES = [
  'meta', 'areas', 'batches', 'resources', 'batch_listed', 'slots', 'bookings', 'booking_visitors', 'idempotency_keys',
  'api_keys', 'audit_log', 'booking_rules', 'day_counters', 'booking_bans', 'waitlist', 'calendar_years',
] as const;

/**
 * Tables of the store that are not copied: state that means nothing once the servers stopped (the rate
 * limits' windows, a minute long).
 */
export const TRANSIENT_TABLES = ['rate_windows'] as const;

/** Rows per COPY chunk: the copy holds this many rows in memory at most, whatever the size of the store. */
const CHUNK_ROWS = 2000;

/** Why a copy was refused before anything was written (a non-empty target, schemas that differ). */
export class CopyRefused extends Error {
  override readonly name = 'CopyRefused';
}

/** What a copy did: rows per table, in copy order. */
export interface CopyReport {
  tables: { name: string; rows: number }[];
}

/**
 * Copies every table of a SQLite store into an empty PostgreSQL store at the same schema version: rows
 * streamed from one consistent read of the file (a read transaction), `CHUNK_ROWS` at a time through
 * `COPY … FROM STDIN`, in one PostgreSQL transaction (a failure leaves the target as it was); ids, seqs
 * and every counter of `meta` kept as they are, and each BIGSERIAL sequence moved past the largest id
 * copied. Refused (CopyRefused, nothing written) when the target holds data of its own — anything beyond
 * what its migrations wrote — or the two schemas differ. `onTable` hears of each table when it is done.
 */
export async function copyStore(source: SqliteDatabase, target: PostgresDatabase, onTable?: (name: string, rows: number) => void): Promise<CopyReport> {
  const raw = source.raw;
  const sourceVersion = raw.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number;
  const targetVersion = await target.value<number>('SELECT max(version) FROM schema_migrations');
  if (sourceVersion !== targetVersion) throw new CopyRefused(`the source is at schema version ${sourceVersion}, the target at ${targetVersion}`);
  const sourceTables = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
    .pluck().all() as string[]).filter((name) => !(TRANSIENT_TABLES as readonly string[]).includes(name)).sort();
  if (sourceTables.join() !== [...STORE_TABLES].sort().join()) {
    throw new CopyRefused(`the source's tables (${sourceTables.join(', ')}) are not the store's (${[...STORE_TABLES].sort().join(', ')})`);
  }
  await refuseNonEmpty(target);
  const columns = new Map<string, string[]>();
  for (const table of STORE_TABLES) columns.set(table, await sameColumns(source, target, table));

  const report: CopyReport = { tables: [] };
  raw.exec('BEGIN'); // one consistent state of the file for every table (WAL: writers may go on meanwhile)
  try {
    await target.session(async (t) => {
      await t.exec("SET LOCAL statement_timeout = 0; DELETE FROM meta; DELETE FROM batches"); // the rows its migrations wrote
      for (const table of STORE_TABLES) {
        const cols = columns.get(table)!;
        let rows = 0;
        const statement = raw.prepare(`SELECT ${cols.join(', ')} FROM ${table}`).raw(true);
        async function* chunks(): AsyncIterable<string> {
          let chunk = '';
          let n = 0;
          for (const row of statement.iterate() as Iterable<unknown[]>) {
            chunk += row.map(copyValue).join('\t') + '\n';
            rows++;
            if (++n === CHUNK_ROWS) {
              yield chunk;
              chunk = '';
              n = 0;
            }
          }
          if (chunk) yield chunk;
        }
        await t.copyIn(`COPY ${table} (${cols.join(', ')}) FROM STDIN`, chunks());
        const copied = await t.value<number>(`SELECT count(*) FROM ${table}`);
        if (copied !== rows) throw new Error(`${table}: ${rows} rows read, ${copied} in the target`);
        report.tables.push({ name: table, rows });
        onTable?.(table, rows);
      }
      const serials = await t.all<{ table_name: string; column_name: string }>(`SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`);
      for (const { table_name: table, column_name: column } of serials) {
        await t.value(`SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max(${column}), 0) + 1, false) FROM ${table}`, [table, column]);
      }
    });
  } finally {
    raw.exec('COMMIT');
  }
  return report;
}

/** CopyRefused unless the target holds only what its migrations wrote (counters at 0, the legacy batch). */
async function refuseNonEmpty(target: PostgresDatabase): Promise<void> {
  for (const table of STORE_TABLES) {
    // What the migrations write in an empty store: counters at 0, its identity, the legacy batch.
    const own = table === 'meta' ? " WHERE value <> '0' AND key <> 'store_id'" : table === 'batches' ? " WHERE kind <> 'legacy'" : '';
    if (await target.value(`SELECT 1 FROM ${table}${own} LIMIT 1`)) {
      throw new CopyRefused(`the target ${target.location} is not empty (table ${table} has rows): migrate-store copies into a new database only`);
    }
  }
}

/** A table's columns, the same in both stores (in the source's order); else CopyRefused naming the difference. */
async function sameColumns(source: SqliteDatabase, target: PostgresDatabase, table: string): Promise<string[]> {
  const mine = (source.raw.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]);
  const theirs = (await target.all<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ?`, [table])).map((c) => c.name);
  if ([...mine].sort().join() !== [...theirs].sort().join()) {
    throw new CopyRefused(`table ${table} has columns (${mine.join(', ')}) in the source and (${theirs.join(', ')}) in the target`);
  }
  return mine;
}

/** A value in COPY's text format: `\N` for NULL, bytea as `\\x…` hex, text with `\`, tab, newline and CR escaped. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return String(v).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
