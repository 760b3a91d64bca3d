import { invalidField } from '../errors.js';
import { openIntervals, type CalendarHours } from '../calendar/hours.js';
import type { Snapshot } from '../engine/snapshot.js';
import { parseDateTime } from '../time.js';

/** When the family wants to go: an instant, or a window [from, to). */
export type When = { at: Date } | { from: Date; to: Date };

/**
 * A visit needs this long, in minutes: a place is open in a window when its hours give one unbroken open
 * stretch at least this long inside it (or the whole window, when the window is shorter).
 */
export const VISIT_MINUTES = 60;

/** Widest window of `needs.time`, in days (as for seats). */
export const MAX_WINDOW_DAYS = 92;

/** Whether a candidate is open when the family would go, and what was judged. */
export interface OpenVerdict {
  /** null: the resource's hours are unknown. */
  open: boolean | null;
  /** `at`: the instant asked; `window`: the window asked (see VISIT_MINUTES); `slot`: the slot the pick would book. */
  judged: 'at' | 'window' | 'slot';
  /** The instant judged, or the start of the window or of the slot. */
  at: Date;
  /** For `window`, the longest open stretch inside it (when there is one); for `slot`, the slot. */
  from?: Date;
  to?: Date;
}

/** A slot as the seat index names it (ISO 8601 start and end). */
export interface ProposedSlot {
  start: string;
  end: string;
}

/** `needs.time` parsed: `at`, or `from` and `to` (at most MAX_WINDOW_DAYS apart); a 400 naming the field. */
export function parseWhen(time: { at?: string; from?: string; to?: string } | undefined): When | undefined {
  if (!time) return undefined;
  const parse = (text: string | undefined, field: string) => {
    if (text === undefined) return undefined;
    const at = parseDateTime(text);
    if (!at) throw invalidField(`body.needs.time.${field}`, 'must be an ISO 8601 date-time');
    return at;
  };
  const at = parse(time.at, 'at');
  const from = parse(time.from, 'from');
  const to = parse(time.to, 'to');
  if (at) return { at };
  if (!from || !to) throw invalidField('body.needs.time', 'needs at, or from and to');
  if (to <= from) throw invalidField('body.needs.time.to', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * 86_400_000) {
    throw invalidField('body.needs.time.to', `must be at most ${MAX_WINDOW_DAYS} days after from`);
  }
  return { from, to };
}

/**
 * A judge of candidates of one request: open at `when.at`; in a window, open for a visit (an unbroken
 * open stretch of VISIT_MINUTES inside it, or the whole of a shorter window); and when `slotOf` proposes
 * a slot for the candidate, open for the whole of that slot instead — the time the family would really
 * come. `PH` reads the snapshot's calendar; stretches the hours call unknown do not count as open. The
 * verdict is null when there is nothing to judge (no time, no slot). Hours texts repeat, so each text is
 * evaluated once per window or slot.
 */
export function openJudge(snap: Snapshot, when: When | undefined, slotOf?: (i: number) => ProposedSlot | null | undefined): (i: number) => OpenVerdict | null {
  const atMemo = when && 'at' in when ? snap.openMemo(when.at) : undefined;
  const windows = new Map<number, Pick<OpenVerdict, 'open' | 'from' | 'to'>>();
  const slots = new Map<string, boolean>();
  return (i) => {
    const slot = slotOf?.(i);
    const hours = snap.hoursOf(i);
    if (slot) {
      const from = parseDateTime(slot.start)!;
      const to = parseDateTime(slot.end)!;
      if (hours === null) return { open: null, judged: 'slot', at: from, from, to };
      const key = `${snap.hoursCode[i]} ${from.getTime()} ${to.getTime()}`;
      let open = slots.get(key);
      if (open === undefined) slots.set(key, (open = covers(hours, from, to)));
      return { open, judged: 'slot', at: from, from, to };
    }
    if (!when) return null;
    if ('at' in when) return { open: hours === null ? null : snap.openAt(i, when.at, atMemo!), judged: 'at', at: when.at };
    if (hours === null) return { open: null, judged: 'window', at: when.from };
    const code = snap.hoursCode[i];
    let verdict = windows.get(code);
    if (!verdict) windows.set(code, (verdict = visit(hours, when.from, when.to)));
    return { ...verdict, judged: 'window', at: when.from };
  };
}

/** Whether the hours say open (not unknown) for the whole of [from, to). */
function covers(hours: CalendarHours, from: Date, to: Date): boolean {
  const [first] = openIntervals(hours, from, to); // adjacent stretches are merged, so a covered range is one
  return first !== undefined && !first.unknown && first.start.getTime() === from.getTime() && first.end.getTime() === to.getTime();
}

/** The longest open stretch inside [from, to), and whether it is long enough for a visit. */
function visit(hours: CalendarHours, from: Date, to: Date): Pick<OpenVerdict, 'open' | 'from' | 'to'> {
  let best: { start: Date; end: Date } | undefined;
  for (const stretch of openIntervals(hours, from, to)) {
    if (stretch.unknown) continue;
    if (!best || stretch.end.getTime() - stretch.start.getTime() > best.end.getTime() - best.start.getTime()) best = stretch;
  }
  if (!best) return { open: false };
  const needMs = Math.min(VISIT_MINUTES * 60_000, to.getTime() - from.getTime());
  return { open: best.end.getTime() - best.start.getTime() >= needMs, from: best.start, to: best.end };
}
