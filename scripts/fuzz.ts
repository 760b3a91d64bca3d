/**
 * Fuzzer: seeded malformed and hostile requests against every operation of `openapi.yaml`, sent to a real
 * server process on 127.0.0.1 (a fresh database in a temp directory).
 *
 *   npm run fuzz -- [--requests N] [--seed S] [--concurrency C] [--replay K]
 *
 * The operations are read from the document the server serves (`GET /openapi.yaml`), so a new endpoint is
 * fuzzed without a change here. The first requests are a catalogue that visits every named edge case once
 * per operation (each parameter with wrong types, huge, negative and non-finite numbers, empty and very long
 * strings, lone surrogates, overlong and invalid UTF-8, SQL and CSV-formula injection, path traversal; every
 * path with wrong methods, wrong content types, oversized and deeply nested bodies, bad Authorization and
 * Idempotency-Key headers; bad CSV files for imports; malformed HTTP on a raw socket); the rest combine one
 * to three random mutations of a valid request. Request K is a function of (seed, K) alone, so
 * `--replay K` sends it again and prints the whole answer.
 *
 * Exit 1 when any answer is ≥ 500, a request got no answer, an admin or booking endpoint answered 2xx to a
 * wrong credential, a traversal leaked a file, the server logged an error, died, or `/readyz` is not 200.
 * 4xx answers that are not problem+json are counted and listed (those from Node's HTTP parser, before the
 * app, apart); 429 is an ordinary 4xx.
 */
import { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { createRandom } from './gen.js';
import { formatShanghai } from '../src/time.js';
import { phoneNumber, residentId } from '../test/support.js';
import {
  UsageError, adminHeaders, adminKey, intFlag, isProblem, send, sendJson, startServer, tempDir, type Answer, type ServerProcess,
} from './harness.js';
import {
  BAD_KEYS, BAD_PERCENT, BAD_RAW, CSV_CASES, HOSTILE_COORDS, HOSTILE_NUMBERS, HOSTILE_STRINGS, HOSTILE_TIMES, RAW_CASES, badAuth,
  hostileJson, jsonText, pct, pick, validCsv, wire, type RawCase,
} from './fuzz-cases.js';

/** Default options (`--requests`, `--seed`, `--concurrency`). */
export const FUZZ_DEFAULTS = {
  requests: 10_000,
  seed: 1,
  /** Requests in flight at once. */
  concurrency: 8,
  /** The whole run stops sending after this long, in s, whatever `requests` says. */
  maxSeconds: 900,
  /** One request's answer is awaited this long, in ms. */
  timeoutMs: 60_000,
};

/** Largest CSV the fuzz server accepts: above the 10 MB one-line file, below the 13 MB oversized one. */
const IMPORT_MAX_BYTES = 12 * 1024 * 1024;

export interface FuzzOptions {
  requests?: number;
  seed?: number;
  concurrency?: number;
  maxSeconds?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** One violation, with what is needed to send the request again. */
export interface Violation { n: number; what: string; request: string; answer: string }

export interface FuzzReport {
  seed: number;
  operations: number;
  /** Requests planned, sent (stopped early only by `maxSeconds`), and how many came from the catalogue. */
  planned: number;
  sent: number;
  catalogue: number;
  seconds: number;
  /** Answers by status; `no answer` for transport errors. */
  byStatus: Record<string, number>;
  serverErrors: number;
  connectionErrors: number;
  /**
   * Requests with a large body whose answer was lost to a connection reset (the server answered before reading
   * the body and closed), and that were answered when sent again with a short body. Not violations.
   */
  earlyResets: number;
  earlyResetSamples: string[];
  /** 4xx not in problem+json form: all, and those that Node's HTTP parser sent before the app saw the request. */
  nonProblem4xx: number;
  nonProblem4xxFromParser: number;
  nonProblemSamples: string[];
  /** Every violation (≥ 500, no answer, auth bypass, leak), the first 50 in full. */
  violations: Violation[];
  violationCount: number;
  /** Error-level lines the server logged. */
  errorLogLines: string[];
  alive: boolean;
  readyz: number | string;
  ok: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// The contract, as the server serves it.

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
  example?: unknown;
  oneOf?: Schema[];
  $ref?: string;
}

interface Param { name: string; in: string; required: boolean; schema: Schema; example?: unknown }

/** One operation of the document, with references resolved. */
export interface Operation {
  id: string;
  method: string;
  /** e.g. `/v1/resources/{id}/slots` */
  template: string;
  params: Param[];
  body?: { types: string[]; schema?: Schema };
  auth: 'admin' | 'token' | 'none';
  /** The operation also serves callers without a credential (`security: [{}, …]`). */
  anonymous: boolean;
}

/** Every operation of an OpenAPI document. */
export function operationsOf(text: string): Operation[] {
  const doc = parseYaml(text) as { paths: Record<string, Record<string, any>>; [k: string]: unknown };
  const deref = (node: any): any => {
    if (!node || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(deref);
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
      return deref(node.$ref.slice(2).split('/').reduce((at: any, k: string) => at?.[k], doc));
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(v)]));
  };
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    const shared = (item.parameters ?? []) as unknown[];
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const op = deref(raw);
      const params = [...shared.map(deref), ...(op.parameters ?? [])].map((p: any): Param => ({
        name: p.name, in: p.in, required: Boolean(p.required), schema: p.schema ?? {}, example: p.example,
      }));
      const content = op.requestBody?.content as Record<string, { schema?: Schema }> | undefined;
      const schemes = ((op.security ?? []) as Record<string, unknown>[]).flatMap((s) => Object.keys(s));
      ops.push({
        id: op.operationId ?? `${method} ${template}`, method: method.toUpperCase(), template, params,
        body: content ? { types: Object.keys(content), schema: Object.values(content)[0]?.schema } : undefined,
        auth: schemes.includes('key') ? 'admin' : schemes.includes('bookingToken') ? 'token' : 'none',
        anonymous: ((op.security ?? []) as Record<string, unknown>[]).some((s) => Object.keys(s).length === 0),
      });
    }
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------------------
// Requests.

/** What the fuzzer knows about the server's data, found at setup. */
interface Context {
  /** Real cursors and the query pairs (wire form) they continue. */
  cursors: { query: [string, string][]; cursor: string }[];
  resourceIds: string[];
  areaIds: string[];
  slotIds: number[];
  slotResource: string;
  bookings: { id: string; token: string }[];
  tags: string[];
  /** A time `hours` from now, in Asia/Shanghai. */
  at(hours: number): string;
}

