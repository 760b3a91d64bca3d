import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';

/** Sends an AppError as RFC 9457 problem+json. */
export function sendProblem(res: Response, err: AppError): void {
  if (err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="edumap"');
  res.status(err.status).type('application/problem+json').send(JSON.stringify({
    type: `https://edumap.dev/problems/${err.code}`,
    title: err.title,
    status: err.status,
    detail: err.message,
    ...(err.errors ? { errors: err.errors } : {}),
    ...(err.extra ?? {}),
  }));
}

/** Maps errors thrown by body parsers (which carry `status`/`type`) onto the catalogue. */
function fromExpress(err: { status?: number; type?: string; message?: string }): AppError | undefined {
  if (err.type === 'entity.too.large') return new AppError('payload_too_large', 'the request body is larger than allowed');
  if (err.type === 'entity.parse.failed') {
    return new AppError('invalid_request', 'the body is not valid JSON', [{ path: 'body', message: 'is not valid JSON' }]);
  }
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
    return new AppError('unsupported_media_type', err.message);
  }
  if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) return new AppError('invalid_request', err.message);
  return undefined;
}

/** The one error handler: known errors answered as they are, anything else logged and answered as a bare 500. */
export function errorHandler(log: Logger) {
  // Four parameters: express recognises an error handler by its arity.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const known = err instanceof AppError ? err : fromExpress((err ?? {}) as { status?: number; type?: string });
    if (res.headersSent) {
      log.error({ err, url: req.originalUrl }, 'error after the answer started');
      res.destroy();
      return;
    }
    if (known) {
      sendProblem(res, known);
      return;
    }
    log.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error');
    sendProblem(res, new AppError('internal', 'an unexpected error occurred; it has been logged'));
  };
}
