import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { DEFAULTS, type Config } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { openService, type Service } from '../src/service.js';
import { createApp } from '../src/http/app.js';
import { ROOT, TEST_DATA_KEY, TEST_HASH_KEY, rawSqlite } from './support.js';
import { at, bookingArgs, callTool, morningSlots, problemOf, readJson } from './mcp-support.js';

/**
 * `npm run mcp`'s command (`node --import tsx src/cli/mcp.ts`) spawned on a fresh database, driven by the
 * SDK's own client over stdin/stdout; beside it, a service of this test process on the same database file
 * answers the REST requests to compare with.
 */
let dir: string;
let client: Client;
let transport: StdioClientTransport;
let stderr = '';
let svc: Service;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edumap-mcp-'));
  const dbPath = join(dir, 'edumap.db');
  transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli/mcp.ts'],
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '', EDUMAP_DB: dbPath, EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: TEST_DATA_KEY, LOG_LEVEL: 'info',
      EDUMAP_POLL_MS: '100', EDUMAP_MCP_BOOKING: 'key',
    },
    stderr: 'pipe',
  });
  transport.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  client = new Client({ name: 'edumap-stdio-test', version: '1.0.0' });
  // Answered once the process has seeded the database and built its snapshot.
  await client.connect(transport);
  const config: Config = {
    ...DEFAULTS, dbPath, logLevel: 'silent', pollMs: 0, searchPerMinute: 0, bookingPerMinute: 0,
    hashKey: TEST_HASH_KEY, dataKey: Buffer.from(TEST_DATA_KEY, 'hex'),
  };
  svc = await openService(config, createLogger(config));
  app = createApp(svc);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MCP over stdio (npm run mcp)', () => {
  test('lists the tools with their input schemas; logs go to stderr, stdout carries only the protocol', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['search_resources', 'match_plan', 'list_slots', 'book_slot', 'cancel_booking']));
    expect(Object.keys(tools.find((t) => t.name === 'search_resources')!.inputSchema.properties!)).toEqual(expect.arrayContaining(['near', 'tag', 'crs', 'limit']));
    expect(stderr).toContain('edumap MCP server on stdio');
    expect(stderr).toContain('loaded bundled resources');
  });

  test('search_resources answers what GET /v1/resources answers for the same parameters', async () => {
    const params = { near: '116.40,39.91', tag: ['mei'], radius_km: 8, limit: 7 };
    const result = await callTool(client, 'search_resources', params);
    const rest = await request(app).get('/v1/resources').query({ ...params, tag: 'mei' });
    expect(rest.body.items.length).toBeGreaterThan(0);
    expect(result.structuredContent).toEqual(rest.body);
  });

  test('book_slot books once under a repeated idempotency key; the stdio user is trusted under EDUMAP_MCP_BOOKING=key', async () => {
    const [slot] = await morningSlots(svc);
    const first = await callTool(client, 'book_slot', bookingArgs(slot, 'stdio-family-1'));
    const again = await callTool(client, 'book_slot', bookingArgs(slot, 'stdio-family-1'));
    expect(first.structuredContent).toMatchObject({ status: 'confirmed', token: expect.any(String) });
    expect(again.structuredContent).toEqual(first.structuredContent);
    expect(again._meta).toEqual({ 'edumap.dev/idempotent-replayed': true });
    expect(rawSqlite(svc).prepare('SELECT count(*) AS n FROM bookings').get()).toEqual({ n: 1 });
    const slots = await callTool(client, 'list_slots', { id: 'palace-museum', from: at(0), to: at(24) });
    expect((slots.structuredContent as { items: { remaining: { individual: number } }[] }).items[0].remaining.individual).toBe(8);
  });

  test('bad arguments are a tool error naming the field; the resources can be read', async () => {
    expect(problemOf(await callTool(client, 'match_plan', { origins: [] })).errors![0].path).toBe('body.origins');
    expect(await readJson(client, 'edumap://areas')).toEqual((await request(app).get('/v1/areas')).body);
    expect((await readJson(client, 'edumap://taxonomy')).version).toBe(svc.tax.version);
  });
});
