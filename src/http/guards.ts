import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import cors from 'cors';
import { AppError } from '../errors.js';
import type { Config } from '../config.js';
import { sendProblem } from './problem.js';

/**
 * Who a request counts against: the bearer token's hash when it carries one (an app's or an operator's
 * key, a booking token), else the client's IP. Tokens are hashed so no secret sits in the limiter's memory.
 */
export function clientKey(req: Request): string {
  const match = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
  if (match) return `key:${createHash('sha256').update(match[1]).digest('base64url').slice(0, 22)}`;
  // IPv6 clients are counted per /56 network, not per address (one subscriber holds many addresses).
  return `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`;
}

/**
 * A per-client rate limit answering 429 problem+json with the standard `RateLimit-Policy`/`RateLimit`
 * headers (IETF draft 8) and `Retry-After`. Counts are per process; with WORKERS=N each worker counts alone.
 */
export function limitPerMinute(perMinute: number, name: string): RequestHandler {
  if (perMinute <= 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    identifier: name,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: clientKey,
    handler: (_req, res, _next, options) => {
      sendProblem(res, new AppError('rate_limited', `more than ${options.limit} ${name} requests a minute from this client; retry after the Retry-After seconds`));
    },
  });
}

/** Security headers (helmet) with a content policy that lets the bundled map page run, and nothing else. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Leaflet positions markers and tiles with style attributes.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
  });
}

/** CORS for the configured origins; none configured means same-origin only (no CORS headers at all). */
export function corsFor(config: Pick<Config, 'corsOrigins'>): RequestHandler {
  if (!config.corsOrigins.length) return (_req, _res, next) => next();
  return cors({
    origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Location'],
    maxAge: 600,
  });
}
