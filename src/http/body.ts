import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors.js';

/** A JSON body parser for one route: another media type is a 415, a body over `limit` a 413. */
export function jsonBody(limit: string) {
  const parse = express.json({ limit, strict: true });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.is('application/json')) {
      next(new AppError('unsupported_media_type', 'send the body as JSON with Content-Type: application/json'));
      return;
    }
    parse(req, res, next);
  };
}

/**
 * A JSON Merge Patch body (RFC 7396, `application/merge-patch+json`; plain `application/json` is taken
 * too): another media type is a 415, a body over `limit` a 413, a body that is not a JSON object a 400.
 */
export function mergePatchBody(limit: string) {
  const parse = express.json({ limit, strict: true, type: ['application/merge-patch+json', 'application/json'] });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.is('application/merge-patch+json') && !req.is('application/json')) {
      next(new AppError('unsupported_media_type', 'send the patch as JSON Merge Patch with Content-Type: application/merge-patch+json'));
      return;
    }
    parse(req, res, next);
  };
}
