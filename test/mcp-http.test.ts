import request from 'supertest';
import { jest } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ADMIN_KEY, OPERATOR, rawSqlite, residentId, testService, type TestService } from './support.js';
import { at, bookingArgs, callTool, httpClient, listen, morningSlots, problemOf, readJson } from './mcp-support.js';

const home = { lng: 116.3264, lat: 39.9606, label: 'home' };
const school = { lng: 116.3102, lat: 39.9917, label: 'school' };

/** A service listening on 127.0.0.1 with an SDK client on its /mcp; `end()` closes all three. */
async function setUp(config: Parameters<typeof testService>[0] = {}, headers: Record<string, string> = {}) {
  const svc = await testService(config);
  const http = await listen(svc);
  const client = await httpClient(`${http.url}/mcp`, headers);
  return {
    svc, http, client,
    async end() {
      await client.close();
      await http.close();
      await svc.close();
    },
  };
}

describe('MCP over Streamable HTTP at /mcp', () => {
  let svc: TestService;
  let client: Client;
  let end: () => Promise<void>;
  beforeAll(async () => {
    ({ svc, client, end } = await setUp());
  });
  afterAll(() => end());

  test('lists the tools, each with an input schema derived from its REST operation', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(['search_resources', 'get_resource', 'match_plan', 'list_slots', 'get_taxonomy', 'book_slot', 'join_waitlist', 'get_booking', 'cancel_booking']);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.description).toMatch(/[\u4e00-\u9fff]/);
      expect(tool.description).toMatch(/[A-Za-z]{4,}/);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    // The query parameters of searchResources, as openapi.yaml declares them, are the properties.
    const search = byName.get('search_resources')!.inputSchema;
    // (The one parameter given by reference is `#/components/parameters/crs`.)
    const declared = svc.contract.doc.paths['/v1/resources'].get.parameters!.map((p) => ('name' in p ? p.name : 'crs'));
    expect(Object.keys(search.properties!).sort()).toEqual([...declared].sort());
    expect(search.properties!.crs).toMatchObject({ enum: ['wgs84', 'gcj02', 'bd09'] });
    expect(search.properties!.limit).toMatchObject({ minimum: 1, maximum: 100 });
    // A body operation: the body schema with its references resolved, plus the Idempotency-Key header.
    const book = byName.get('book_slot')!.inputSchema;
    expect(book.required).toEqual(expect.arrayContaining(['slot_id', 'kind', 'party_size', 'contact', 'idempotency_key']));
    expect(JSON.stringify(book)).not.toContain('$ref');
    expect(book.properties!.contact).toMatchObject({ type: 'object', required: ['name', 'phone'] });
    expect(byName.get('match_plan')!.inputSchema.required).toEqual(['origins']);
    expect(byName.get('cancel_booking')!.inputSchema.required).toEqual(['id', 'token']);
    expect(byName.get('get_resource')!.annotations).toMatchObject({ readOnlyHint: true });
    expect(client.getInstructions()).toContain('gcj02');
  });

  test('search_resources answers what GET /v1/resources answers for the same parameters', async () => {
    const params = { near: '116.3326,39.9620', crs: 'gcj02', tag: ['ti'], stage: 'junior', limit: 5 };
    const result = await callTool(client, 'search_resources', params);
    const rest = await request(svc.app).get('/v1/resources').query({ ...params, tag: 'ti' });
    expect(rest.status).toBe(200);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual(rest.body);
    expect(rest.body.items).toHaveLength(5);
    const [summary, json] = result.content as { type: 'text'; text: string }[];
    expect(summary.text).toContain('5');
    expect(summary.text).toContain(rest.body.items[0].name);
    expect(JSON.parse(json.text)).toEqual(rest.body);
  });

  test('match_plan answers what POST /v1/match answers for the same body', async () => {
    const body = { origins: [home, school], needs: { stage: 'junior', domains: { ti: 1, mei: 1 }, time: { at: '2026-12-05T14:00' } }, limit: 4 };
    const result = await callTool(client, 'match_plan', body);
    const rest = await request(svc.app).post('/v1/match').send(body);
    expect(rest.status).toBe(200);
    expect(result.structuredContent).toEqual(rest.body);
    expect(rest.body.items.slice(0, 2).map((i: { domain: string }) => i.domain).sort()).toEqual(['mei', 'ti']);
  });

  test('get_resource, list_slots and get_taxonomy answer what their REST operations answer', async () => {
    const one = await callTool(client, 'get_resource', { id: 'palace-museum', crs: 'bd09' });
    expect(one.structuredContent).toEqual((await request(svc.app).get('/v1/resources/palace-museum?crs=bd09')).body);
    await morningSlots(svc);
    const slots = await callTool(client, 'list_slots', { id: 'palace-museum', from: at(0), to: at(24) });
    expect(slots.structuredContent).toEqual((await request(svc.app).get('/v1/resources/palace-museum/slots').query({ from: at(0), to: at(24) })).body);
    expect((slots.structuredContent as { count: number }).count).toBe(2);
    const tax = await callTool(client, 'get_taxonomy');
    expect(tax.structuredContent).toEqual((await request(svc.app).get('/v1/taxonomy')).body);
  });

  test('bad arguments are a tool error naming the field, as the REST answer names it', async () => {
    const limit = problemOf(await callTool(client, 'search_resources', { limit: 0 }));
    const rest = await request(svc.app).get('/v1/resources?limit=0');
    expect(limit).toEqual(rest.body);
    expect(limit).toMatchObject({ type: 'https://edumap.dev/problems/invalid_request', status: 400, errors: [{ path: 'query.limit' }] });
    expect(problemOf(await callTool(client, 'search_resources', { nearby: '1,2' })).errors).toEqual([{ path: 'query.nearby', message: 'is not a known parameter' }]);
    expect(problemOf(await callTool(client, 'search_resources', { crs: 'wgs' })).errors![0]).toMatchObject({ path: 'query.crs', message: 'must be one of wgs84, gcj02, bd09' });
    const booking = problemOf(await callTool(client, 'book_slot', { slot_id: 1, kind: 'individual', party_size: 1, idempotency_key: 'k1' }));
    expect(booking.errors).toEqual([{ path: 'body.contact', message: 'is required' }]);
    const noKey = problemOf(await callTool(client, 'book_slot', { ...bookingArgs(1, 'x'), idempotency_key: undefined }));
    expect(noKey.errors![0].path).toBe('header.idempotency-key');
    expect(problemOf(await callTool(client, 'get_resource', { id: 'no-such-place' }))).toMatchObject({ status: 404, title: 'Not found' });
    expect(problemOf(await callTool(client, 'cancel_booking', { id: 'bk_0123456789abcdef' })).errors).toEqual([{ path: 'token', message: expect.stringContaining('required') }]);
  });

  test('an unknown tool is a protocol error; an unexpected failure is a generic tool error, logged', async () => {
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/no tool 'no_such_tool'/);
    const error = jest.spyOn(svc.log, 'error');
    const search = jest.spyOn(svc.queries, 'search').mockRejectedValueOnce(new Error('disk on fire'));
    try {
      const problem = problemOf(await callTool(client, 'search_resources', {}));
      expect(problem).toMatchObject({ type: 'https://edumap.dev/problems/internal', status: 500 });
      expect(problem.detail).not.toContain('disk');
      expect(error).toHaveBeenCalledWith(expect.objectContaining({ tool: 'search_resources' }), expect.any(String));
    } finally {
      search.mockRestore();
      error.mockRestore();
    }
  });

  test('the taxonomy and the district list are resources, as the REST API answers them', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['edumap://taxonomy', 'edumap://areas']);
    expect(await readJson(client, 'edumap://taxonomy')).toEqual((await request(svc.app).get('/v1/taxonomy')).body);
    const list = await readJson(client, 'edumap://areas');
    expect(list).toEqual((await request(svc.app).get('/v1/areas')).body);
    expect(list.items!.filter((a) => a.kind === 'district')).toHaveLength(16);
    await expect(client.readResource({ uri: 'edumap://nothing' })).rejects.toThrow(/no resource/);
  });

  test('GET and DELETE /mcp are 405: the server keeps no sessions', async () => {
    for (const res of [await request(svc.app).get('/mcp'), await request(svc.app).delete('/mcp')]) {
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.type).toBe('application/problem+json');
    }
  });
});

