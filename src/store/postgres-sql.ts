import pg from 'pg';
import { ConstraintViolation, StoreBusy, StoreUnavailable } from './sql.js';

/**
 * What `postgres.ts` needs besides the pool: the store's `?` placeholders as PostgreSQL's `$n`, result types
 * as the store expects them (numbers, 0/1, Buffers), and PostgreSQL's errors as the store's classes.
 */

/** Rewritten statements, kept per text (store modules use a few hundred distinct ones; IN lists vary). */
const REWRITTEN = new Map<string, string>();
const REWRITTEN_MAX = 2048;

/**
 * `sql` with each `?` placeholder numbered `$1, $2, …` in order. A `?` inside a string literal ('…', E'…'),
 * a quoted identifier ("…"), a dollar-quoted string ($tag$…$tag$) or a comment is left as it is.
 */
export function positional(sql: string): string {
  const known = REWRITTEN.get(sql);
  if (known !== undefined) return known;
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length;) {
    const c = sql[i];
    let end = i + 1;
    if (c === '?') {
      out += `$${++n}`;
      i = end;
      continue;
    }
    if (c === "'") end = quoted(sql, i, "'", /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? ''));
    else if (c === '"') end = quoted(sql, i, '"', false);
    else if (c === '-' && sql[i + 1] === '-') end = until(sql, i, '\n');
    else if (c === '/' && sql[i + 1] === '*') end = until(sql, i + 2, '*/');
    else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag) end = until(sql, i + tag.length, tag);
    }
    out += sql.slice(i, end);
    i = end;
  }
  if (REWRITTEN.size >= REWRITTEN_MAX) REWRITTEN.clear();
  REWRITTEN.set(sql, out);
  return out;
}

/** The index after a literal opened at `start` by `q` (a doubled `q` stays inside; `\` escapes in E'…'). */
function quoted(sql: string, start: number, q: string, backslashes: boolean): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (backslashes && sql[i] === '\\') i++;
    else if (sql[i] === q) {
      if (sql[i + 1] !== q) return i + 1;
      i++;
    }
  }
  return sql.length;
}

function until(sql: string, from: number, close: string): number {
  const at = sql.indexOf(close, from);
  return at < 0 ? sql.length : at + close.length;
}

const INT8 = 20;
const NUMERIC = 1700;
const BOOL = 16;

/**
 * An int8 or numeric as a JS number (ids, counts and epoch ms all fit in 2^53); an integer past 2^53 as a
 * bigint, so that arithmetic on it fails loudly instead of rounding.
 */
function numberOf(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n) || !Number.isInteger(n)) return n;
  try {
    return BigInt(text);
  } catch {
    return n;
  }
}

/**
 * Result types as the store reads them from SQLite: int8 (count(), BIGINT columns) and numeric (sum()) as
 * numbers; booleans (a comparison selected as a column) as 1/0; bytea as Buffer (pg's default). Per pool,
 * not pg's global registry, so no other user of `pg` in the process is affected.
 */
export const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      if (oid === INT8 || oid === NUMERIC) return numberOf;
      if (oid === BOOL) return (text: string) => (text === 't' ? 1 : 0);
    }
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
};

/** The SQLSTATE of a server error (pg's DatabaseError carries `code` and `severity`), else undefined. */
export function sqlState(e: unknown): string | undefined {
  const err = e as { code?: unknown; severity?: unknown } | null;
  return err !== null && typeof err === 'object' && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code)
    && typeof err.severity === 'string' ? err.code : undefined;
}

/** SQLSTATEs that mean the server is gone or refuses us: connection exceptions, shutdown, no such database, login. */
const UNREACHABLE = /^(08|57P0[1-3]|53300|3D000|28)/;

/**
 * Whether an error of a pg call says the connection itself failed: a SQLSTATE of that kind, or no SQLSTATE at
 * all (a socket error, "connection terminated", a connect timeout: pg's own errors carry none).
 */
function connectionLost(e: unknown): boolean {
  const code = sqlState(e);
  if (code !== undefined) return UNREACHABLE.test(code);
  return !(e instanceof TypeError || e instanceof RangeError);
}

/**
 * A failure of a pg call as the store's own class, by SQLSTATE (never by message): lock and statement
 * timeouts, deadlocks and serialization failures are StoreBusy; constraint violations ConstraintViolation;
 * a failed connection (a socket error, a server going down, a login refused) StoreUnavailable naming
 * `location`. Anything else (a syntax error: a bug) is returned as it is.
 */
export function translate(e: unknown, location: string): unknown {
  if (e instanceof StoreBusy || e instanceof ConstraintViolation || e instanceof StoreUnavailable) return e;
  const code = sqlState(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code === '40001' || code === '40P01') return new StoreBusy(`the transaction met a concurrent one (${code}); retry`, { cause: e });
  if (code === '55P03') return new StoreBusy('a lock stayed taken past the lock timeout', { cause: e });
  if (code === '57014') return new StoreBusy('a statement ran past the statement timeout (or was cancelled)', { cause: e });
  if (code === '23505') return new ConstraintViolation('unique', message, { cause: e });
  if (code === '23514') return new ConstraintViolation('check', message, { cause: e });
  if (code === '23503') return new ConstraintViolation('foreign_key', message, { cause: e });
  if (code?.startsWith('23')) return new ConstraintViolation('other', message, { cause: e });
  if (connectionLost(e)) {
    const why = code ?? (e as { code?: unknown }).code;
    return new StoreUnavailable(`cannot reach the PostgreSQL database ${location}: ${message || 'connection failed'}${why ? ` (${String(why)})` : ''}`, { cause: e });
  }
  return e;
}

/** `url` without its password (and without query parameters, which may carry one), for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'postgres://(an unparsable URL)';
  }
}
