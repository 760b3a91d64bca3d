import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Guards admin endpoints: no bearer token is a 401, a token that is not one of `keys` a 403.
 * Keys are compared as SHA-256 digests in constant time, so timing reveals neither key nor length.
 */
export function requireAdmin(keys: readonly string[]) {
  const digests = keys.map(digest);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return next(new AppError('unauthorized', 'send Authorization: Bearer <admin key>'));
    const given = digest(match[1]);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(given, d) || ok;
    next(ok ? undefined : new AppError('forbidden', 'this key is not an admin key'));
  };
}