describe('book_slot and cancel_booking over HTTP', () => {
  test('a repeated idempotency key books once: the second call replays the first answer', async () => {
    const { svc, client, end } = await setUp();
    try {
      const [slot] = await morningSlots(svc);
      const first = await callTool(client, 'book_slot', bookingArgs(slot, 'family-li-1'));
      const again = await callTool(client, 'book_slot', bookingArgs(slot, 'family-li-1'));
      expect(first.isError).toBeFalsy();
      const booking = first.structuredContent as { id: string; token: string; status: string; party_size: number };
      expect(booking).toMatchObject({ status: 'confirmed', party_size: 2, token: expect.any(String) });
      expect(again.structuredContent).toEqual(booking);
      expect(first._meta).toEqual({ 'edumap.dev/idempotent-replayed': false });
      expect(again._meta).toEqual({ 'edumap.dev/idempotent-replayed': true });
      expect((first.content as { text: string }[])[0].text).toContain(booking.token);
      expect(rawSqlite(svc).prepare('SELECT count(*) AS n FROM bookings').get()).toEqual({ n: 1 });
      // The same key with another body is the REST API's 422.
      expect(problemOf(await callTool(client, 'book_slot', bookingArgs(slot, 'family-li-1', 3))).status).toBe(422);

      const read = await callTool(client, 'get_booking', { id: booking.id, token: booking.token });
      expect(read.structuredContent).toMatchObject({ id: booking.id, status: 'confirmed' });
      expect(problemOf(await callTool(client, 'cancel_booking', { id: booking.id, token: 'not-the-token' })).status).toBe(404);
      const cancelled = await callTool(client, 'cancel_booking', { id: booking.id, token: booking.token });
      expect(cancelled.structuredContent).toMatchObject({ id: booking.id, status: 'cancelled' });
      const rest = await request(svc.app).get(`/v1/bookings/${booking.id}`).set('Authorization', `Bearer ${booking.token}`);
      expect(rest.body.status).toBe('cancelled');
    } finally {
      await end();
    }
  });

  test('a full slot is a tool error with the REST answer\'s alternatives', async () => {
    const { svc, client, end } = await setUp();
    try {
      const [slot] = await morningSlots(svc);
      expect((await callTool(client, 'book_slot', bookingArgs(slot, 'all-ten', 10))).isError).toBeFalsy();
      const problem = problemOf(await callTool(client, 'book_slot', bookingArgs(slot, 'one-more', 1))) as unknown as Record<string, unknown>;
      expect(problem).toMatchObject({ type: 'https://edumap.dev/problems/slot_full', status: 409, remaining: { individual: 0 } });
      expect(problem.alternatives).toBeDefined();
    } finally {
      await end();
    }
  });
});