/** A request under construction: the parts a mutation may change. */
interface Draft {
  op?: Operation;
  label: string;
  method: string;
  template: string;
  path: Record<string, string>;
  query: [string, string | undefined][];
  headers: Record<string, string | string[]>;
  json?: { value: unknown };
  body?: Buffer;
  chunked?: boolean;
  /** The request carries no valid credential for its admin or booking operation. */
  badCredential?: boolean;
  /** Looks for a leaked file in a 2xx answer. */
  traversal?: boolean;
}

/** A finished request. `raw` is sent on a socket as it is (malformed HTTP). */
export interface FuzzRequest {
  n: number;
  op: string;
  label: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  chunked?: boolean;
  raw?: Buffer;
  /** A raw request that ends the connection on purpose: no answer is no violation. */
  mayGoUnanswered?: boolean;
  badCredential?: boolean;
  traversal?: boolean;
}

const STAGES = ['preschool', 'primary', 'junior', 'senior', '小学'];

/** A valid wire value of a parameter, or undefined to leave it out. */
function validParam(op: Operation, p: Param, ctx: Context, rand: () => number): string | undefined {
  const r = () => rand();
  if (op.template === '/v1/calendar' && (p.name === 'from' || p.name === 'to')) return ctx.at(p.name === 'from' ? 24 : 24 * 60).slice(0, 10);
  switch (p.name) {
    case 'near': return `${(116.1 + r() * 0.6).toFixed(4)},${(39.7 + r() * 0.4).toFixed(4)}`;
    case 'radius_km': return (0.5 + r() * 20).toFixed(1);
    case 'bbox': return pick(rand, ['116.2,39.8,116.6,40.0', '116.0,39.5,117.0,40.5', '116.38,39.90,116.42,39.93']);
    case 'area': return pick(rand, ctx.areaIds);
    case 'tag': return pct(pick(rand, ctx.tags));
    case 'type': return pick(rand, ['museum', 'museum,park', 'library,science_museum']);
    case 'stage': return pct(pick(rand, STAGES));
    case 'open_at': case 'available_from': case 'from': return pct(ctx.at(24 + Math.floor(r() * 72)));
    case 'available_to': case 'to': return pct(ctx.at(24 * 5));
    case 'q': return pct(pick(rand, ['博物馆', 'museum', '公园', 'Library', '科技']));
    case 'limit': return String(1 + Math.floor(r() * 20));
    case 'seats': return String(1 + Math.floor(r() * 3));
    case 'zoom': return String(Math.floor(r() * 18));
    case 'cursor': return undefined;
    case 'dry_run': return r() < 0.8 ? 'true' : 'false';
    case 'id':
      if (op.template.startsWith('/v1/areas')) return pick(rand, ctx.areaIds);
      if (op.template.startsWith('/v1/bookings')) return ctx.bookings.length ? pick(rand, ctx.bookings).id : 'bk_AAAAAAAAAAAAAAAA';
      if (op.template.includes('/slots') || op.template.includes('/schedule')) return ctx.slotResource;
      return pick(rand, ctx.resourceIds);
  }
  const s = p.schema;
  if (s.enum) return String(pick(rand, s.enum));
  if (p.example !== undefined) return pct(String(p.example));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'boolean') return r() < 0.5 ? 'true' : 'false';
  if (type === 'integer' || type === 'number') return String(Math.max(s.minimum ?? 1, Math.min(s.maximum ?? 10, 1)));
  if (type === 'array') return 'x';
  return p.required ? 'x' : undefined;
}

/** A valid JSON body of an operation: hand-made for the known ones, else built from the schema. */
function validBody(op: Operation, ctx: Context, rand: () => number): unknown {
  const hour = 24 * 30 + Math.floor(rand() * 24 * 300);
  const maybe = <T>(value: T) => (rand() < 0.5 ? value : undefined);
  const point = () => ({ lng: 116.3 + rand() * 0.2, lat: 39.85 + rand() * 0.1 });
  switch (op.id) {
    case 'createSlots':
      return { slots: Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, k) => ({
        start: ctx.at(hour + 2 * k), end: ctx.at(hour + 2 * k + 1), capacity: { individual: 5, group: 30 }, group_size: maybe({ min: 15, max: 30 }),
      })) };
    case 'scheduleSlots':
      return {
        hours: maybe('Mo-Su 09:00-10:00'), slot_minutes: maybe(60), days: 1 + Math.floor(rand() * 3), from: ctx.at(hour).slice(0, 10),
        closed_dates: maybe([ctx.at(hour + 24).slice(0, 10)]), capacity: { individual: 5, group: 20 }, group_size: maybe({ min: 15, max: 20 }),
      };
    case 'createBooking': {
      const group = rand() < 0.2;
      return {
        slot_id: pick(rand, ctx.slotIds), kind: group ? 'group' : 'individual', party_size: group ? 15 + Math.floor(rand() * 10) : 1 + Math.floor(rand() * 3),
        contact: { name: '测试家长', phone: pick(rand, [phoneNumber(Math.floor(rand() * 1e8)), '+86 139-0000-0000', '13800138000']) },
        visitor_ids: maybe([residentId(Math.floor(rand() * 36500))]),
      };
    }
    case 'match':
      return {
        origins: [{ ...point(), label: 'home' }, ...(rand() < 0.4 ? [{ ...point(), label: 'school', weight: 2 }] : [])],
        crs: maybe(pick(rand, ['wgs84', 'gcj02', 'bd09'])),
        needs: {
          stage: maybe('primary'), domains: maybe({ ti: 2, 智育: 1 }), tags: maybe([pick(rand, ctx.tags)]), types: maybe(['museum', 'park']),
          free: maybe(true), require_open: maybe(true),
          time: maybe(rand() < 0.5 ? { at: ctx.at(48) } : { from: ctx.at(72), to: ctx.at(80) }),
          party: maybe({ seats: 1 + Math.floor(rand() * 3), kind: pick(rand, ['individual', 'group']) }),
        },
        radius_km: maybe(20), limit: maybe(5),
      };
  }
  return op.body?.schema ? fromSchema(op.body.schema, rand, 0) : {};
}

/** Every property name in a schema, at any depth: fields a mutation may add with a hostile value. */
function propertyNames(s: Schema | undefined, out = new Set<string>(), depth = 0): Set<string> {
  if (!s || depth > 8) return out;
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    out.add(k);
    propertyNames(v, out, depth + 1);
  }
  propertyNames(s.items, out, depth + 1);
  for (const alt of s.oneOf ?? []) propertyNames(alt, out, depth + 1);
  return out;
}

