import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema, ErrorCode, ListResourcesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Service } from '../service.js';
import { areaList, taxonomyJson } from '../engine/catalog.js';
import { known, problemDocument } from '../http/problem.js';
import { argumentsOf, type Catalogue } from './catalogue.js';
import { INSTRUCTIONS } from './descriptions.js';
import type { ToolShape } from './schema.js';
import type { BudgetName, RunContext, ToolSpec } from './tools.js';

/** Who calls, as the transport tells: the rate-limit bucket, the visitor-conflict client, whether it may book. */
export interface Caller {
  /** The bucket of the REST budgets: `ClientKeys.of` of the HTTP request (`key:…` or `ip:…`), `stdio` over stdio. */
  bucket: string;
  /** The client of the visitor-conflict budget: the address, as for `POST /v1/bookings` (`stdio` over stdio). */
  address: string;
  /** Why this caller may not book (see `bookingRefusal`); undefined when it may. */
  refusal?: AppError;
}

/** The per-client limits a tool call spends: the REST routes' budgets and conflict budget (`src/http/guards.ts`). */
export interface Limits {
  budgets: Record<BudgetName, { take(bucket: string): Promise<void> }>;
  conflicts: RunContext['conflicts'];
}

/** The MCP resources: read-only documents an agent may load as context. */
const RESOURCES = [
  {
    uri: 'edumap://taxonomy', name: 'taxonomy', title: '分类体系 Taxonomy', mimeType: 'application/json',
    description: '五育（德智体美劳）及子类、主题、场景、学段、资源类型，与 GET /v1/taxonomy 相同。The taxonomy, as GET /v1/taxonomy answers it.',
    read: (svc: Service) => taxonomyJson(svc.tax),
  },
  {
    uri: 'edumap://areas', name: 'areas', title: '北京各区与学区 Districts and school districts', mimeType: 'application/json',
    description: '北京 16 个区（adcode，可作 search_resources 的 area）及已导入的学区，与 GET /v1/areas 相同。The districts and school districts, as GET /v1/areas answers them.',
    read: (svc: Service) => JSON.stringify(areaList(svc.holder.current)),
  },
] as const;

/**
 * An MCP server over the service: the catalogue's tools, the resources, and every error as a tool error
 * carrying the problem document. One per connection (stdio) or per HTTP request (stateless Streamable HTTP).
 * Booking tools are hidden when booking through MCP is off for everyone.
 */
export function createMcpServer(svc: Service, catalogue: Catalogue, limits: Limits, caller: Caller): Server {
  const server = new Server(catalogue.info, { capabilities: { tools: { listChanged: false }, resources: { listChanged: false } }, instructions: INSTRUCTIONS });
  const offered = [...catalogue.tools.values()].filter((t) => !(t.spec.books && svc.config.mcpBooking === 'off'));
  const byName = new Map(offered.map((t) => [t.spec.name as string, t]));
  // A message that is no JSON-RPC (a stray line on stdin, say): the SDK answers or drops it; the log says so.
  server.onerror = (err) => svc.log.warn({ err }, 'MCP protocol error');

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: offered.map((t) => t.listed) }));

  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = byName.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `no tool '${request.params.name}'; see tools/list`);
    const started = process.hrtime.bigint();
    const result = await call(svc, tool, request.params.arguments, limits, caller);
    const problem = result.isError ? (result.structuredContent as { status?: number }) : undefined;
    svc.log.info({ tool: tool.spec.name, status: problem?.status ?? 200, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'tool call');
    return result;
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: RESOURCES.map(({ read: _read, ...r }) => r),
  }));

  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    const resource = RESOURCES.find((r) => r.uri === request.params.uri);
    // -32002: the MCP specification's "resource not found".
    if (!resource) throw new McpError(-32002, `no resource '${request.params.uri}'; see resources/list`, { uri: request.params.uri });
    return { contents: [{ uri: resource.uri, mimeType: resource.mimeType, text: resource.read(svc) }] };
  });

  return server;
}

/** One tool call: the caller's right to book, its budget, the contract's validation, the domain call, the answer. */
async function call(svc: Service, tool: { spec: ToolSpec; shape: ToolShape }, args: Record<string, unknown> | undefined,
  limits: Limits, caller: Caller): Promise<CallToolResult> {
  const { spec, shape } = tool;
  try {
    if (!svc.holder.ready) throw new AppError('not_ready', 'the index is still being built; retry shortly');
    if (spec.books && caller.refusal) throw caller.refusal;
    if (spec.budget) await limits.budgets[spec.budget].take(caller.bucket);
    const input = argumentsOf(svc.contract, spec, shape, args);
    const { answer, meta } = await spec.run(svc, input, { conflicts: limits.conflicts, client: caller.address });
    return {
      content: [{ type: 'text', text: spec.summary(answer) }, { type: 'text', text: JSON.stringify(answer) }],
      structuredContent: answer,
      ...(meta ? { _meta: meta } : {}),
    };
  } catch (e) {
    return toolError(e, svc.log, spec.name);
  }
}

/**
 * An error as an MCP tool error (`isError: true`) with the problem document (`type`, `title`, `status`,
 * `detail`, field `errors`, extras such as `alternatives`) as structured content and as text. What the
 * catalogue does not know is logged and answered as a generic internal error, as the REST handler does.
 */
export function toolError(e: unknown, log: Logger, tool: string): CallToolResult {
  let err = known(e);
  if (!err) {
    log.error({ err: e, tool }, 'unhandled error in a tool');
    err = new AppError('internal', 'an unexpected error occurred; it has been logged');
  } else if (err.status >= 500) log.warn({ err: err.cause ?? err, code: err.code, tool }, 'tool answered 5xx');
  const problem = problemDocument(err);
  return {
    isError: true,
    // The detail of a validation error lists its fields already (`invalidFields`).
    content: [{ type: 'text', text: `${err.title}: ${err.message}` }, { type: 'text', text: JSON.stringify(problem) }],
    structuredContent: problem,
  };
}
