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
  id: number;
  start: string;
  end: string;
  capacity: { individual: number; group: number };
  remaining: { individual: number; group: number };
  group_size?: { min: number; max: number };
}
export interface SlotPage { items: Slot[] }

/** A booking as the API answers it (`token` only in the answer that created it). */
export interface Booking {
  id: string;
  status: 'confirmed' | 'cancelled' | 'cancelled_by_venue' | 'no_show';
  slot: { id: number; resource_id: string; start: string; end: string };
  resource: { id: string; name: string | null };
  kind: 'individual' | 'group';
  party_size: number;
  contact: { name: string; phone: string };
  visitors: number;
  cancel_before: string;
  cancellable: boolean;
  cancelled_at: string | null;
  checkin_code: string;
  checked_in_at: string | null;
  token?: string;
}

/** A waitlist (候补) entry; `booking` (with its own token) once promoted. */
export interface WaitlistEntry {
  id: string;
  status: 'waiting' | 'promoted' | 'expired' | 'left';
  position?: number;
  reason?: string;
  slot: { id: number; resource_id: string; start: string; end: string };
  kind: 'individual' | 'group';
  party_size: number;
  expires_at: string;
  booking?: Booking;
  token?: string;
}

/** A resource's booking rules (`GET /v1/resources/{id}/booking-rules`). */
export interface BookingRules {
  resource_id: string;
  stored: boolean;
  window_days: number;
  /** `HH:MM`, Beijing time. */
  release_time: string;
  real_name: boolean;
  /** People one phone may book a day (individual bookings); null: no cap. */
  per_contact_daily: number | null;
  cancel_cutoff_hours: number;
  group: { min: number | null; max: number | null; org_code_required: boolean; batches_per_day: number | null };
  no_show: { limit: number; within_days: number; ban_days: number } | null;
}

/** What a booking request sends (`POST /v1/bookings`, and the same body to `POST /v1/waitlist`). */
export interface BookingRequest {
  slot_id: number;
  kind: 'individual' | 'group';
  party_size: number;
  contact: { name: string; phone: string };
  visitor_ids?: string[];
  group?: { org_code?: string; leader_id?: string };
}

/** A problem+json answer (or a network failure, with status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: { path: string; message: string }[]; [k: string]: unknown },
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }

  /** The problem's code, the last part of its `type` (`slot_full`, `out_of_scope` …); '' for none. */
  get code(): string {
    return typeof this.problem.type === 'string' ? this.problem.type.replace(/^.*\//, '') : '';
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
  let body: unknown = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    if (res.ok) throw new ApiError(res.status, { detail: 'the answer is not JSON' });
  }
  if (!res.ok) throw new ApiError(res.status, body as ApiError['problem']);
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

/** Any method with a JSON answer; `credential` (a booking token, a venue key) goes as a bearer token. */
export async function send<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string,
  options: { credential?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...language(), ...options.headers };
  if (options.credential) headers.Authorization = `Bearer ${options.credential}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, {});
  }
  return parse<T>(res);
}

/** A file only the holder of `credential` may read (a booking's .ics or QR code), as text. */
export async function fetchText(path: string, credential: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { Authorization: `Bearer ${credential}`, ...language() }, cache: 'no-store' });
  } catch {
    throw new ApiError(0, {});
  }
  if (!res.ok) return parse<never>(res);
  return res.text();
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
