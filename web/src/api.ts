/** The edumap API as the page uses it: same origin only, JSON in and out, problems as `ApiError`. */
import { lang } from './i18n.js';

export type LngLat = [number, number];

export interface Label { zh: string; en: string }
export interface Term { id: string; facet: string; label: Label; aliases: string[]; parent: string | null; children: string[] }
export interface Taxonomy { version: string; terms: Term[] }

export interface Resource {
  id: string;
  name: string;
  name_en: string | null;
  type: string;
  tags: string[];
  stages: string[];
  district: { code: string; name: string };
  location: { lng: number; lat: number };
  address: string | null;
  opening_hours: string | null;
  free: boolean | null;
  booking_required: boolean | null;
  phone: string | null;
  url: string | null;
  source: string | null;
  notes?: string | null;
  distance_m?: number;
}

export interface ResourcePage { crs: string; count: number; items: Resource[]; next_cursor: string | null }

export interface Marker {
  kind: 'cluster' | 'resource';
  id: string;
  count: number;
  lng: number;
  lat: number;
  expansion_zoom?: number;
  domains?: Record<string, number>;
  name?: string;
  name_en?: string | null;
  type?: string | null;
  domain?: string | null;
}
export interface ClusterPage { crs: string; zoom: number; total: number; count: number; items: Marker[] }

export interface AreaFeature {
  type: 'Feature';
  id: string;
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: number[][][] | number[][][][] };
  properties: { name: string; kind: string };
}
/** `GET /v1/areas?format=geojson`: every outline in one answer. */
export interface AreaCollection { type: 'FeatureCollection'; crs: string; features: AreaFeature[] }

export interface Slot {
  id: number | string;
  start: string;
  end: string;
  capacity: { individual: number; group: number };
  remaining: { individual: number; group: number };
  group_size?: { min: number; max: number };
}
export interface SlotPage { items: Slot[] }

export interface Booking {
  id: string;
  status: string;
  slot: Slot & { resource_id?: string };
  kind?: string;
  party_size: number;
  token: string;
  contact?: { name: string; phone: string };
}

/** A problem+json answer (or a network failure, with status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: { path: string; message: string }[]; [k: string]: unknown },
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

/** Query parameters; arrays repeat the name (`tag=a&tag=b`), empty values are left out. */
export type Params = Record<string, string | number | boolean | string[] | null | undefined>;

export function queryString(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  const body = text ? JSON.parse(text) : {};
  if (!res.ok) throw new ApiError(res.status, body);
  return body as T;
}

/** The page's language for the API: problems are answered in Chinese when the page is Chinese. */
function language(): Record<string, string> {
  return { 'Accept-Language': lang() === 'zh' ? 'zh-CN,zh;q=0.9' : 'en' };
}

/** GET a JSON answer from this server. */
export async function getJson<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path + queryString(params), {
    headers: { Accept: 'application/json, application/geo+json, application/problem+json', ...language() }, signal,
  });
  return parse<T>(res);
}

/** POST a JSON body to this server. */
export async function postJson<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json', ...language(), ...headers },
    body: JSON.stringify(body),
  });
  return parse<T>(res);
}

/** A random UUID, also where `crypto.randomUUID` is missing (plain http on a LAN address). */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
