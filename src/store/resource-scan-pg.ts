import type { PgTx, PostgresDatabase } from './postgres.js';
import { storeHead } from './db.js';
import type { ScanText } from './resource-reader.js';

/**
 * The snapshot scan on PostgreSQL: in one REPEATABLE READ, READ ONLY transaction (one consistent state),
 * three `COPY (SELECT …) TO STDOUT` streams in the same order (the index on (id, seq): no sort) — the ids
 * (with each line's batch and tombstone flag while batches wait to be folded), the lines, whose columns
 * COPY's text format already separates by tabs and ends by newlines, exactly as `ScanText` wants them,
 * and the names. The server sends rows as it reads them, and node-postgres keeps no object per row; three
 * streams cost more index scans on the server but no splitting of 1M lines here.
 */
export async function scanPostgres(db: PostgresDatabase, maxRows: number): Promise<ScanText> {
  return db.session(async (t) => {
    const batches = await t.all<{ id: number; state: string; published_seq: number | null }>(
      "SELECT id, state, published_seq FROM batches WHERE state <> 'published' OR folded = 0");
    const hidden = batches.filter((b) => b.state !== 'published').map((b) => b.id);
    const precedence = new Map(batches.filter((b) => b.state === 'published').map((b) => [b.id, b.published_seq!]));
    // As on SQLite: with every published batch folded, tombstones are left out in SQL; otherwise every
    // candidate line is read, and the engine picks the winners.
    const where = `FROM resources r WHERE r.retired_at IS NULL${hidden.length ? ` AND r.batch NOT IN (${hidden.map(Number).join(',')})` : ''}`
      + (precedence.size ? '' : ' AND r.deleted = 0');
    const order = 'ORDER BY r.id, r.seq';
    // The ids first: they tell the size before the (larger) lines are read. float8 → bigint rounds to the
    // nearest (half to even; SQLite's round() half away from zero), the same here: coordinates were rounded
    // to 1e-7 degrees when stored, so ×1e7 is within rounding error of an integer.
    const keyed = await copied(t, `COPY (SELECT r.id${precedence.size ? ', r.batch, r.deleted' : ''} ${where} ${order}) TO STDOUT`);
    const rows = keyed ? keyed.slice(0, -1).split('\n') : [];
    const size = rows.length;
    if (size > maxRows) throw new Error(`a snapshot holds at most ${maxRows} resources; the store has ${size}`);
    const lines = await copied(t, `COPY (SELECT r.seq, CAST(r.lng * 10000000 AS BIGINT), CAST(r.lat * 10000000 AS BIGINT),
      r.type, r.district, r.stages, coalesce(r.free, -1), r.terms, coalesce(r.opening_hours, '') ${where} ${order}) TO STDOUT`);
    // The names, one line each in the same order (a tab in a name comes escaped, and `plain` restores it).
    const names = plain((await copied(t, `COPY (SELECT ${nameLine('chr')} ${where} ${order}) TO STDOUT`)).slice(0, -1));
    const head = await storeHead(t);
    // Lines keep COPY's separators: a tab or newline inside a value would break them as it does on SQLite
    // (rows with control characters are refused before they are stored).
    const text = plain(lines).slice(0, -1); // without the last line's newline
    if (!precedence.size) return { ...head, size, text, ids: rows.map(plain), names };
    const ids: string[] = [];
    const versions = { batches: [] as number[], deleted: [] as number[], precedence };
    for (const row of rows) {
      const [id, batch, deleted] = row.split('\t');
      ids.push(plain(id));
      versions.batches.push(Number(batch));
      versions.deleted.push(Number(deleted));
    }
    return { ...head, size, text, ids, names, versions };
  }, 'read');
}

/** The whole output of a COPY TO as text, in COPY's text format. */
async function copied(t: PgTx, sql: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of t.copyOut(sql)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** COPY text with its backslash escapes resolved (they appear only for a `\` or a control character in a value). */
function plain(text: string): string {
  return text.includes('\\') ? unescapeCopy(text) : text;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** COPY's text format back to plain text: `\\` → `\`, `\t` → a tab, `\n` → a newline, octal and hex bytes. */
function unescapeCopy(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ESCAPES[e] ?? e;
  });
}

/**
 * A scan's name line in SQL: `name U+0001 name_en`, a newline in either read as a space; `char` is the
 * dialect's function from code to character (SQLite `char`, PostgreSQL `chr`).
 */
export function nameLine(char: 'char' | 'chr'): string {
  return `replace(r.name || ${char}(1) || coalesce(r.name_en, ''), ${char}(10), ' ')`;
}