/** A value that satisfies a (simple) JSON schema, for operations this file does not know by name. */
function fromSchema(s: Schema, rand: () => number, depth: number): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum) return pick(rand, s.enum);
  if (s.default !== undefined) return s.default;
  if (s.oneOf) return fromSchema(s.oneOf[0], rand, depth);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type ?? (s.properties ? 'object' : 'string');
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) {
        if (depth < 6 && (s.required?.includes(k) || rand() < 0.3)) out[k] = fromSchema(v, rand, depth + 1);
      }
      return out;
    }
    case 'array': return Array.from({ length: Math.max(s.minItems ?? 0, 1) }, () => fromSchema(s.items ?? {}, rand, depth + 1));
    case 'integer': return Math.max(s.minimum ?? 1, Math.min(s.maximum ?? 10, 1));
    case 'number': return Math.max((s.exclusiveMinimum ?? s.minimum ?? 0) + 1, Math.min(s.maximum ?? 10, 1));
    case 'boolean': return true;
    default: return 'x'.repeat(Math.max(s.minLength ?? 1, 1));
  }
}


/** A valid request of `op`. */
function baseline(op: Operation, ctx: Context, rand: () => number): Draft {
  const draft: Draft = { op, label: 'valid', method: op.method, template: op.template, path: {}, query: [], headers: {} };
  for (const p of op.params) {
    const value = validParam(op, p, ctx, rand);
    if (value === undefined) continue;
    if (p.in === 'path') draft.path[p.name] = value;
    else if (p.in === 'query' && (p.required || rand() < 0.5)) draft.query.push([p.name, value]);
  }
  if (op.params.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key')) {
    draft.headers['Idempotency-Key'] = `fz-${Math.floor(rand() * 1e12).toString(36)}`;
  }
  if (op.auth === 'admin') Object.assign(draft.headers, adminHeaders());
  if (op.auth === 'token') {
    const booking = ctx.bookings.find((b) => b.id === draft.path.id);
    draft.headers.Authorization = `Bearer ${booking?.token ?? 'no-token'}`;
    if (!booking) draft.badCredential = true;
  }
  if (op.body?.types.includes('application/json')) {
    draft.headers['Content-Type'] = 'application/json';
    draft.json = { value: validBody(op, ctx, rand) };
  } else if (op.body?.types.some((t) => t.includes('csv'))) {
    draft.headers['Content-Type'] = 'text/csv';
    draft.body = Buffer.from(validCsv(3, Math.floor(rand() * 1e6)));
    if (!draft.query.some(([k]) => k === 'dry_run')) draft.query.push(['dry_run', 'true']);
  }
  return draft;
}

/** The named mutations; each takes a draft and changes it in place. */
type Mutation = (d: Draft, rand: () => number, ctx: Context) => void;

/** A parameter's hostile wire value, chosen for its type. */
function hostileParam(p: Param, rand: () => number): string {
  const type = Array.isArray(p.schema.type) ? p.schema.type[0] : p.schema.type;
  const r = rand();
  if (r < 0.15) return pick(rand, BAD_PERCENT);
  if (r < 0.2) return pick(rand, BAD_RAW);
  if (type === 'integer' || type === 'number') return wire(rand, pick(rand, HOSTILE_NUMBERS));
  if (type === 'boolean') return wire(rand, pick(rand, ['yes', 'no', 'TRUE', '1', '0', 'on', '', 'null', 'truee', 'false,true']));
  if (['near', 'bbox'].includes(p.name)) return wire(rand, pick(rand, HOSTILE_COORDS));
  if (['tag', 'type', 'stage'].includes(p.name)) return wire(rand, pick(rand, ['|', 'ti|', '||', '|ti', 'ti|zzz', 'ti|'.repeat(100), ',', ',,museum,,', 'museum, park', '智育|体育', 'ZHI', 'zhi.', '.', '*', '%']));
  if (/(^|_)(at|from|to)$/.test(p.name)) return wire(rand, pick(rand, HOSTILE_TIMES));
  if (p.schema.enum) return wire(rand, pick(rand, ['', 'WGS84', 'wgs84 ', 'gcj-02', 'json,geojson', String(p.schema.enum[0]).toUpperCase(), ...HOSTILE_STRINGS.slice(0, 8)]));
  return wire(rand, pick(rand, HOSTILE_STRINGS));
}

const queryParams = (d: Draft) => d.op?.params.filter((p) => p.in === 'query') ?? [];

