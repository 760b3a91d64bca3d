import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../config.js';
import { invalidField } from '../errors.js';
import type { Contract } from '../http/contract.js';
import { hasOperation, toolShape, type OpenApiDoc, type ToolShape } from './schema.js';
import { describe, TOOLS, type ToolInput, type ToolSpec } from './tools.js';

/** A tool as `tools/list` shows it. */
export interface ListedTool {
  name: string;
  title: string;
  description: string;
  inputSchema: ToolShape['inputSchema'];
  annotations: ToolSpec['hints'] & { title: string };
}

/** The tools this contract offers, with their derived shapes; built once at start-up. */
export interface Catalogue {
  /** The server's name and version for `initialize`. */
  info: { name: string; title: string; version: string };
  tools: Map<string, { spec: ToolSpec; shape: ToolShape; listed: ListedTool }>;
}

/**
 * Derives every tool's input schema from the contract (`openapi.yaml`). A tool whose operation the contract
 * lacks is left out; a tool whose arguments cannot be derived is an error here, at start-up.
 */
export function buildCatalogue(contract: Pick<Contract, 'doc'>, specs: readonly ToolSpec[] = TOOLS): Catalogue {
  const doc = contract.doc as OpenApiDoc;
  const tools: Catalogue['tools'] = new Map();
  for (const spec of specs) {
    if (!hasOperation(doc, spec.operationId)) continue;
    const shape = toolShape(doc, spec.operationId, { headers: spec.headers, bearer: spec.bearer });
    const listed: ListedTool = {
      name: spec.name, title: spec.title, description: describe(spec), inputSchema: shape.inputSchema,
      annotations: { title: spec.title, ...spec.hints },
    };
    tools.set(spec.name, { spec, shape, listed });
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return { info: { name: 'edumap', title: '北京教育新地图 edumap', version: pkg.version }, tools };
}

/**
 * A tool's arguments split as the REST request carries them and validated by the same contract validator
 * as the route, so bad arguments give the same field errors (`query.limit`, `path.id`, `body.contact.phone`).
 * An argument the operation does not know goes where the contract will name it (`query.x` is not a known
 * parameter, `body.x` is not a known field).
 */
export function argumentsOf(contract: Pick<Contract, 'input'>, spec: ToolSpec, shape: ToolShape, args: Record<string, unknown> = {}): ToolInput {
  const query: Record<string, unknown> = {};
  const params: Record<string, string> = {};
  const body: Record<string, unknown> = {};
  const headers: Record<string, string> = {};
  let bearer: string | undefined;
  for (const [name, value] of Object.entries(args)) {
    const header = shape.headers[name];
    if (header !== undefined) {
      if (typeof value !== 'string') throw invalidField(`header.${header.toLowerCase()}`, 'must be a string');
      headers[header] = value;
    } else if (name === shape.bearer) {
      if (typeof value !== 'string' || !value) throw invalidField(name, 'must be the token of the booking answer');
      bearer = value;
    } else if (shape.path.includes(name)) params[name] = value as string;
    else if (shape.body) body[name] = value;
    else query[name] = value;
  }
  if (shape.bearer && bearer === undefined) throw invalidField(shape.bearer, 'is required: the token of the booking answer');
  const input = contract.input(spec.operationId, { query, params, body: shape.body ? body : undefined });
  return { query: input.query, params: input.params, body: input.body, headers, bearer };
}
