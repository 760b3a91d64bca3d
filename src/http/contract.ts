import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { invalidFields, type FieldError } from '../errors.js';
import { fieldErrorsOf } from '../validation.js';

// ajv-formats is CommonJS; its default export is the plugin function at run time.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

interface Parameter { name: string; in: 'query' | 'path' | 'header'; required?: boolean; schema?: object; $ref?: string }
interface OperationDoc { operationId: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema?: object }> } }

/** Validated input of one request. */
export interface Input {
  query: Record<string, unknown>;
  params: Record<string, string>;
  body: unknown;
}

interface Compiled { query: ValidateFunction; params: ValidateFunction; body?: ValidateFunction; method: string; path: string }

/**
 * The API contract, read from `openapi.yaml` once: every operation's parameters and JSON body compiled
 * into ajv validators. Query strings are coerced to the declared types; unknown parameters are errors.
 */
export class Contract {
  readonly doc: { paths: Record<string, Record<string, OperationDoc>>; components?: Record<string, Record<string, unknown>> };
  readonly text: string;
  private readonly ops = new Map<string, Compiled>();

  constructor(path: string) {
    this.text = readFileSync(path, 'utf8');
    this.doc = parseYaml(this.text);
    const coercing = new Ajv2020({ strict: false, allErrors: true, coerceTypes: 'array', useDefaults: true });
    const exact = new Ajv2020({ strict: false, allErrors: true, useDefaults: true });
    for (const ajv of [coercing, exact]) {
      addFormats(ajv);
      ajv.addSchema({ $id: 'openapi', components: this.doc.components ?? {} });
    }
    for (const [path, item] of Object.entries(this.doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const params = (op.parameters ?? []).map((p) => this.deref(p) as Parameter);
        const schemaFor = (where: Parameter['in']) => {
          const list = params.filter((p) => p.in === where);
          return {
            type: 'object',
            properties: Object.fromEntries(list.map((p) => [p.name, relink(p.schema ?? {})])),
            required: list.filter((p) => p.required).map((p) => p.name),
            additionalProperties: false,
          };
        };
        // The JSON body, whichever JSON media type the operation declares (merge patch, GeoJSON …).
        const content = op.requestBody?.content ?? {};
        const json = (content['application/json'] ?? content['application/merge-patch+json'] ?? content['application/geo+json'])?.schema;
        this.ops.set(op.operationId, {
          method: method.toUpperCase(),
          path,
          query: coercing.compile(schemaFor('query')),
          params: coercing.compile(schemaFor('path')),
          body: json ? exact.compile(relink(json)) : undefined,
        });
      }
    }
  }

  /** Validates a request against its operation; throws a 400 naming every bad field. */
  input(operationId: string, req: { query: unknown; params: unknown; body?: unknown }): Input {
    const op = this.ops.get(operationId);
    if (!op) throw new Error(`openapi.yaml has no operation '${operationId}'`);
    const query = { ...(req.query as Record<string, unknown>) };
    const params = { ...(req.params as Record<string, string>) };
    const errors: FieldError[] = [];
    if (!op.query(query)) errors.push(...fieldErrorsOf(op.query.errors!, 'query'));
    if (!op.params(params)) errors.push(...fieldErrorsOf(op.params.errors!, 'path'));
    if (op.body && !op.body(req.body)) errors.push(...fieldErrorsOf(op.body.errors!, 'body'));
    if (errors.length) throw invalidFields(errors);
    return { query, params, body: req.body };
  }

  /** Express route paths of every operation, e.g. `/v1/areas/:id`, with their ids. */
  routes(): { method: string; path: string; operationId: string }[] {
    return [...this.ops].map(([operationId, op]) => ({ method: op.method, path: op.path.replace(/\{(\w+)\}/g, ':$1'), operationId }));
  }

  private deref(node: { $ref?: string }): unknown {
    if (!node.$ref) return node;
    const parts = node.$ref.replace(/^#\//, '').split('/');
    return parts.reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], this.doc);
  }
}

/** Points `#/components/...` references at the components registered under the id `openapi`. */
function relink(schema: object): object {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\/components\//g, '"$ref":"openapi#/components/'));
}