const MUTATIONS: Record<string, { applies: (op: Operation) => boolean; apply: Mutation }> = {
  'query.hostile': {
    applies: (op) => op.params.some((p) => p.in === 'query'),
    apply: (d, rand) => {
      const p = pick(rand, queryParams(d));
      d.query = d.query.filter(([k]) => k !== p.name);
      d.query.push([p.name, hostileParam(p, rand)]);
    },
  },
  'query.duplicate': {
    applies: (op) => op.params.some((p) => p.in === 'query'),
    apply: (d, rand) => {
      const p = pick(rand, queryParams(d));
      const times = pick(rand, [2, 3, 50, 1500]);
      for (let i = 0; i < times; i++) d.query.push([p.name, pick(rand, ['1', 'true', 'museum', '116.4,39.9', ''])]);
    },
  },
  'query.unknown': {
    applies: () => true,
    apply: (d, rand) => {
      d.query.push(pick(rand, [['zzz', '1'], ['__proto__', 'x'], ['constructor', 'x'], ['hasOwnProperty', '1'], ['limit[]', '1'],
        ['tag[0]', 'ti'], ['a'.repeat(3000), 'b'], ['', 'x'], ['=', '='], [pct('\ud800'), '1'], ['%ZZ', '1']] as [string, string][]));
    },
  },
  'query.bare': {
    applies: (op) => op.params.some((p) => p.in === 'query'),
    apply: (d, rand) => {
      d.query.push([pick(rand, queryParams(d)).name, undefined]);
      if (rand() < 0.3) d.query.push(['&&&', undefined]);
    },
  },
  'query.drop-required': {
    applies: (op) => op.params.some((p) => p.in === 'query' && p.required),
    apply: (d) => {
      const required = new Set(queryParams(d).filter((p) => p.required).map((p) => p.name));
      d.query = d.query.filter(([k]) => !required.has(k));
    },
  },
  'cursor.tampered': {
    applies: (op) => op.params.some((p) => p.in === 'query' && p.name === 'cursor'),
    apply: (d, rand, ctx) => {
      // A real cursor, decoded and changed, sent with the query it belongs to (so it passes the fingerprint).
      if (!ctx.cursors.length) return;
      const { query, cursor } = pick(rand, ctx.cursors);
      const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Record<string, unknown>;
      const field = pick(rand, ['id', 'd', 'f', 'extra']);
      if (rand() < 0.2) delete value[field];
      else value[field] = hostileJson(rand);
      const text = jsonText(value);
      d.query = [...query, ['cursor', pct(rand() < 0.9 ? Buffer.from(text).toString('base64url') : Buffer.from(text).toString('base64'))]];
    },
  },
  'path.hostile': {
    applies: (op) => op.params.some((p) => p.in === 'path'),
    apply: (d, rand) => {
      const name = pick(rand, Object.keys(d.path));
      const r = rand();
      if (r < 0.25) {
        d.traversal = true;
        d.path[name] = pick(rand, ['..', '../..', '../../../../etc/passwd', '..%2f..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fpackage.json',
          '..%5c..%5cpackage.json', '%252e%252e%252f', '.', '%2e', '....//....//etc/passwd', 'x/../../../package.json']);
      } else if (r < 0.35) d.path[name] = pick(rand, BAD_PERCENT);
      else if (r < 0.4) d.path[name] = pick(rand, ['', '%20', '+', '%2F', '%00']);
      else d.path[name] = wire(rand, pick(rand, [...HOSTILE_STRINGS, 'bk_AAAAAAAAAAAAAAAA', 'bk_' + 'A'.repeat(17), '110108', 'x'.repeat(129)]));
      if (d.op?.auth === 'token') d.badCredential = true;
    },
  },
  'method.wrong': {
    applies: () => true,
    apply: (d, rand) => {
      d.method = pick(rand, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO'].filter((m) => m !== d.op?.method));
    },
  },
  'auth.bad': {
    applies: () => true,
    apply: (d, rand) => {
      const value = pick(rand, badAuth(adminKey()));
      const removed = rand() < 0.15;
      if (removed) delete d.headers.Authorization;
      else if (rand() < 0.1) d.headers.Authorization = [value, `Bearer ${adminKey()}`];
      else d.headers.Authorization = value;
      // No credential at all is fine where anonymous callers are served too; a bad one never is.
      if (d.op?.auth !== 'none' && !(removed && d.op?.anonymous)) d.badCredential = true;
    },
  },
  'idempotency.bad': {
    applies: (op) => op.params.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'),
    apply: (d, rand) => {
      if (rand() < 0.15) delete d.headers['Idempotency-Key'];
      else if (rand() < 0.15) d.headers['Idempotency-Key'] = ['k1', 'k2'];
      else d.headers['Idempotency-Key'] = pick(rand, BAD_KEYS);
    },
  },
  'headers.odd': {
    applies: () => true,
    apply: (d, rand) => {
      const r = rand();
      if (r < 0.2) d.headers['X-Request-Id'] = pick(rand, ['', 'x'.repeat(5000), '../../etc', 'a b', '\xff\xfe', "'; DROP TABLE--"]);
      else if (r < 0.35) d.headers.Accept = pick(rand, ['application/xml', '*/*;q=abc', 'text/csv', '', 'application/json;q=0']);
      else if (r < 0.5) d.headers['X-Big'] = 'x'.repeat(pick(rand, [1000, 8000, 20_000]));
      else if (r < 0.6) for (let i = 0; i < 120; i++) d.headers[`X-H-${i}`] = String(i);
      else if (r < 0.7) d.headers.Cookie = 'a=b; ' + '%ZZ=\xff; '.repeat(50);
      else if (r < 0.8) d.headers.Range = pick(rand, ['bytes=0-0', 'bytes=-1', 'bytes=999999999-', 'bytes=5-1', 'lines=1-2']);
      else if (r < 0.9) d.headers['X-Forwarded-For'] = pick(rand, ['1.1.1.1', '::1', 'x'.repeat(500), '999.999.999.999, ::ffff:1.2.3.4']);
      else d.headers.Origin = pick(rand, ['https://evil.example', 'null', 'file://', '\xff']);
    },
  },
  'content-type.wrong': {
    applies: (op) => Boolean(op.body),
    apply: (d, rand) => {
      const value = pick(rand, [
        undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
        'application/json; charset=latin1', 'application/json; charset=bogus', 'APPLICATION/JSON', 'application/json, text/plain',
        'application/merge-patch+json', 'text/csv', 'text/csv; charset=gb18030', 'application/csv', 'application/octet-stream', ';;;', 'a/b/c',
        'text/csv; charset=utf-8; charset=latin1', 'application/vnd.ms-excel', 'image/png',
      ]);
      if (value === undefined) delete d.headers['Content-Type'];
      else d.headers['Content-Type'] = value;
    },
  },
  'content-encoding': {
    applies: (op) => Boolean(op.body),
    apply: (d, rand) => {
      const value = pick(rand, ['gzip', 'deflate', 'br', 'identity', 'x-evil', 'gzip, gzip', 'GZIP']);
      d.headers['Content-Encoding'] = value;
      if (value === 'gzip' && rand() < 0.5) {
        d.body = gzipSync(d.body ?? Buffer.from(d.json ? jsonText(d.json.value) : ''));
        d.json = undefined;
      }
    },
  },
  'json.field': {
    applies: (op) => Boolean(op.body?.types.includes('application/json')),
    apply: (d, rand) => {
      if (!d.json) return;
      const slots = jsonSlots(d.json);
      const slot = pick(rand, slots);
      const r = rand();
      if (r < 0.6) slot.set(hostileJson(rand));
      else if (r < 0.75) slot.remove();
      else if (r < 0.9) slot.add(pick(rand, [...propertyNames(d.op?.body?.schema), 'unknown', '__proto__', 'constructor', '', '\ud800']), hostileJson(rand));
      else slot.set([slot.get(), slot.get()]);
    },
  },
  'json.whole': {
    applies: (op) => Boolean(op.body),
    apply: (d, rand) => {
      d.json = undefined;
      d.body = Buffer.from(pick(rand, [
        '', ' ', 'null', '""', '123', '[]', 'true', '{', '{"a":', '[1,2', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', 'NaN', '\u0000',
        '\ufeff{}', '{"__proto__":{"polluted":true}}', '{"a":1,"a":2}', '{"slots":[]}', '{"origins":[{"lng":1e999,"lat":-1e999}]}',
        '['.repeat(8000) + ']'.repeat(8000), '{"a":'.repeat(3000) + '1' + '}'.repeat(3000), 'hello=world&x=1', '<xml/>',
        '{"origins":[{"lng":116.4,"lat":39.9,"label":' + '['.repeat(5000) + ']'.repeat(5000) + '}]}',
      ]));
    },
  },
  'body.bytes': {
    applies: (op) => Boolean(op.body),
    apply: (d, rand) => {
      const text = d.json ? jsonText(d.json.value) : (d.body ?? Buffer.alloc(0)).toString('latin1');
      d.json = undefined;
      const at = Math.floor(rand() * (text.length + 1));
      const bad = pick(rand, [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xfe, 0xff], [0xe4, 0xb8], [0x00], [0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
      d.body = Buffer.concat([Buffer.from(text.slice(0, at), 'latin1'), Buffer.from(bad), Buffer.from(text.slice(at), 'latin1')]);
    },
  },
  'body.garbage': {
    applies: (op) => Boolean(op.body),
    apply: (d, rand) => {
      d.json = undefined;
      d.body = Buffer.from(Array.from({ length: pick(rand, [1, 100, 4096, 70_000]) }, () => Math.floor(rand() * 256)));
    },
  },
  'body.oversized': {
    applies: (op) => Boolean(op.body),
    apply: (d, rand) => {
      d.json = undefined;
      const size = pick(rand, [17 * 1024, 600 * 1024, 2 * 1024 * 1024]);
      d.body = Buffer.from(`{"pad":"${'x'.repeat(size)}"}`);
      d.chunked = rand() < 0.5;
    },
  },
  'body.missing': {
    applies: (op) => Boolean(op.body),
    apply: (d) => {
      d.json = undefined;
      d.body = undefined;
    },
  },
  csv: {
    applies: (op) => Boolean(op.body?.types.some((t) => t.includes('csv'))),
    apply: (d, rand) => {
      const csv = pick(rand, CSV_CASES);
      d.label = `csv.${csv.name}`;
      d.json = undefined;
      d.body = csv.make(rand);
      d.chunked = csv.chunked ?? rand() < 0.2;
      d.headers['Content-Type'] = csv.contentType ?? 'text/csv';
      d.query = d.query.filter(([k]) => k !== 'dry_run');
      d.query.push(['dry_run', csv.apply && rand() < 0.7 ? 'false' : 'true']);
      if (csv.query) d.query.push(...csv.query);
    },
  },
};

/** A handle on one value inside a JSON document. */
interface JsonSlot { get(): unknown; set(v: unknown): void; remove(): void; add(k: string, v: unknown): void }

/** Handles on every value of `container.value`, the root included. */
function jsonSlots(container: { value: unknown }): JsonSlot[] {
  const out: JsonSlot[] = [];
  const visit = (parent: any, key: string | number) => {
    out.push({
      get: () => parent[key],
      set: (v) => { parent[key] = v; },
      remove: () => { if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key]; },
      add: (k, v) => {
        const value = parent[key];
        // defineProperty, so that a key named __proto__ becomes an own member of the JSON text.
        if (value && typeof value === 'object' && !Array.isArray(value)) Object.defineProperty(value, k, { value: v, enumerable: true, configurable: true, writable: true });
        else parent[key] = { [k]: v };
      },
    });
    const value = parent[key];
    if (value && typeof value === 'object') for (const k of Object.keys(value)) visit(value, Array.isArray(value) ? Number(k) : k);
  };
  visit(container, 'value');
  return out;
}

type Entry = (rand: () => number, ctx: Context) => Draft | { raw: RawCase };
const catalogues = new WeakMap<Operation[], Entry[]>();

/** Every catalogue entry: named edge cases, each visited once per operation it applies to. */
function catalogue(ops: Operation[]): Entry[] {
  const known = catalogues.get(ops);
  if (known) return known;
  const perOp: Entry[][] = [];
  for (const op of ops) {
    const out: Entry[] = [];
    perOp.push(out);
    out.push((rand, ctx) => baseline(op, ctx, rand));
    for (const p of op.params.filter((q) => q.in === 'query')) {
      const type = Array.isArray(p.schema.type) ? p.schema.type[0] : p.schema.type;
      const values = [
        ...(type === 'integer' || type === 'number' ? ['abc', '-1', '1e309', 'NaN', 'Infinity', '9'.repeat(400), '1.5', '-0'] : []),
        ...(type === 'boolean' ? ['yes', '2', ''] : []),
        ...(['near', 'bbox'].includes(p.name) ? HOSTILE_COORDS.slice(0, 8) : []),
        ...(/(^|_)(at|from|to)$/.test(p.name) ? HOSTILE_TIMES.slice(0, 8) : []),
        '', 'A'.repeat(5000), '\ud800', "'; DROP TABLE resources;--", "=cmd|' /C calc'!A0", '../../../../etc/passwd',
      ];
      for (const value of values) {
        out.push((rand, ctx) => ({ ...setQuery(baseline(op, ctx, rand), p.name, pct(value)), label: `query.${p.name}=${JSON.stringify(value.slice(0, 20))}` }));
      }
      for (const bad of ['%C0%AF', '%ED%A0%80', '%FF', '%ZZ', '\xff\xfe']) {
        out.push((rand, ctx) => ({ ...setQuery(baseline(op, ctx, rand), p.name, bad), label: `query.${p.name} bad-encoding ${JSON.stringify(bad)}` }));
      }
      out.push((rand, ctx) => ({ ...setQuery(setQuery(baseline(op, ctx, rand), p.name, validParam(op, p, ctx, rand) ?? '1'), p.name, 'x', true), label: `query.${p.name} duplicated` }));
    }
    for (const name of Object.keys(MUTATIONS)) {
      if (name === 'csv' || !MUTATIONS[name].applies(op)) continue;
      const repeats = ['json.field', 'path.hostile', 'auth.bad', 'content-type.wrong', 'json.whole', 'idempotency.bad', 'cursor.tampered'].includes(name) ? 6 : 2;
      for (let i = 0; i < repeats; i++) out.push((rand, ctx) => mutate(baseline(op, ctx, rand), [name], rand, ctx));
    }
    if (MUTATIONS.csv.applies(op)) {
      for (const csv of CSV_CASES) {
        out.push((rand, ctx) => {
          const d = baseline(op, ctx, rand);
          d.label = `csv.${csv.name}`;
          d.body = csv.make(rand);
          d.chunked = csv.chunked;
          d.headers['Content-Type'] = csv.contentType ?? 'text/csv';
          if (csv.name === 'declared-huge') d.headers['Content-Length'] = String(99_999_999_999);
          if (csv.query) d.query.push(...csv.query);
          return d;
        });
      }
    }
  }
  perOp.push(RAW_CASES.map((raw) => () => ({ raw })));
  // Round-robin over the operations, so that a short run still visits each of them.
  const all: Entry[] = [];
  for (let k = 0; all.length < perOp.reduce((n, l) => n + l.length, 0); k++) for (const list of perOp) if (k < list.length) all.push(list[k]);
  catalogues.set(ops, all);
  return all;
}

function setQuery(d: Draft, name: string, value: string, keep = false): Draft {
  if (!keep) d.query = d.query.filter(([k]) => k !== name);
  d.query.push([name, value]);
  return d;
}

function mutate(d: Draft, names: string[], rand: () => number, ctx: Context): Draft {
  for (const name of names) MUTATIONS[name].apply(d, rand, ctx);
  // The csv mutation names the file it chose.
  d.label = names.map((n) => (n === 'csv' ? d.label : n)).join('+');
  return d;
}

/** Request `n` of a run: the catalogue first, then random mutations. A function of (seed, n) and the context. */
export function generate(n: number, seed: number, ops: Operation[], ctx: Context, host: string): FuzzRequest {
  const rand = createRandom(seed * 1_000_003 + n);
  const list = catalogue(ops);
  let made: Draft | { raw: RawCase };
  if (n < list.length) made = list[n](rand, ctx);
  else {
    const r = rand();
    if (r < 0.01) made = { raw: pick(rand, RAW_CASES) };
    else if (r < 0.03) {
      made = { label: 'unknown-path', method: pick(rand, ['GET', 'POST']), template: pick(rand, ['/v2/resources', '/v1', '/v1/', '/v1//resources', '/V1/RESOURCES',
        '/assets/../../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/%2e%2e/%2e%2e/etc/passwd',
        '/v1/resources/../../../etc/passwd', '/docs/../package.json', '/openapi.yaml/..', '/healthz?x=1', '/readyz/x', '/metrics?name[]=x', '//evil.example/',
        '/metrics', '/docs', '/docs/', '/docs/%2e%2e/%2e%2e/package.json', '/assets/', '/assets/%00', '/favicon.ico', '/v1/resources.json']),
      path: {}, query: [], headers: {}, traversal: true };
    } else {
      const op = pick(rand, ops);
      const names = Object.keys(MUTATIONS).filter((m) => MUTATIONS[m].applies(op));
      const chosen = new Set<string>();
      const count = 1 + Math.floor(rand() * 3);
      while (chosen.size < Math.min(count, names.length)) chosen.add(pick(rand, names));
      made = mutate(baseline(op, ctx, rand), [...chosen], rand, ctx);
    }
  }
  if ('raw' in made) {
    return { n, op: 'raw', label: `raw.${made.raw.name}`, method: '', path: '', headers: {}, raw: made.raw.bytes(host), mayGoUnanswered: made.raw.mayGoUnanswered };
  }
  const d = made;
  const path = d.template.replace(/\{(\w+)\}/g, (_m, name: string) => d.path[name] ?? '');
  const query = d.query.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&');
  const body = d.json ? Buffer.from(jsonText(d.json.value)) : d.body;
  // A wrong credential matters only where the method and path address an operation that wants one.
  const addressed = ops.find((o) => o.template === d.template && o.method === (d.method === 'HEAD' ? 'GET' : d.method));
  return {
    n, op: d.op?.id ?? 'none', label: d.label, method: d.method, path: query ? `${path}?${query}` : path, headers: d.headers, body,
    chunked: d.chunked, badCredential: Boolean(d.badCredential && addressed && addressed.auth !== 'none'), traversal: d.traversal || /\.\.|%2e/i.test(path),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Sending and judging.

interface Outcome {
  status?: number;
  answer?: Answer;
  error?: string;
  rawStatuses?: number[];
  rawFromApp?: boolean;
  /** The transport error of the first attempt, when the answer came from a repeat with a short body. */
  early?: string;
}

/** A request body above this size may be cut off by an early answer (see `runFuzz`). */
const EARLY_BODY_BYTES = 64 * 1024;

/** Writes raw bytes on a socket; reads what comes back until the server closes or goes quiet. */
function sendRaw(port: number, bytes: Buffer, quietMs = 1500): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      const text = data.toString('latin1');
      const statuses = [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1]));
      if (!statuses.length) {
        resolve({ error: error ?? 'closed without an answer' });
        return;
      }
      // The first answer, whole enough to judge: its headers, and its body when it has a Content-Length.
      const end = text.indexOf('\r\n\r\n');
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, end < 0 ? undefined : end).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      const body = end < 0 ? Buffer.alloc(0) : data.subarray(end + 4, end + 4 + length);
      resolve({ status: statuses[0], rawStatuses: statuses, rawFromApp: 'x-request-id' in headers, answer: { status: statuses[0], headers, body, ms: 0 } });
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish('no answer'), quietMs);
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      quiet();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    socket.on('close', () => finish());
    socket.connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      quiet();
    });
  });
}

