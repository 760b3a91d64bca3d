import type { Service } from '../service.js';
import type { Crs } from '../geo/crs.js';
import type { Answer, MatchBody, SearchRequest } from '../engine/query.js';
import { taxonomyJson } from '../engine/catalog.js';
import type { BookingRequest } from '../booking/bookings.js';
import { DESCRIPTIONS, type ToolName } from './descriptions.js';
import { bookingSummary, matchSummary, resourceSummary, searchSummary, slotsSummary, taxonomySummary, waitlistSummary } from './summaries.js';

type Json = Record<string, unknown>;

/** The per-client budgets of `src/http/guards.ts` a tool call may spend: the REST routes' search and booking budgets. */
export type BudgetName = 'search' | 'booking';

/** A tool's arguments once the contract validated them, split as the REST request would carry them. */
export interface ToolInput {
  query: Record<string, unknown>;
  params: Record<string, string>;
  body: unknown;
  /** Header arguments by header name (`Idempotency-Key`). */
  headers: Record<string, string>;
  /** The bearer credential argument (a booking's token). */
  bearer?: string;
}

/** What a tool's domain call may need besides the service: the visitor-conflict budget and who counts against it. */
export interface RunContext {
  conflicts: { check(client: string): Promise<void>; record(client: string): Promise<void> };
  /** The client of the conflict budget (the address, as for REST). */
  client: string;
}

/** A domain answer as the tool returns it, with side facts for `_meta` (e.g. an idempotent replay). */
export interface ToolAnswer {
  answer: Json;
  meta?: Json;
}

/** Hints to the client about a tool's effects (MCP tool annotations). */
interface Hints { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint: boolean }

/** One tool: the REST operation it stands for, its budget, its description, its one domain call and its summary. */
export interface ToolSpec {
  name: ToolName;
  /** The `openapi.yaml` operation whose parameters (or body) are the tool's input and whose answer is its result. */
  operationId: string;
  title: string;
  /** The budget a call spends, as the REST route does (`/v1/resources*` and `/v1/match` search; `/v1/bookings` booking). */
  budget?: BudgetName;
  /** Whether the tool books places: refused unless `EDUMAP_MCP_BOOKING` lets this client book, hidden when it is `off`. */
  books?: boolean;
  /** Header parameters (openapi.yaml name) taken as arguments, with the argument's name. */
  headers?: Record<string, string>;
  /** The argument that carries the operation's bearer credential. */
  bearer?: string;
  hints: Hints;
  run(svc: Service, input: ToolInput, ctx: RunContext): Promise<ToolAnswer>;
  summary(answer: Json): string;
}

const READ: Hints = { readOnlyHint: true, openWorldHint: false };
/** Books places: not read-only, never destructive, idempotent under one idempotency_key. */
const BOOKS: Hints = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const parse = (a: Answer): ToolAnswer => ({ answer: JSON.parse(a.body.toString()) as Json });

/** The tools, in the order they are listed. A tool whose operation is not in `openapi.yaml` is not offered. */
export const TOOLS: readonly ToolSpec[] = [
  {
    name: 'search_resources', operationId: 'searchResources', title: '搜索教育资源 Search resources', budget: 'search', hints: READ,
    run: async (svc, i) => parse(await svc.queries.search(i.query as SearchRequest)),
    summary: searchSummary,
  },
  {
    name: 'get_resource', operationId: 'getResource', title: '资源详情 One resource', budget: 'search', hints: READ,
    run: async (svc, i) => parse(await svc.queries.resource(i.params.id, i.query.crs as Crs | undefined)),
    summary: resourceSummary,
  },
  {
    name: 'match_plan', operationId: 'match', title: '一键匹配 One-click match', budget: 'search', hints: READ,
    run: async (svc, i) => parse(await svc.queries.match(i.body as MatchBody)),
    summary: matchSummary,
  },
  {
    name: 'list_slots', operationId: 'listSlots', title: '可预约时段 Bookable slots', budget: 'search', hints: READ,
    run: async (svc, i) => {
      const items = await svc.bookings.listSlots(i.params.id, i.query.from as string | undefined, i.query.to as string | undefined);
      return { answer: { resource_id: i.params.id, count: items.length, items } };
    },
    summary: slotsSummary,
  },
  {
    name: 'get_taxonomy', operationId: 'getTaxonomy', title: '分类体系 Taxonomy', hints: READ,
    run: async (svc) => ({ answer: taxonomyOf(svc) }),
    summary: taxonomySummary,
  },
  {
    name: 'book_slot', operationId: 'createBooking', title: '预约 Book a slot', budget: 'booking', books: true,
    headers: { 'Idempotency-Key': 'idempotency_key' },
    hints: BOOKS,
    run: async (svc, i, ctx) => {
      const request = i.body as BookingRequest;
      // As POST /v1/bookings: visitor conflicts are budgeted per client address.
      if (request.visitor_ids?.length) await ctx.conflicts.check(ctx.client);
      const outcome = await svc.bookings.book(request, i.headers['Idempotency-Key']);
      if (outcome.error?.code === 'visitor_already_booked') await ctx.conflicts.record(ctx.client);
      if (outcome.error) throw outcome.error;
      return { answer: outcome.booking as unknown as Json, meta: { 'edumap.dev/idempotent-replayed': outcome.replayed } };
    },
    summary: bookingSummary,
  },
  {
    name: 'join_waitlist', operationId: 'joinWaitlist', title: '候补 Join the waitlist', budget: 'booking', books: true,
    headers: { 'Idempotency-Key': 'idempotency_key' },
    hints: BOOKS,
    run: async (svc, i) => {
      const outcome = await svc.bookings.waitlist.join(i.body as BookingRequest, i.headers['Idempotency-Key']);
      if (outcome.error) throw outcome.error;
      return { answer: outcome.entry as unknown as Json, meta: { 'edumap.dev/idempotent-replayed': outcome.replayed } };
    },
    summary: waitlistSummary,
  },
  {
    name: 'get_booking', operationId: 'getBooking', title: '查看预约 A booking', budget: 'booking', bearer: 'token', hints: READ,
    run: async (svc, i) => ({ answer: await svc.bookings.get(i.params.id, i.bearer!) as unknown as Json }),
    summary: bookingSummary,
  },
  {
    name: 'cancel_booking', operationId: 'cancelBooking', title: '取消预约 Cancel a booking', budget: 'booking', bearer: 'token',
    hints: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    run: async (svc, i) => ({ answer: await svc.bookings.cancel(i.params.id, i.bearer!) as unknown as Json }),
    summary: bookingSummary,
  },
];

const taxonomies = new WeakMap<Service['tax'], Json>();

/** `GET /v1/taxonomy`'s answer, built once per taxonomy. */
function taxonomyOf(svc: Service): Json {
  let answer = taxonomies.get(svc.tax);
  if (!answer) taxonomies.set(svc.tax, (answer = JSON.parse(taxonomyJson(svc.tax)) as Json));
  return answer;
}

/** A tool's description (Chinese, then English). */
export function describe(spec: Pick<ToolSpec, 'name'>): string {
  return DESCRIPTIONS[spec.name];
}
