import { MIGRATIONS } from '../src/store/migrations.js';
import { POSTGRES_DDL } from '../src/store/migrations-pg.js';
import { positional, redact, translate } from '../src/store/postgres-sql.js';
import { isPostgresUrl } from '../src/store/db.js';
import { ConstraintViolation, StoreBusy, StoreUnavailable } from '../src/store/sql.js';

// What decides between the two stores, checked without a PostgreSQL server (its own tests are in
// test/postgres/, run by npm run test:pg).

test('every migration has its PostgreSQL DDL, and no DDL is without its migration', () => {
  expect([...POSTGRES_DDL.keys()].sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
  for (const ddl of POSTGRES_DDL.values()) expect(ddl).not.toMatch(/WITHOUT ROWID|AUTOINCREMENT|\bBLOB\b|\bREAL\b|randomblob|group_concat/i);
});

test('a location is PostgreSQL by its scheme, anything else a SQLite file', () => {
  expect(isPostgresUrl('postgres://u:p@db:5432/edumap')).toBe(true);
  expect(isPostgresUrl('postgresql://db/edumap')).toBe(true);
  expect(isPostgresUrl('var/edumap.db')).toBe(false);
  expect(isPostgresUrl(':memory:')).toBe(false);
  expect(isPostgresUrl('/srv/postgres://x')).toBe(false);
});

describe('? placeholders become $n', () => {
  test('in order, outside literals, quoted names, comments and dollar quotes', () => {
    expect(positional('SELECT ? , ?')).toBe('SELECT $1 , $2');
    expect(positional("SELECT '?', 'it''s ?', ? -- ?\n , ?")).toBe("SELECT '?', 'it''s ?', $1 -- ?\n , $2");
    expect(positional('SELECT "a?" /* ? */ FROM t WHERE x = ?')).toBe('SELECT "a?" /* ? */ FROM t WHERE x = $1');
    expect(positional("SELECT E'\\'?', ?")).toBe("SELECT E'\\'?', $1");
    expect(positional('SELECT $$ ? $$, $tag$ ? $tag$, ?')).toBe('SELECT $$ ? $$, $tag$ ? $tag$, $1');
  });

  test('does not mistake a backslash in a plain literal for an escape', () => {
    expect(positional("SELECT 'a\\', ?")).toBe("SELECT 'a\\', $1");
  });
});

test('a URL without its password for messages', () => {
  expect(redact('postgres://edumap:s3cret@db.internal:5432/edumap?sslmode=require&password=x')).toBe('postgres://edumap@db.internal:5432/edumap');
});

test('errors are told apart by SQLSTATE, never by message', () => {
  const server = (code: string, message = 'whatever the server says') => Object.assign(new Error(message), { code, severity: 'ERROR' });
  expect(translate(server('40001'), 'x')).toBeInstanceOf(StoreBusy);
  expect(translate(server('40P01'), 'x')).toBeInstanceOf(StoreBusy);
  expect(translate(server('55P03'), 'x')).toBeInstanceOf(StoreBusy);
  expect(translate(server('57014'), 'x')).toBeInstanceOf(StoreBusy);
  expect(translate(server('23505'), 'x')).toMatchObject({ kind: 'unique' });
  expect(translate(server('23514'), 'x')).toMatchObject({ kind: 'check' });
  expect(translate(server('23503'), 'x')).toMatchObject({ kind: 'foreign_key' });
  expect(translate(server('23502'), 'x')).toBeInstanceOf(ConstraintViolation);
  expect(translate(server('57P01'), 'postgres://db/x')).toBeInstanceOf(StoreUnavailable);
  expect(translate(server('08006'), 'postgres://db/x')).toBeInstanceOf(StoreUnavailable);
  expect(translate(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'postgres://db/x')).toBeInstanceOf(StoreUnavailable);
  const syntax = server('42601', 'deadlock detected (but really a syntax error)');
  expect(translate(syntax, 'x')).toBe(syntax);
  expect(translate(new TypeError('a bug'), 'x')).toBeInstanceOf(TypeError);
});
