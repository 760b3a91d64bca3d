import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { Contract } from '../src/http/contract.js';
import { buildCatalogue, argumentsOf } from '../src/mcp/catalogue.js';
import { inline, toolShape, type OpenApiDoc } from '../src/mcp/schema.js';
import { DESCRIPTIONS } from '../src/mcp/descriptions.js';
import { TOOLS } from '../src/mcp/tools.js';
import { ROOT, TEST_DATA_KEY, TEST_HASH_KEY } from './support.js';

const contract = new Contract(join(ROOT, 'openapi.yaml'));
const doc = contract.doc as OpenApiDoc;

describe('tool input schemas from openapi.yaml', () => {
  test('a parameter operation: its path and query parameters, required as declared, described as declared', () => {
    const shape = toolShape(doc, 'listSlots');
    expect(shape).toMatchObject({ path: ['id'], query: ['from', 'to'], body: false });
    expect(shape.inputSchema.required).toEqual(['id']);
    expect(shape.inputSchema.properties.from).toMatchObject({ type: 'string', description: expect.stringContaining('Asia/Shanghai') });
    expect(shape.inputSchema.additionalProperties).toBe(false);
  });

  test('a parameter given by reference is inlined; a parameter example becomes `examples`', () => {
    const { properties } = toolShape(doc, 'searchResources').inputSchema;
    expect(properties.crs).toEqual({ type: 'string', enum: ['wgs84', 'gcj02', 'bd09'], default: 'wgs84', description: expect.any(String) });
    expect(properties.near).toMatchObject({ examples: ['116.3972,39.9163'] });
    expect(properties.tag).toMatchObject({ type: 'array', maxItems: 10 });
  });

  test('a body operation: the body schema with every reference resolved, plus header and bearer arguments', () => {
    const book = toolShape(doc, 'createBooking', { headers: { 'Idempotency-Key': 'idempotency_key' } });
    expect(book.body).toBe(true);
    expect(book.headers).toEqual({ idempotency_key: 'Idempotency-Key' });
    expect(book.inputSchema.properties.idempotency_key).toMatchObject({ type: 'string', minLength: 1, maxLength: 255 });
    expect(JSON.stringify(book.inputSchema)).not.toContain('$ref');
    const cancel = toolShape(doc, 'cancelBooking', { bearer: 'token' });
    expect(cancel.inputSchema.properties.id).toMatchObject({ pattern: '^bk_[A-Za-z0-9_-]{16}$' });
    expect(cancel.inputSchema.properties.token).toMatchObject({ type: 'string', description: expect.stringContaining('token') });
  });

  test('does not mutate the document it reads', () => {
    const before = JSON.stringify(doc);
    for (const spec of TOOLS) toolShape(doc, spec.operationId, { headers: spec.headers, bearer: spec.bearer });
    expect(JSON.stringify(doc)).toBe(before);
  });

  test('refuses a recursive schema, a missing reference, a header the operation lacks', () => {
    const loop: OpenApiDoc = { paths: {}, components: { schemas: { A: { type: 'object', properties: { a: { $ref: '#/components/schemas/A' } } } } } };
    expect(() => inline(loop, { $ref: '#/components/schemas/A' })).toThrow(/refers to itself/);
    expect(() => inline(loop, { $ref: '#/components/schemas/B' })).toThrow(/nothing at/);
    expect(() => toolShape(doc, 'listSlots', { headers: { 'X-Nope': 'nope' } })).toThrow(/no header parameter 'X-Nope'/);
    expect(() => toolShape(doc, 'noSuchOperation')).toThrow(/no operation/);
  });

  test('every tool has a description in Chinese and English, and every operation of the table is in the contract', () => {
    const catalogue = buildCatalogue(contract);
    expect([...catalogue.tools.keys()]).toEqual(TOOLS.map((t) => t.name));
    for (const name of Object.keys(DESCRIPTIONS) as (keyof typeof DESCRIPTIONS)[]) {
      expect(DESCRIPTIONS[name]).toMatch(/[\u4e00-\u9fff]/);
      expect(DESCRIPTIONS[name]).toMatch(/\n[A-Z]/);
    }
  });

  test('arguments are split as the REST request carries them and checked by the contract', () => {
    const catalogue = buildCatalogue(contract);
    const search = catalogue.tools.get('search_resources')!;
    // The contract coerces as it does a query string: one tag becomes a list; defaults are filled in.
    expect(argumentsOf(contract, search.spec, search.shape, { tag: 'ti', limit: 3 }).query).toEqual({ tag: ['ti'], limit: 3, format: 'json', crs: 'wgs84' });
    const cancel = catalogue.tools.get('cancel_booking')!;
    expect(argumentsOf(contract, cancel.spec, cancel.shape, { id: 'bk_0123456789abcdef', token: 't' })).toMatchObject({ params: { id: 'bk_0123456789abcdef' }, bearer: 't' });
    const book = catalogue.tools.get('book_slot')!;
    expect(() => argumentsOf(contract, book.spec, book.shape, { idempotency_key: 42 })).toThrow(/header.idempotency-key: must be a string/);
  });
});

describe('EDUMAP_MCP and EDUMAP_MCP_BOOKING', () => {
  const env = { EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: TEST_DATA_KEY };
  test('default on and open; each is validated with one line naming the variable', () => {
    expect(loadConfig(env)).toMatchObject({ mcp: true, mcpBooking: 'open' });
    expect(loadConfig({ ...env, EDUMAP_MCP: 'off', EDUMAP_MCP_BOOKING: 'key' })).toMatchObject({ mcp: false, mcpBooking: 'key' });
    expect(() => loadConfig({ ...env, EDUMAP_MCP: 'yes' })).toThrow(new ConfigError("EDUMAP_MCP must be one of on, off, got 'yes'"));
    expect(() => loadConfig({ ...env, EDUMAP_MCP_BOOKING: 'token' })).toThrow(new ConfigError("EDUMAP_MCP_BOOKING must be one of open, key, off, got 'token'"));
  });
});
