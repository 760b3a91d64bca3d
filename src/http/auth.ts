import type { Request } from 'express';
import { AppError } from '../errors.js';
import type { KeyRing, Principal } from '../access/keys.js';

/** The bearer token of a request, or undefined. */
export function bearer(req: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Who sends a request that writes: no bearer token is a 401; a token that is no key (unknown, revoked) a
 * 403. What the key may do is the domain's to check (`access/scope.ts`), with the principal passed in.
 */
export function authenticator(keys: KeyRing): (req: Request) => Promise<Principal> {
  return async (req) => {
    const token = bearer(req);
    if (!token) throw new AppError('unauthorized', 'send Authorization: Bearer <key> (an operator, district or venue key)');
    const principal = await keys.principal(token);
    if (!principal) throw new AppError('forbidden', 'this key is not valid: unknown or revoked');
    return principal;
  };
}
