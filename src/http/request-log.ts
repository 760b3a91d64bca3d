import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log.js';

/** The route template a request took (`/v1/areas/:id`), never its raw path; `unmatched` when no route took it. */
export function routeOf(req: Request): string {
  return req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
}

/** A request's id: the client's `X-Request-Id` when it is a sane token, else a new UUID. */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

/** The one log line of an answered request (`started`: `process.hrtime.bigint()` when it came). */
export function logRequest(log: Logger, id: string, method: string, route: string, status: number, started: bigint): void {
  log.info({ req_id: id, method, route, status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
}

/**
 * One log line per request: method, route template (`unmatched` for a path no route took), status,
 * duration, request id. Never the raw path or query, which may carry phone or ID numbers.
 */
export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const id = requestId(req);
    res.setHeader('X-Request-Id', id);
    res.once('finish', () => logRequest(log, id, req.method, routeOf(req), res.statusCode, started));
    next();
  };
}
