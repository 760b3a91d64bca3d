import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { formatShanghai } from '../src/time.js';
import { OPERATOR, phoneNumber, type TestService } from './support.js';

/** The express app of a test service listening on 127.0.0.1 (a free port); `close()` stops it. */
export async function listen(svc: TestService): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = svc.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** An SDK client connected to `url` (…/mcp) over Streamable HTTP, sending `headers` with every request. */
export async function httpClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'edumap-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** A tool's result, typed as the tests read it. */
export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A resource's text, parsed as JSON. */
export async function readJson(client: Client, uri: string): Promise<Record<string, unknown> & { items?: { kind: string }[] }> {
  const { contents } = await client.readResource({ uri });
  const [first] = contents;
  if (!first || !('text' in first)) throw new Error(`${uri} has no text`);
  return JSON.parse(first.text) as Record<string, unknown>;
}

/** The problem document of a tool error (and a failed expectation when the call did not fail). */
export function problemOf(result: CallToolResult): { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] } {
  if (!result.isError) throw new Error(`expected a tool error, got ${JSON.stringify(result.structuredContent).slice(0, 300)}`);
  return result.structuredContent as ReturnType<typeof problemOf>;
}

const HOUR = 3_600_000;
/** Midnight (Asia/Shanghai) of the day after tomorrow, so every slot made here is in the future. */
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * 24 * HOUR)).slice(0, 10)}T00:00:00+08:00`);
/** A time `hours` after that midnight, ISO 8601 with +08:00. */
export const at = (hours: number) => formatShanghai(new Date(day0 + hours * HOUR));

/** Two morning slots of a resource (10 family places each), made straight through the domain; their ids. */
export async function morningSlots(svc: Pick<TestService, 'bookings'>, resource = 'palace-museum'): Promise<number[]> {
  const capacity = { individual: 10, group: 0 };
  const made = await svc.bookings.createSlots(resource, [
    { start: at(9), end: at(10), capacity }, { start: at(10), end: at(11), capacity },
  ], OPERATOR);
  return made.map((s) => s.id);
}

/** The arguments of a family booking of `slotId` under an idempotency key. */
export function bookingArgs(slotId: number, key: string, party = 2): Record<string, unknown> {
  return { slot_id: slotId, kind: 'individual', party_size: party, contact: { name: '李华', phone: phoneNumber(7) }, idempotency_key: key };
}