/** Characters Node's HTTP client refuses in a header value (it would not send the request at all). */
const UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/;

/** A request as HTTP/1.1 bytes: header values as latin1, or UTF-8 where a character is beyond latin1. */
function serialize(req: FuzzRequest, host: string): Buffer {
  // eslint-disable-next-line no-control-regex
  const bytes = (text: string) => (/[^\x00-\xff]/.test(text) ? Buffer.from(text) : Buffer.from(text, 'latin1'));
  const lines = [`${req.method} ${req.path} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(req.headers)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
  if (req.body && !Object.keys(req.headers).some((h) => h.toLowerCase() === 'content-length')) lines.push(`Content-Length: ${req.body.length}`);
  return Buffer.concat([bytes(lines.join('\r\n') + '\r\n\r\n'), req.body ?? Buffer.alloc(0)]);
}

async function deliver(server: ServerProcess, req: FuzzRequest, timeoutMs: number): Promise<Outcome> {
  if (req.raw) return sendRaw(server.port, req.raw);
  if (Object.values(req.headers).flat().some((v) => UNSENDABLE.test(v))) return sendRaw(server.port, serialize(req, `127.0.0.1:${server.port}`), 5000);
  const res = await send(server.url, { method: req.method, path: req.path, headers: req.headers, body: req.body, chunked: req.chunked, timeoutMs });
  return 'error' in res ? { error: res.error } : { status: res.status, answer: res };
}

/** A short, printable account of a request, enough to send it again by hand. */
export function describe(req: FuzzRequest): string {
  const show = (b: Buffer) => {
    const text = b.toString('latin1');
    const cut = text.length > 300 ? `${text.slice(0, 300)}… (${b.length} bytes)` : text;
    return JSON.stringify(cut);
  };
  if (req.raw) return `#${req.n} ${req.label}: raw bytes ${show(req.raw)}`;
  const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${JSON.stringify(v).slice(0, 120)}`).join('; ');
  return `#${req.n} ${req.op} ${req.label}: ${req.method} ${JSON.stringify(req.path.length > 400 ? `${req.path.slice(0, 400)}…` : req.path)}` +
    `${headers ? ` [${headers}]` : ''}${req.body ? ` body ${show(req.body)}` : ''}${req.chunked ? ' (chunked)' : ''}`;
}

function describeAnswer(o: Outcome): string {
  if (o.error) return `no answer: ${o.error}`;
  const more = o.rawStatuses && o.rawStatuses.length > 1 ? ` (then ${o.rawStatuses.slice(1, 6).join(',')}…)` : '';
  if (!o.answer) return `status ${o.status}${more}`;
  const body = o.answer.body.toString();
  return `${o.status} ${o.answer.headers['content-type'] ?? '(no content-type)'} ${JSON.stringify(body.length > 400 ? `${body.slice(0, 400)}…` : body)}${more}`;
}

const LEAK = /"devDependencies"|root:x?:0:0:|\[boot loader\]|"allowScripts"/;

/** What is wrong with an outcome, if anything. */
function judge(req: FuzzRequest, o: Outcome): string[] {
  const wrong: string[] = [];
  if (o.error) {
    if (!req.mayGoUnanswered) wrong.push('no answer');
    return wrong;
  }
  const statuses = o.rawStatuses ?? [o.status!];
  if (statuses.some((s) => s >= 500)) wrong.push(`status ${statuses.find((s) => s >= 500)}`);
  const ok = o.status! >= 200 && o.status! < 300;
  if (ok && req.badCredential) {
    wrong.push(`answered ${o.status} to ${req.method} without a valid credential`);
  }
  if (ok && o.answer && req.traversal && LEAK.test(o.answer.body.toString('latin1'))) wrong.push('a traversal read a file');
  return wrong;
}

// ---------------------------------------------------------------------------------------------------------
// Set-up and run.

async function setup(server: ServerProcess): Promise<Context> {
  const base = Date.parse(`${formatShanghai(new Date()).slice(0, 10)}T00:00:00+08:00`);
  const at = (hours: number) => formatShanghai(new Date(base + hours * 3_600_000));
  const ok = <T>(res: Awaited<ReturnType<typeof sendJson>>, what: string): T => {
    if ('error' in res || res.status >= 300) throw new Error(`fuzz set-up: ${what} failed: ${'error' in res ? res.error : `${res.status} ${res.body}`}`);
    return res.json as T;
  };
  const resources = ok<{ items: { id: string }[] }>(await sendJson(server.url, 'GET', '/v1/resources?limit=30'), 'listing resources');
  const areas = ok<{ items: { id: string }[] }>(await sendJson(server.url, 'GET', '/v1/areas'), 'listing areas');
  const taxonomy = ok<{ terms: { id: string; aliases: string[] }[] }>(await sendJson(server.url, 'GET', '/v1/taxonomy'), 'reading the taxonomy');
  const slotResource = resources.items[0].id;
  const slots = ok<{ items: { id: number }[] }>(await sendJson(server.url, 'POST', `/v1/resources/${slotResource}/slots`, {
    slots: [0, 1, 2].map((k) => ({ start: at(24 * 3 + 2 * k), end: at(24 * 3 + 2 * k + 1), capacity: { individual: 40, group: 200 } })),
  }, adminHeaders()), 'creating slots');
  const bookings: Context['bookings'] = [];
  for (let k = 0; k < 3; k++) {
    const made = ok<{ id: string; token: string }>(await sendJson(server.url, 'POST', '/v1/bookings', {
      slot_id: slots.items[k].id, kind: 'individual', party_size: 1, contact: { name: '测试', phone: `1390000000${k}` },
    }, { 'Idempotency-Key': `fuzz-setup-${k}` }), 'booking');
    bookings.push({ id: made.id, token: made.token });
  }
  const cursors: Context['cursors'] = [];
  for (const query of [[['near', '116.40,39.91'], ['limit', '2']], [['limit', '3']], [['near', '116.3,39.95'], ['radius_km', '30'], ['tag', 'ti'], ['limit', '2']], [['q', pct('公园')], ['limit', '1']]] as [string, string][][]) {
    const page = await sendJson(server.url, 'GET', `/v1/resources?${query.map(([k, v]) => `${k}=${v}`).join('&')}`);
    if (!('error' in page) && page.json?.next_cursor) cursors.push({ query, cursor: page.json.next_cursor });
  }
  const tags = taxonomy.terms.flatMap((t) => [t.id, ...t.aliases.slice(0, 1)]).filter((_t, i) => i % 3 === 0).slice(0, 40);
  return { cursors, resourceIds: resources.items.map((r) => r.id), areaIds: areas.items.map((a) => a.id), slotIds: slots.items.map((s) => s.id), slotResource, bookings, tags, at };
}

/** Runs the fuzzer against a fresh server; never throws for what the server answers (only for a failed set-up). */
export async function runFuzz(options: FuzzOptions = {}): Promise<FuzzReport> {
  const o = { ...FUZZ_DEFAULTS, ...options };
  const log = options.log ?? (() => {});
  const tmp = tempDir('fuzz');
  const server = await startServer({ dbPath: `${tmp.dir}/fuzz.db`, env: { EDUMAP_IMPORT_MAX_BYTES: String(IMPORT_MAX_BYTES) } });
  try {
    const spec = await send(server.url, { path: '/openapi.yaml' });
    if ('error' in spec || spec.status !== 200) throw new Error('fuzz: GET /openapi.yaml failed');
    const ops = operationsOf(spec.body.toString());
    const ctx = await setup(server);
    const host = `127.0.0.1:${server.port}`;
    const catalogueSize = catalogue(ops).length;
    log(`fuzz: ${ops.length} operations from openapi.yaml; ${Math.min(catalogueSize, o.requests)} catalogue requests, then random ones; server pid ${server.pid}`);

    const byStatus: Record<string, number> = {};
    const violations: Violation[] = [];
    let violationCount = 0;
    let serverErrors = 0;
    let connectionErrors = 0;
    let nonProblem = 0;
    let nonProblemParser = 0;
    const nonProblemSamples: string[] = [];
    let earlyResets = 0;
    const earlyResetSamples: string[] = [];
    const started = performance.now();
    const deadline = Date.now() + o.maxSeconds * 1000;
    let next = 0;
    let sent = 0;
    const worker = async () => {
      while (next < o.requests && Date.now() < deadline) {
        const n = next++;
        const req = generate(n, o.seed, ops, ctx, host);
        let outcome = await deliver(server, req, o.timeoutMs);
        sent++;
        if (outcome.error && (req.body?.length ?? 0) > EARLY_BODY_BYTES) {
          // Answered before the body was read, with Connection: close: Node closes without draining the body and
          // the reset can destroy the answer in transit. Sent again with a short body, the answer must come.
          const again = await deliver(server, { ...req, body: req.body!.subarray(0, 1024), chunked: false }, o.timeoutMs);
          if (!again.error && again.status! < 500) {
            earlyResets++;
            if (earlyResetSamples.length < 5) earlyResetSamples.push(`${describe(req)} → ${outcome.error}; with 1 KB of the body: ${again.status}`);
            outcome = { ...again, early: outcome.error };
          }
        }
        const key = outcome.error ? 'no answer' : `${outcome.status}${outcome.early ? ' (early, reset)' : ''}`;
        byStatus[key] = (byStatus[key] ?? 0) + 1;
        if (outcome.error && !req.mayGoUnanswered) connectionErrors++;
        if ((outcome.rawStatuses ?? [outcome.status ?? 0]).some((s) => s >= 500)) serverErrors++;
        const status = outcome.status ?? 0;
        if (status >= 400 && status < 500 && req.method !== 'HEAD') {
          const fromApp = Boolean(outcome.answer?.headers['x-request-id']);
          const problem = outcome.answer ? isProblem(outcome.answer) : false;
          if (!problem) {
            nonProblem++;
            if (!fromApp) nonProblemParser++;
            if (nonProblemSamples.length < 20) nonProblemSamples.push(`${describe(req)} → ${describeAnswer(outcome)}${fromApp ? '' : ' (Node\'s HTTP parser, before the app)'}`);
          }
        }
        for (const what of judge(req, outcome)) {
          violationCount++;
          if (violations.length < 50) violations.push({ n, what, request: describe(req), answer: describeAnswer(outcome) });
        }
        if (sent % 1000 === 0) log(`  ${sent} sent, ${((performance.now() - started) / 1000).toFixed(0)} s, ${violationCount} violations`);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;

    await new Promise((r) => setTimeout(r, 200));
    const alive = server.alive();
    const ready = alive ? await send(server.url, { path: '/readyz', timeoutMs: 10_000 }) : { error: 'server not running' };
    const readyz = 'error' in ready ? ready.error : ready.status;
    const errorLogLines = server.output().split('\n').filter((l) => /"level":(5\d|60)/.test(l) || /^\s*(Error|TypeError|RangeError)\b/.test(l)).slice(0, 50);
    return {
      seed: o.seed, operations: ops.length, planned: o.requests, sent, catalogue: Math.min(catalogueSize, o.requests), seconds, byStatus,
      serverErrors, connectionErrors, earlyResets, earlyResetSamples, nonProblem4xx: nonProblem, nonProblem4xxFromParser: nonProblemParser, nonProblemSamples,
      violations, violationCount, errorLogLines, alive, readyz,
      ok: violationCount === 0 && serverErrors === 0 && connectionErrors === 0 && alive && readyz === 200 && errorLogLines.length === 0,
    };
  } finally {
    await server.stop();
    tmp.remove();
  }
}

/** Sends request `n` of `seed` alone to a fresh server and prints it with the whole answer. */
async function replay(n: number, seed: number): Promise<number> {
  const tmp = tempDir('fuzz');
  const server = await startServer({ dbPath: `${tmp.dir}/fuzz.db`, env: { EDUMAP_IMPORT_MAX_BYTES: String(IMPORT_MAX_BYTES) } });
  try {
    const spec = await send(server.url, { path: '/openapi.yaml' });
    if ('error' in spec) throw new Error(spec.error);
    const ops = operationsOf(spec.body.toString());
    const req = generate(n, seed, ops, await setup(server), `127.0.0.1:${server.port}`);
    console.log(describe(req));
    const outcome = await deliver(server, req, FUZZ_DEFAULTS.timeoutMs);
    console.log(outcome.answer ? `${outcome.status}\n${JSON.stringify(outcome.answer.headers, null, 1)}\n${outcome.answer.body.toString().slice(0, 4000)}` : describeAnswer(outcome));
    await new Promise((r) => setTimeout(r, 200));
    console.log(`server ${server.alive() ? 'alive' : 'DEAD'}; its log:\n${server.output().slice(-4000)}`);
    return judge(req, outcome).length ? 1 : 0;
  } finally {
    await server.stop();
    tmp.remove();
  }
}

/** The report as printed by `npm run fuzz`. */
export function formatFuzzReport(r: FuzzReport): string {
  const statuses = Object.entries(r.byStatus).sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s} ×${n}`).join(', ');
  const lines = [
    `fuzz: ${r.sent} requests (seed ${r.seed}; ${r.catalogue} from the catalogue) against ${r.operations} operations of openapi.yaml in ${r.seconds.toFixed(1)} s`,
    `  by status: ${statuses}`,
    `  status ≥ 500: ${r.serverErrors}`,
    `  4xx not problem+json: ${r.nonProblem4xx} (${r.nonProblem4xxFromParser} from Node's HTTP parser before the app, ${r.nonProblem4xx - r.nonProblem4xxFromParser} from the app)`,
    `  connection errors (no answer): ${r.connectionErrors}`,
    `  answers lost to a reset after an early answer to a large body (answered when repeated with 1 KB of it): ${r.earlyResets}`,
    ...r.earlyResetSamples.slice(0, 3).map((x) => `    ${x.slice(0, 400)}`),
    `  violations: ${r.violationCount}`,
    `  server: ${r.alive ? 'alive' : 'DEAD'}, /readyz ${r.readyz}, ${r.errorLogLines.length} error lines in its log`,
  ];
  for (const v of r.violations) lines.push(`  ✗ ${v.what}: ${v.request}\n      → ${v.answer}\n      reproduce: npm run fuzz -- --seed ${r.seed} --replay ${v.n}`);
  if (r.nonProblemSamples.length) lines.push('  4xx not problem+json, samples:', ...r.nonProblemSamples.slice(0, 8).map((s) => `    ${s}`));
  if (r.errorLogLines.length) lines.push('  server error log:', ...r.errorLogLines.map((l) => `    ${l.slice(0, 600)}`));
  lines.push(`  verdict: ${r.ok ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}

const USAGE = `usage: npm run fuzz -- [--requests N] [--seed S] [--concurrency C] [--replay K]
  --requests N     requests to send (default ${FUZZ_DEFAULTS.requests})
  --seed S         PRNG seed (default ${FUZZ_DEFAULTS.seed}); the same seed sends the same requests
  --concurrency C  requests in flight (default ${FUZZ_DEFAULTS.concurrency})
  --replay K       send request K of the seed alone and print the whole answer
Exit 0: no violation; 1: a violation (≥ 500, no answer, bypass, leak, server error or death); 2: usage.`;

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let requests: number;
  let seed: number;
  let concurrency: number;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: {
      requests: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' }, replay: { type: 'string' },
      help: { type: 'boolean' },
    } }));
    requests = intFlag(values, 'requests', FUZZ_DEFAULTS.requests, 1, 10_000_000);
    seed = intFlag(values, 'seed', FUZZ_DEFAULTS.seed, -(2 ** 31), 2 ** 31);
    concurrency = intFlag(values, 'concurrency', FUZZ_DEFAULTS.concurrency, 1, 256);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.replay !== undefined) return replay(intFlag(values, 'replay', 0, 0, 10_000_000), seed);
  const report = await runFuzz({ requests, seed, concurrency, log: (l) => console.log(l) });
  console.log(formatFuzzReport(report));
  return report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    console.error(e instanceof UsageError ? e.message : e);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  });
}
