/**
 * Shared machinery of the robustness suites (`fuzz.ts`, `soak.ts`, `fault.ts`): a real server process on a
 * free port of 127.0.0.1 (started, waited for, killed, restarted, its memory read), an HTTP client that
 * sends bytes exactly as given and never throws on a status, and small helpers for their command lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../src/config.js';

/** The admin key of the suites when the environment names none. */
const DEFAULT_ADMIN_KEY = 'robustness-suite-admin-key-0123456789';

/** The admin key the suites send, and their servers accept: the first of EDUMAP_ADMIN_KEYS, else a fixed one. */
export function adminKey(env: NodeJS.ProcessEnv = process.env): string {
  return (env.EDUMAP_ADMIN_KEYS ?? '').split(',').map((k) => k.trim()).find((k) => k.length >= 16) ?? DEFAULT_ADMIN_KEY;
}

/** The admin Authorization header. */
export const adminHeaders = () => ({ Authorization: `Bearer ${adminKey()}` });

/** Test secrets (EDUMAP_HASH_KEY, EDUMAP_DATA_KEY): servers refuse to start without them. */
const HASH_KEY = 'robustness-suite-hash-key-0123456789abcdef';
const DATA_KEY = 'a1'.repeat(32);

/** Rate limits off (0 = no limit), so that the suites reach the handlers rather than the limiter. */
export const NO_RATE_LIMITS = { EDUMAP_RATE_SEARCH_PER_MIN: '0', EDUMAP_RATE_BOOKING_PER_MIN: '0' };

/** How much of a server's stdout and stderr is kept, in characters (the tail). */
const OUTPUT_KEEP_CHARS = 256 * 1024;

/** A port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Options of `startServer`. */
export interface ServerOptions {
  /** The SQLite file (EDUMAP_DB); an empty one is seeded with the bundled data on the first start. */
  dbPath: string;
  /** Listen here; default a free port (retried if another process takes it first). */
  port?: number;
  /** Added to the environment (after the defaults, so they may override LOG_LEVEL, the limits …). */
  env?: Record<string, string>;
  /** Longest wait for `/readyz` to answer 200, in ms. */
  readyTimeoutMs?: number;
}

/** The exit of a process: its code, or the signal that ended it. */
export interface Exit { code: number | null; signal: NodeJS.Signals | null }

/** A server process started by `startServer`. */
export class ServerProcess {
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  private out = '';

  constructor(readonly child: ChildProcess, readonly port: number, readonly options: ServerOptions) {
    const keep = (b: Buffer) => {
      this.out += b.toString();
      if (this.out.length > OUTPUT_KEEP_CHARS * 2) this.out = this.out.slice(-OUTPUT_KEEP_CHARS);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** True while the process runs. */
  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The tail of everything the process wrote to stdout and stderr. */
  output(): string {
    return this.out.slice(-OUTPUT_KEEP_CHARS);
  }

  /** Resident memory now, in kB, with its anonymous and file-backed parts; undefined once it has exited. */
  memory(): Memory | undefined {
    return this.alive() ? readMemory(this.pid) : undefined;
  }

  /** Sends `signal` (default SIGKILL: no shutdown code runs) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.alive()) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
  async stop(graceMs = 15_000): Promise<Exit> {
    if (!this.alive()) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/**
 * Starts `node --import tsx src/server.ts` on 127.0.0.1 with LOG_LEVEL=warn, the suites' admin key and no
 * rate limits, and waits until `/readyz` answers 200. Throws with the process's output when it exits or
 * does not become ready in time.
 */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn',
        EDUMAP_DB: options.dbPath, EDUMAP_ADMIN_KEYS: adminKey(), EDUMAP_HASH_KEY: HASH_KEY, EDUMAP_DATA_KEY: DATA_KEY, ...NO_RATE_LIMITS, ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child, port, options);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && server.alive()) {
      const res = await send(server.url, { path: '/readyz', timeoutMs: 2000 });
      if ('status' in res && res.status === 200) return server;
      await sleep(50);
    }
    await server.kill();
    if (options.port === undefined && attempt < 2 && /EADDRINUSE/.test(server.output())) continue;
    throw new Error(`the server on port ${port} did not become ready in ${timeoutMs} ms:\n${server.output().slice(-4000)}`);
  }
}

/** Resident memory of a process, in kB (Linux `/proc/<pid>/status`). */
export interface Memory { rssKb: number; anonKb: number; fileKb: number }

/** Reads VmRSS, RssAnon and RssFile of a process; undefined when it has gone (or off Linux). */
export function readMemory(pid: number): Memory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), anonKb: kb('RssAnon'), fileKb: kb('RssFile') };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP.

/**
 * One request. `path` is sent byte for byte as latin1 (so `\xff` is the byte 0xFF, not `%C3%BF`), which lets a
 * suite put invalid UTF-8 into a request line; header values likewise.
 */