describe('join_waitlist', () => {
  test('on a full slot, join_waitlist answers what POST /v1/waitlist answers; a repeated key joins once; a slot with room refuses', async () => {
    const { svc, client, end } = await setUp();
    try {
      const [slot] = await morningSlots(svc);
      const room = problemOf(await callTool(client, 'join_waitlist', bookingArgs(slot, 'early', 1))) as unknown as Record<string, unknown>;
      expect(room).toMatchObject({ type: 'https://edumap.dev/problems/slot_has_room' });
      expect((await callTool(client, 'book_slot', bookingArgs(slot, 'all-ten', 10))).isError).toBeFalsy();
      const first = await callTool(client, 'join_waitlist', bookingArgs(slot, 'wait-1', 2));
      expect(first.isError).toBeFalsy();
      const entry = first.structuredContent as { id: string; position: number; token: string };
      expect(entry).toMatchObject({ id: expect.any(String), position: 1, token: expect.any(String) });
      const again = await callTool(client, 'join_waitlist', bookingArgs(slot, 'wait-1', 2));
      expect((again.structuredContent as { id: string }).id).toBe(entry.id);
      expect(again._meta?.['edumap.dev/idempotent-replayed']).toBe(true);
      const rest = await request(svc.app).get(`/v1/waitlist/${entry.id}`).set('Authorization', `Bearer ${entry.token}`);
      expect(rest.body).toMatchObject({ id: entry.id, status: 'waiting', position: 1 });
      expect(await svc.db.value('SELECT count(*) FROM waitlist')).toBe(1);
    } finally {
      await end();
    }
  });
});

