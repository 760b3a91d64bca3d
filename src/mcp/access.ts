import { AppError } from '../errors.js';
import type { Config } from '../config.js';
import type { KeyRing } from '../access/keys.js';

/** How a caller reached the MCP server: the local user over stdio, or an HTTP request with its bearer token (if any). */
export type Via = { stdio: true } | { stdio?: false; bearer?: string };

/**
 * Whether a caller may book through MCP under `EDUMAP_MCP_BOOKING`: undefined when it may, else the error
 * its booking tools answer. `open`: anyone (as `POST /v1/bookings`). `key`: over HTTP, a request carrying
 * `Authorization: Bearer <key>` of a key that is valid now (any role); over stdio the local user, who
 * started the server with the database's keys at hand, is trusted. `off`: nobody.
 */
export async function bookingRefusal(mode: Config['mcpBooking'], via: Via, keys: Pick<KeyRing, 'principal'>): Promise<AppError | undefined> {
  if (mode === 'open') return undefined;
  if (mode === 'off') return new AppError('forbidden', 'booking through MCP is turned off on this server (EDUMAP_MCP_BOOKING=off); the family can book in an app or on the map page');
  if (via.stdio) return undefined;
  if (!via.bearer) {
    return new AppError('unauthorized', 'booking through MCP needs a key on this server: send Authorization: Bearer <key> with the requests to /mcp (ask the operator for one)');
  }
  if (!(await keys.principal(via.bearer))) return new AppError('forbidden', 'the key sent to /mcp is not valid: unknown or revoked');
  return undefined;
}