export interface Request {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
  /** Abort after this many ms without an answer (default 30 s). */
  timeoutMs?: number;
  agent?: http.Agent | false;
}

/** An answer: status, headers (lower-case names) and the whole body. */
export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer; ms: number }

/** A request that got no (complete) answer: refused, reset, timed out. */
export interface Failure { error: string; ms: number }

/** Sends a request; resolves with the answer or with the transport error, never rejects. */
export function send(base: string, req: Request): Promise<Answer | Failure> {
  const url = new URL(base);
  const started = performance.now();
  const ms = () => performance.now() - started;
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: Answer | Failure) => {
      if (!settled) resolve(value);
      settled = true;
    };
    const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
    const headers: Record<string, string | string[] | number> = { ...req.headers };
    if (body && !req.chunked && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = body.length;
    let out: http.ClientRequest;
    try {
      out = http.request({
        host: url.hostname, port: url.port, method: req.method ?? 'GET', path: req.path, headers,
        agent: req.agent ?? false, timeout: req.timeoutMs ?? 30_000,
      });
    } catch (e) {
      done({ error: `client refused to send: ${(e as Error).message}`, ms: ms() });
      return;
    }
    out.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), ms: ms() }));
      res.on('error', (e) => done({ error: `answer cut: ${(e as NodeJS.ErrnoException).code ?? e.message} after status ${res.statusCode}`, ms: ms() }));
      res.on('aborted', () => done({ error: `answer aborted after status ${res.statusCode}`, ms: ms() }));
    });
    out.on('timeout', () => {
      out.destroy(new Error('timeout'));
    });
    out.on('error', (e) => done({ error: (e as NodeJS.ErrnoException).code ?? e.message, ms: ms() }));
    // A server may answer (413, 401 …) before it has read the whole body; the answer then wins over EPIPE.
    if (body && req.chunked) {
      const step = 64 * 1024;
      for (let at = 0; at < body.length; at += step) out.write(body.subarray(at, at + step));
      out.end();
    } else out.end(body);
  });
}

/** Sends a request whose body is JSON; parses a JSON answer (`json` is undefined when it is not JSON). */
export async function sendJson(base: string, method: string, path: string, value?: unknown,
  headers: Record<string, string> = {}, agent?: http.Agent): Promise<(Answer & { json: any }) | Failure> {
  const res = await send(base, {
    method, path, agent,
    headers: value === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: value === undefined ? undefined : JSON.stringify(value),
  });
  if ('error' in res) return res;
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString());
  } catch {
    json = undefined;
  }
  return { ...res, json };
}

/** True for an answer in RFC 9457 form (`application/problem+json` with type, title and status). */
export function isProblem(res: Answer): boolean {
  if (!/^application\/problem\+json\b/.test(String(res.headers['content-type'] ?? ''))) return false;
  try {
    const doc = JSON.parse(res.body.toString());
    return typeof doc.type === 'string' && typeof doc.title === 'string' && doc.status === res.status;
  } catch {
    return false;
  }
}


// ---------------------------------------------------------------------------------------------------------
// Small helpers.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `edumap-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The p-quantile (0–1) of ascending `sorted` values, nearest rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** A whole number from a command-line flag, or a usage error naming it. */
export function intFlag(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^-?\d+$/.test(String(raw)) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

/** A bad command line (exit 2). */
export class UsageError extends Error {}

/** `MB` with one decimal, from kB. */
export const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

/** Latency percentiles in µs, and how many samples. */
export interface Figure { p50: number; p99: number; n: number }

/** How many samples, their median, 99th and 99.9th percentiles and maximum, in their own unit to 0.1. */
export interface Quantiles { n: number; p50: number; p99: number; p999: number; max: number }

/** The quantiles of `samples` (nearest rank; NaN when there are none). */
export function quantiles(samples: ArrayLike<number>): Quantiles {
  const sorted = Float64Array.from(samples).sort();
  const round = (x: number) => Math.round(x * 10) / 10;
  const at = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) : NaN);
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: sorted.length ? round(sorted[sorted.length - 1]) : NaN };
}

/** p50/p99 in µs of `fn` over the inputs, after a warm-up (an async `fn` is timed until it settles). */
export async function measure<T>(inputs: T[], fn: (x: T) => unknown, warmup = Math.min(200, inputs.length)): Promise<Figure> {
  for (let k = 0; k < warmup; k++) await fn(inputs[k]);
  const times = new Float64Array(inputs.length);
  for (let k = 0; k < inputs.length; k++) {
    const t = process.hrtime.bigint();
    const out = fn(inputs[k]);
    if (out instanceof Promise) await out;
    times[k] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const { p50, p99 } = quantiles(times);
  return { p50, p99, n: inputs.length };
}
