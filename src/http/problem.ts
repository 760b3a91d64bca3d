import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { StoreBusy, StoreUnavailable } from '../store/sql.js';
import { ZH_TITLES, zhMessage } from '../i18n/zh.js';
import { routeOf } from './request-log.js';

/** The languages problems are answered in: English, or Chinese when the client asks (`Accept-Language: zh`). */
export type Lang = 'en' | 'zh';

/** The language a request asks for: Chinese when it prefers `zh` (any region) to English. */
export function langOf(req: Request): Lang {
  return req.acceptsLanguages('en', 'zh') === 'zh' ? 'zh' : 'en';
}

/**
 * The problem+json document of an AppError. In Chinese, `title`, `detail` and each field error's `message`
 * are translated (the paths stay as they are); a detail the translation does not know keeps its English
 * after the Chinese title.
 */
export function problemDocument(err: AppError, lang: Lang = 'en'): Record<string, unknown> {
  if (lang === 'en') {
    return {
      type: `https://edumap.dev/problems/${err.code}`, title: err.title, status: err.status, detail: err.message,
      ...(err.errors ? { errors: err.errors } : {}), ...(err.extra ?? {}),
    };
  }
  const title = ZH_TITLES[err.code] ?? err.title;
  const errors = err.errors?.map((e) => ({ path: e.path, message: zhMessage(e.message) }));
  const translated = zhMessage(err.message);
  const detail = errors?.length ? errors.map((e) => `${e.path}：${e.message}`).join('；')
    : translated !== err.message ? translated : `${title}（${err.message}）`;
  return {
    type: `https://edumap.dev/problems/${err.code}`, title, status: err.status, detail,
    ...(errors ? { errors } : {}), ...(err.extra ?? {}),
  };
}

/**
 * Answers what Node's HTTP parser rejects before express sees it (bytes ≥ 0x80 in a URL, an unknown
 * method, headers over 16 KiB) with problem+json too, then closes the connection.
 */
export function answerClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: import('node:net').Socket): void {
  // As Node's own handler: answer only on a connection that has not written anything yet (not in the middle
  // of a response), then close it.
  if (!socket.writable || socket.bytesWritten > 0 || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const problem = err.code === 'HPE_HEADER_OVERFLOW'
    ? new AppError('header_too_large', 'the request headers are larger than 16 KiB')
    : new AppError('invalid_request', 'the request is not valid HTTP/1.1 (method, URL bytes or headers)');
  const body = JSON.stringify(problemDocument(problem));
  // A HEAD request's answer has no body; anything after the headers would read as a broken next response.
  const head = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(`HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`);
}

/** Sends an AppError as RFC 9457 problem+json, in the request's language. */
export function sendProblem(res: Response, err: AppError, lang: Lang = 'en'): void {
  if (err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="edumap"');
  res.setHeader('Content-Language', lang === 'zh' ? 'zh-CN' : 'en');
  res.vary('Accept-Language');
  res.status(err.status).type('application/problem+json').send(JSON.stringify(problemDocument(err, lang)));
}

/**
 * Maps what other layers throw onto the catalogue: a busy store is a 503 `busy` wherever it happens, an
 * unreachable one a 503 `not_ready`; body parsers' errors (which carry `status`/`type`) their 4xx.
 */
export function known(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof StoreBusy) return new AppError('busy', 'the database stayed locked too long; retry shortly', { cause: err });
  if (err instanceof StoreUnavailable) return new AppError('not_ready', 'the database cannot be reached; retry shortly', { cause: err });
  const e = (err ?? {}) as { status?: number; type?: string; message?: string };
  if (e.type === 'entity.too.large') return new AppError('payload_too_large', 'the request body is larger than allowed', { cause: err });
  if (e.type === 'entity.parse.failed') {
    return new AppError('invalid_request', 'the body is not valid JSON', { errors: [{ path: 'body', message: 'is not valid JSON' }], cause: err });
  }
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new AppError('unsupported_media_type', e.message, { cause: err });
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new AppError('invalid_request', e.message, { cause: err });
  return undefined;
}

/** The one error handler: known errors answered as they are, anything else logged and answered as a bare 500. */
export function errorHandler(log: Logger) {
  // Four parameters: express recognises an error handler by its arity.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const answer = known(err);
    const route = routeOf(req);
    if (res.headersSent) {
      log.error({ err, method: req.method, route }, 'error after the answer started');
      res.destroy();
      return;
    }
    if (answer) {
      if (answer.status >= 500) log.warn({ err: answer.cause ?? answer, code: answer.code, method: req.method, route }, 'answered 5xx');
      if (answer.code === 'busy' || answer.code === 'snapshot_expired') res.setHeader('Retry-After', '1');
      sendProblem(res, answer, langOf(req));
      return;
    }
    log.error({ err, method: req.method, route }, 'unhandled error');
    sendProblem(res, new AppError('internal', 'an unexpected error occurred; it has been logged'), langOf(req));
  };
}