describe('configuration and limits', () => {
  test('a request a browser sends from another site (an Origin not allowed) is refused 403 before any tool runs', async () => {
    const svc = await testService({ seed: false, config: { corsOrigins: ['https://app.example.cn'] } });
    const list = (origin?: string) => {
      const req = request(svc.app).post('/mcp').set('Accept', 'application/json, text/event-stream');
      return (origin === undefined ? req : req.set('Origin', origin)).send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    };
    try {
      // DNS rebinding: the attacker's name resolves to this server, so Host and Origin both carry it.
      const rebound = await list('http://rebind.attacker.example:3000').set('Host', 'rebind.attacker.example:3000');
      expect(rebound.status).toBe(403);
      expect(rebound.type).toBe('application/problem+json');
      expect(rebound.body).toMatchObject({ type: 'https://edumap.dev/problems/forbidden', status: 403, errors: [{ path: 'header.origin' }] });
      expect(rebound.body.detail).toContain('EDUMAP_CORS_ORIGINS');
      expect((await list('null')).status).toBe(403);
      // An allowed origin, and a client that sends none (an assistant, an SDK), get the tools.
      for (const res of [await list('https://app.example.cn'), await list()]) {
        expect(res.status).toBe(200);
        expect(res.body.result.tools.length).toBeGreaterThan(5);
      }
    } finally {
      await svc.close();
    }
    const open = await testService({ seed: false, config: { corsOrigins: ['*'] } });
    try {
      expect((await request(open.app).post('/mcp').set('Accept', 'application/json, text/event-stream').set('Origin', 'https://any.example')
        .send({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  test('EDUMAP_MCP=off: /mcp answers 404 and the REST API is untouched', async () => {
    const svc = await testService({ seed: false, config: { mcp: false } });
    try {
      const res = await request(svc.app).post('/mcp').set('Accept', 'application/json, text/event-stream')
        .send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(res.status).toBe(404);
      expect(res.type).toBe('application/problem+json');
      expect((await request(svc.app).get('/v1/taxonomy')).status).toBe(200);
    } finally {
      await svc.close();
    }
  });

  test('EDUMAP_MCP_BOOKING=key refuses book_slot without a key (and with a revoked one), allows it with one', async () => {
    const anonymous = await setUp({ config: { mcpBooking: 'key' } });
    try {
      const [slot] = await morningSlots(anonymous.svc);
      expect(problemOf(await callTool(anonymous.client, 'book_slot', bookingArgs(slot, 'anon')))).toMatchObject({ status: 401, title: 'Authentication is required' });
      // Searching needs no key.
      expect((await callTool(anonymous.client, 'search_resources', { limit: 1 })).isError).toBeFalsy();
      const made = await httpClient(`${anonymous.http.url}/mcp`, { Authorization: 'Bearer made-up-key-0123456789' });
      expect(problemOf(await callTool(made, 'book_slot', bookingArgs(slot, 'made-up'))).status).toBe(403);
      await made.close();
      const revoked = await anonymous.svc.keys.create({ role: 'venue', resources: ['palace-museum'], label: 'old assistant' }, OPERATOR, () => true);
      await anonymous.svc.keys.revoke(revoked.info.id, OPERATOR);
      const old = await httpClient(`${anonymous.http.url}/mcp`, { Authorization: `Bearer ${revoked.key}` });
      expect(problemOf(await callTool(old, 'book_slot', bookingArgs(slot, 'revoked'))).detail).toMatch(/unknown or revoked/);
      await old.close();
      for (const key of [ADMIN_KEY, (await anonymous.svc.keys.create({ role: 'venue', resources: ['palace-museum'], label: '京小帮' }, OPERATOR, () => true)).key]) {
        const keyed = await httpClient(`${anonymous.http.url}/mcp`, { Authorization: `Bearer ${key}` });
        const booked = await callTool(keyed, 'book_slot', bookingArgs(slot, `keyed-${key.slice(0, 12)}`));
        expect(booked.structuredContent).toMatchObject({ status: 'confirmed' });
        await keyed.close();
      }
      // Nothing was booked by the refused calls.
      expect(rawSqlite(anonymous.svc).prepare('SELECT count(*) AS n FROM bookings').get()).toEqual({ n: 2 });
    } finally {
      await anonymous.end();
    }
  });

  test('EDUMAP_MCP_BOOKING=off: book_slot is not offered, cancelling still is', async () => {
    const { client, end } = await setUp({ seed: false, config: { mcpBooking: 'off' } });
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('book_slot');
      expect(names).toContain('cancel_booking');
      await expect(client.callTool({ name: 'book_slot', arguments: {} })).rejects.toThrow(/no tool/);
    } finally {
      await end();
    }
  });

  test('tool calls spend the REST budgets of their client: search against search, booking tools against booking', async () => {
    const { svc, client, end } = await setUp({ config: { searchPerMinute: 3, bookingPerMinute: 2 } });
    try {
      for (let k = 0; k < 2; k++) expect((await callTool(client, 'search_resources', { limit: 1 })).isError).toBeFalsy();
      // Taxonomy and areas are not limited, as on REST.
      expect((await callTool(client, 'get_taxonomy')).isError).toBeFalsy();
      // One budget per client, whichever way it asks: the REST request spends the third search.
      expect((await request(svc.app).get('/v1/resources?limit=1')).status).toBe(200);
      const limited = problemOf(await callTool(client, 'match_plan', { origins: [home] }));
      expect(limited).toMatchObject({ type: 'https://edumap.dev/problems/rate_limited', status: 429, retry_after_s: expect.any(Number) });
      expect((await request(svc.app).get('/v1/resources?limit=1')).status).toBe(429);

      const [slot] = await morningSlots(svc);
      expect((await callTool(client, 'book_slot', bookingArgs(slot, 'b1', 1))).isError).toBeFalsy();
      expect((await callTool(client, 'book_slot', bookingArgs(slot, 'b2', 1))).isError).toBeFalsy();
      expect(problemOf(await callTool(client, 'book_slot', bookingArgs(slot, 'b3', 1))).status).toBe(429);
      expect(rawSqlite(svc).prepare('SELECT count(*) AS n FROM bookings').get()).toEqual({ n: 2 });
    } finally {
      await end();
    }
  });

  test('visitor conflicts over MCP count against the same hourly budget as over REST', async () => {
    const { svc, client, end } = await setUp({ config: { visitorConflictsPerHour: 1 } });
    try {
      const [first, second] = await morningSlots(svc);
      const child = { visitor_ids: [residentId(12)], party_size: 1 };
      expect((await callTool(client, 'book_slot', { ...bookingArgs(first, 'v1'), ...child })).isError).toBeFalsy();
      // Same child, same museum, same day: refused, and counted.
      expect(problemOf(await callTool(client, 'book_slot', { ...bookingArgs(second, 'v2'), ...child })).status).toBe(409);
      const rest = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'v3').send({ ...bookingArgs(second, 'x'), idempotency_key: undefined, visitor_ids: [residentId(13)], party_size: 1 });
      expect(rest.status).toBe(429);
    } finally {
      await end();
    }
  });
});
