/**
 * Tool input schemas derived from `openapi.yaml`, never retyped: a parameter operation's path and query
 * parameters become the properties, a body operation's JSON body schema is the input, each with every
 * `#/components/...` reference inlined. Header parameters and bearer credentials that a tool takes as
 * arguments are added under the names its table gives, with the contract's schema and description.
 */

/** The parts of `openapi.yaml` read here (the same document `Contract` compiles). */
export interface OpenApiDoc {
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
}

type Json = Record<string, unknown>;
interface Parameter { name: string; in: 'query' | 'path' | 'header' | 'cookie'; required?: boolean; description?: string; example?: unknown; schema?: Json }

/** An operation's arguments as a tool takes them, and the JSON Schema of all of them. */
export interface ToolShape {
  /** Argument names that are path parameters, query parameters. */
  path: string[];
  query: string[];
  /** Whether the arguments (but for `headers` and `bearer`) are the operation's JSON body. */
  body: boolean;
  /** Argument name → header name, for header parameters taken as arguments. */
  headers: Record<string, string>;
  /** The argument that carries the operation's bearer credential, if the tool takes one. */
  bearer?: string;
  inputSchema: { type: 'object'; properties: Json; required?: string[]; additionalProperties?: boolean; [k: string]: unknown };
}

/** How a tool maps the operation's non-body, non-parameter inputs onto arguments. */
export interface ShapeOptions {
  /** Header parameter name (as in openapi.yaml) → argument name, e.g. `Idempotency-Key` → `idempotency_key`. */
  headers?: Record<string, string>;
  /** Argument name for the bearer credential of the operation's `security` scheme, e.g. `token`. */
  bearer?: string;
}

/** The operation `operationId` of the document, or undefined. */
export function findOperation(doc: OpenApiDoc, operationId: string): Json | undefined {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) if ((op as Json)?.operationId === operationId) return op as Json;
  }
  return undefined;
}

/** Whether the document has the operation (a tool whose operation is absent is not offered). */
export function hasOperation(doc: OpenApiDoc, operationId: string): boolean {
  return findOperation(doc, operationId) !== undefined;
}

/** The arguments of the tool for `operationId`, derived from the document. */
export function toolShape(doc: OpenApiDoc, operationId: string, options: ShapeOptions = {}): ToolShape {
  const op = findOperation(doc, operationId);
  if (!op) throw new Error(`openapi.yaml has no operation '${operationId}'`);
  const params = ((op.parameters ?? []) as Json[]).map((p) => inline(doc, p) as unknown as Parameter);
  const properties: Json = {};
  const required: string[] = [];
  const take = (name: string, p: Parameter) => {
    properties[name] = described(p.schema ?? {}, p.description, p.example);
    if (p.required) required.push(name);
  };
  const path = params.filter((p) => p.in === 'path').map((p) => p.name);
  const query = params.filter((p) => p.in === 'query').map((p) => p.name);
  for (const p of params) if (p.in === 'path' || p.in === 'query') take(p.name, p);

  const bodySchema = ((op.requestBody as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined;
  let schema: ToolShape['inputSchema'] = { type: 'object', properties, required, additionalProperties: false };
  if (bodySchema?.schema) {
    if (params.some((p) => p.in === 'path' || p.in === 'query')) throw new Error(`${operationId}: a tool takes either parameters or a body, not both`);
    const body = inline(doc, bodySchema.schema as Json) as Json;
    if (body.type !== 'object' || !body.properties) throw new Error(`${operationId}: the body schema must be an object with properties to be a tool's input`);
    schema = { ...body, type: 'object', properties: { ...(body.properties as Json) }, required: [...((body.required as string[] | undefined) ?? [])] };
  }

  const headers: Record<string, string> = {};
  for (const [header, arg] of Object.entries(options.headers ?? {})) {
    const p = params.find((q) => q.in === 'header' && q.name.toLowerCase() === header.toLowerCase());
    if (!p) throw new Error(`${operationId} has no header parameter '${header}'`);
    headers[arg] = p.name;
    schema.properties[arg] = described(p.schema ?? {}, p.description, p.example);
    if (p.required) schema.required!.push(arg);
  }
  if (options.bearer) {
    const scheme = bearerScheme(doc, op, operationId);
    schema.properties[options.bearer] = described({ type: 'string', minLength: 1 }, scheme.description as string | undefined);
    schema.required!.push(options.bearer);
  }
  if (!schema.required!.length) delete schema.required;
  return { path, query, body: Boolean(bodySchema?.schema), headers, bearer: options.bearer, inputSchema: schema };
}

/** The http bearer scheme of an operation's `security`. */
function bearerScheme(doc: OpenApiDoc, op: Json, operationId: string): Json {
  const names = ((op.security ?? []) as Json[]).flatMap((s) => Object.keys(s));
  for (const name of names) {
    const scheme = doc.components?.securitySchemes?.[name] as Json | undefined;
    if (scheme?.type === 'http' && scheme.scheme === 'bearer') return scheme;
  }
  throw new Error(`${operationId} has no bearer security scheme to take as an argument`);
}

/** A copy of a schema with the parameter's description and example (as `examples`) added, unless it has its own. */
function described(schema: Json, description?: string, example?: unknown): Json {
  const out: Json = { ...schema };
  if (description && out.description === undefined) out.description = description.trim();
  if (example !== undefined && out.examples === undefined) out.examples = [example];
  return out;
}

/**
 * A deep copy of `node` with every local reference (`#/components/...`) replaced by what it names, so the
 * schema stands alone (tool schemas travel without the document). A recursive schema is refused.
 */
export function inline(doc: OpenApiDoc, node: unknown, trail: readonly string[] = []): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(doc, n, trail));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  if (typeof obj.$ref === 'string') {
    const ref = obj.$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local references can be inlined, not '${ref}'`);
    if (trail.includes(ref)) throw new Error(`the schema at '${ref}' refers to itself; a tool's input must be finite`);
    const target = ref.slice(2).split('/').reduce<unknown>((at, key) => (at as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    if (target === undefined) throw new Error(`openapi.yaml has nothing at '${ref}'`);
    const { $ref: _ref, ...siblings } = obj;
    return { ...(inline(doc, target, [...trail, ref]) as Json), ...(inline(doc, siblings, trail) as Json) };
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, inline(doc, v, trail)]));
}
