/**
 * What this device keeps of the bookings made on it ("my bookings"): for each booking or waitlist entry its
 * id and its token — the token is the only way to read, cancel or leave it again, and the server keeps no
 * list of a family's bookings. Nothing else: no name, phone or ID number (everything shown is read from the
 * API with the token each time). Kept in localStorage under `edumap.mine`, so it survives a reload and a
 * restart of the browser; it goes when the user removes an item, or clears the site's data.
 */

/** One booking or waitlist entry held on this device. */
export interface Held {
  kind: 'booking' | 'waitlist';
  id: string;
  token: string;
  /** When it was saved here, epoch ms (newest first in the list). */
  savedAt: number;
}

const STORAGE_KEY = 'edumap.mine';
/** A booking id (`bk_…`) or an entry id (`wl_…`), and a token as the API makes them. */
const ID = /^(bk|wl)_[\w-]{1,64}$/;
const TOKEN = /^[\w.~+/=-]{16,512}$/;
/** The most items kept; the oldest go first (a family's bookings of a few weeks fit well within it). */
const MAX_ITEMS = 100;

/** Used when localStorage is off (private mode, a policy): the list lasts as long as the page. */
let memory: Held[] = [];
const listeners = new Set<() => void>();

function read(): Held[] {
  try {
    const text = localStorage.getItem(STORAGE_KEY);
    if (text === null) return memory;
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed.filter(valid) : [];
  } catch {
    return memory;
  }
}

function valid(x: unknown): x is Held {
  const h = x as Held;
  return typeof h === 'object' && h !== null && (h.kind === 'booking' || h.kind === 'waitlist')
    && typeof h.id === 'string' && ID.test(h.id) && typeof h.token === 'string' && TOKEN.test(h.token)
    && typeof h.savedAt === 'number';
}

function write(items: Held[]): void {
  memory = items.slice(0, MAX_ITEMS);
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(memory.map(({ kind, id, token, savedAt }) => ({ kind, id, token, savedAt }))));
  } catch {
    // storage is off or full: the list lasts for this page only
  }
  for (const f of listeners) f();
}

/** Everything held, newest first. */
export function held(): Held[] {
  return read().sort((a, b) => b.savedAt - a.savedAt);
}

/** Keeps a booking or waitlist entry (again: its token is replaced, e.g. after a replayed request). */
export function keep(kind: Held['kind'], id: string, token: string): void {
  if (!ID.test(id) || !TOKEN.test(token)) return;
  write([{ kind, id, token, savedAt: Date.now() }, ...read().filter((h) => h.id !== id)]);
}

/** Forgets one item (the user removed it, or the server no longer knows it). */
export function forget(id: string): void {
  write(read().filter((h) => h.id !== id));
}

/** A waitlist entry was promoted: the booking takes its place, with the booking's own token. */
export function promote(entryId: string, booking: { id: string; token: string }): void {
  const items = read();
  const at = items.find((h) => h.id === entryId)?.savedAt ?? Date.now();
  write([{ kind: 'booking', id: booking.id, token: booking.token, savedAt: at }, ...items.filter((h) => h.id !== entryId && h.id !== booking.id)]);
}

/** Calls `f` after every change, made on this page or in another tab of this site. */
export function onChange(f: () => void): void {
  if (!listeners.size) window.addEventListener('storage', (e) => {
    if (e.key === STORAGE_KEY) for (const g of listeners) g();
  });
  listeners.add(f);
}
