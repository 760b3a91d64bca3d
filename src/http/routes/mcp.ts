import { Router, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../../errors.js';
import { buildCatalogue } from '../../mcp/catalogue.js';
import { bookingRefusal } from '../../mcp/access.js';
import type { Caller } from '../../mcp/server.js';
import { bearer } from '../auth.js';
import { jsonBody } from '../body.js';
import { addressKey } from '../guards.js';
import type { AppDeps, HttpParts } from '../app.js';

/** Largest JSON-RPC message accepted at /mcp (a match or a booking is well under 16 KiB). */
const MCP_BODY_LIMIT = '64kb';

/**
 * The SDK's server side, imported when `/mcp` is mounted rather than with the app: it takes about 0.3 s
 * to load, which a server with `EDUMAP_MCP=off`, or one whose database fails to open, should not pay.
 */
async function loadSdk() {
  const [{ StreamableHTTPServerTransport }, { createMcpServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'), import('../../mcp/server.js'),
  ]);
  return { StreamableHTTPServerTransport, createMcpServer };
}

/**
 * `/mcp`: the MCP server over Streamable HTTP, stateless — every POST gets a fresh server and transport,
 * no session is kept, so any worker (WORKERS=N) or replica can answer any request. Answers are plain JSON
 * (no SSE stream); GET (a server-to-client stream) and DELETE (ending a session) are 405, as the transport
 * specification allows for a server without sessions. Each tool call spends the REST budget of its kind
 * for the client of this request (`ClientKeys.of`: a valid bearer credential, else the address).
 */
export function mcpRoutes(deps: AppDeps, { clients, budgets, conflicts }: HttpParts): Router {
  const router = Router();
  // Derived now, so a contract the tools cannot be derived from stops the start.
  const catalogue = buildCatalogue(deps.contract);
  const sdk = loadSdk();
  // A failed import is answered (a 500, logged) by the requests that await it, not as an unhandled rejection.
  sdk.catch(() => undefined);

  router.post('/mcp', originCheck(deps.config.corsOrigins), jsonBody(MCP_BODY_LIMIT), async (req, res) => {
    const caller: Caller = {
      bucket: await clients.of(req),
      address: addressKey(req),
      refusal: await bookingRefusal(deps.config.mcpBooking, { bearer: bearer(req) }, deps.keys),
    };
    const { StreamableHTTPServerTransport, createMcpServer } = await sdk;
    const server = createMcpServer(deps, catalogue, { budgets, conflicts }, caller);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  router.all('/mcp', (req, res) => {
    res.setHeader('Allow', 'POST');
    throw new AppError('method_not_allowed', `${req.method} is not allowed here: this MCP server is stateless (no sessions, no server-sent stream); POST JSON-RPC messages`);
  });

  return router;
}

/**
 * The transport specification's defence against DNS rebinding: a request with an `Origin` (one a browser
 * sent on behalf of a page) is refused unless that origin is one of `EDUMAP_CORS_ORIGINS` (or they are
 * `*`). A page of another site that got its name resolved to this server would otherwise reach the tools
 * from the user's browser, on a machine where edumap listens on localhost; comparing Origin with Host does
 * not help, the rebound name is in both. Assistants and SDK clients send no Origin and are not affected.
 */
function originCheck(allowed: readonly string[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (origin === undefined || allowed.includes('*') || allowed.includes(origin)) return next();
    next(new AppError('forbidden', `requests from pages of ${JSON.stringify(origin)} may not call /mcp; an operator allows an origin with EDUMAP_CORS_ORIGINS`,
      { errors: [{ path: 'header.origin', message: 'is not an allowed origin' }] }));
  };
}
