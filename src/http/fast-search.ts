import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import proxyaddr from 'proxy-addr';
import { isExport, type Answer, type SearchRequest } from '../engine/query.js';
import type { Logger } from '../log.js';
import type { Service } from '../service.js';
import { addressKeyOf, type Budget, type Charged } from './guards.js';
import type { Metrics } from './metrics.js';
import { logRequest, requestId } from './request-log.js';

/** What the fast search needs besides the service: the app's metrics, search budget, headers and proxy trust. */
export interface FastSearchParts {
  metrics: Metrics;
  budget: Budget;
  log: Logger;
  /** The security headers every answer carries (`securityHeaderList`). */
  headers: readonly (readonly [string, string])[];
  /** Express's compiled `trust proxy` (`app.get('trust proxy fn')`), so that a client's address is express's `req.ip`. */
  trust: (address: string, hop: number) => boolean;
}

const ROUTE = '/v1/resources';

/**
 * `GET /v1/resources` as the hot path answers it: the search every app, family and assistant sends,
 * answered on Node's request and response without express — whose per-request routing, prototype swaps
 * and `res.send` cost more than the search itself (measured by hand on this 2-core machine: express's
 * hello-world 11–12k req/s, Node's 58k; `npm run bench:http` prints the search's rate beside a bare
 * express server's). The answer is express's byte for byte: the same request id, request log
 * line, metrics, security and rate-limit headers, and the same body (`queries.search`).
 *
 * Only the plain case is taken: a GET of exactly that path, a valid query that is no export, no bearer
 * token, no CORS to answer, the index ready, the budget not spent, the search answered. Anything else —
 * and any error — is handed to express (`fallback`) untouched, which answers it as it answers every
 * request; a request already counted against the budget is not counted again (`Budget.remember`).
 * Returns false when the request is not taken at all (the caller hands it on).
 */
export function fastSearch(deps: Service, parts: FastSearchParts): (req: IncomingMessage, res: ServerResponse, fallback: () => void) => boolean {
  const { contract, queries, holder, config } = deps;
  const { metrics, budget, headers, trust, log } = parts;
  const cors = config.corsOrigins.length > 0;
  return (req, res, fallback) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (req.method !== 'GET' || (q < 0 ? url : url.slice(0, q)) !== ROUTE || !holder.ready
      || req.headers.authorization !== undefined || (cors && req.headers.origin !== undefined)) return false;
    let params: SearchRequest & { encoding?: string };
    try {
      params = contract.input('searchResources', { query: q < 0 ? {} : parseQuery(url.slice(q + 1)), params: {} }).query as typeof params;
    } catch {
      return false; // express answers the 400 (and counts it, as it counts every search)
    }
    if (isExport(params) || params.encoding !== undefined) return false; // streamed, or a 400: express's
    const started = process.hrtime.bigint();
    void answer(req, res, params, started).catch(() => undefined).then((done) => done || fallback());
    return true;
  };

  /** Counts, searches and answers; false (nothing written) when express is to answer instead. */
  async function answer(req: IncomingMessage, res: ServerResponse, params: SearchRequest, started: bigint): Promise<boolean> {
    const limited = budget.perMinute > 0;
    const key = limited ? addressKeyOf(proxyaddr(req, trust)) : '';
    const charged: Charged | null = limited ? { key, ...await budget.charge(key) } : null;
    let body: Answer;
    try {
      if (charged && charged.totalHits > budget.perMinute) throw new Error('over budget'); // express answers the 429
      body = await queries.search(params);
    } catch {
      if (charged) budget.remember(req, charged);
      return false;
    }
    const id = requestId(req);
    res.setHeader('X-Request-Id', id);
    for (const [name, value] of headers) res.setHeader(name, value);
    if (charged) budget.answerHeaders(res, charged);
    res.setHeader('Content-Type', `${body.type}; charset=utf-8`);
    res.setHeader('Content-Length', typeof body.body === 'string' ? Buffer.byteLength(body.body) : body.body.length);
    res.once('finish', () => {
      metrics.record('GET', ROUTE, res.statusCode, started);
      logRequest(log, id, 'GET', ROUTE, res.statusCode, started);
    });
    res.end(body.body);
    return true;
  }
}
