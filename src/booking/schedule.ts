import { invalidField, invalidFields } from '../errors.js';
import type { Calendar } from '../calendar/calendar.js';
import { openIntervals, parseHoursWithCalendar } from '../calendar/hours.js';
import { SHANGHAI_OFFSET_MIN } from '../time.js';
import type { NewSlot } from '../store/slots.js';
import { BOOKING_RULES } from './rules.js';
import { parseSlots, quotaErrors, shanghaiDay } from './slots.js';

/**
 * A weekly schedule of one resource, as `POST /v1/resources/{id}/schedule` and `npm run schedule` take it.
 * The weekly rules and their exceptions are OpenStreetMap `opening_hours` (`Tu-Su 09:00-16:00; PH off`:
 * closed on Mondays and on the public holidays the opening_hours library knows for Beijing); dates it does
 * not know (the lunar holidays, a day closed for maintenance) go in `closed_dates`.
 */
export interface ScheduleInput {
  /** OSM opening_hours; default the resource's own `opening_hours`. */
  hours?: string;
  /** Split each open interval into slots this long, in minutes; default one slot per open interval (a daily cap). */
  slot_minutes?: number;
  /** First day (`YYYY-MM-DD`, Asia/Shanghai); default today. */
  from?: string;
  /** Number of days to materialise from `from`. */
  days?: number;
  /** Days (`YYYY-MM-DD`) without slots, whatever `hours` says. */
  closed_dates?: string[];
  capacity: { individual?: number; group?: number };
  group_size?: { min: number; max: number };
}

/** Default number of days a schedule is materialised for (the coming four weeks). */
export const SCHEDULE_DAYS = 28;

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * The slots a schedule gives from its first day for `days` days, in time order, leaving out those that
 * start before `nowMs`. `fallbackHours` is the resource's own opening_hours. Throws a 400 naming the field.
 */
export function materialise(resourceId: string, input: ScheduleInput, fallbackHours: string | null, calendar: Calendar, nowMs: number): NewSlot[] {
  const quota = quotaErrors(input, 'body');
  if (quota.length) throw invalidFields(quota);
  const text = input.hours ?? fallbackHours;
  if (!text) throw invalidField('body.hours', 'is required: the resource has no opening_hours of its own');
  const parsed = parseHoursWithCalendar(text, calendar);
  if ('error' in parsed) throw invalidField('body.hours', `is not valid opening_hours: ${parsed.error}`);
  const firstDayMs = input.from === undefined ? dayStart(shanghaiDay(nowMs)) : dayStart(input.from, 'body.from');
  const days = input.days ?? SCHEDULE_DAYS;
  const closed = new Set(input.closed_dates ?? []);
  for (const [k, d] of (input.closed_dates ?? []).entries()) dayStart(d, `body.closed_dates[${k}]`);

  const windows: { start: number; end: number }[] = [];
  for (const interval of openIntervals(parsed.hours, new Date(firstDayMs), new Date(firstDayMs + days * DAY_MS))) {
    if (interval.unknown) continue;
    const start = interval.start.getTime();
    const end = interval.end.getTime();
    if (!input.slot_minutes) {
      if (end - start > BOOKING_RULES.maxSlotHours * 60 * MINUTE_MS) {
        throw invalidField('body.hours', `opens for more than ${BOOKING_RULES.maxSlotHours} hours at a stretch; give slot_minutes`);
      }
      windows.push({ start, end });
      continue;
    }
    const step = input.slot_minutes * MINUTE_MS;
    for (let at = start; at + step <= end; at += step) windows.push({ start: at, end: at + step });
  }
  const kept = windows.filter((w) => w.start > nowMs && !closed.has(shanghaiDay(w.start)));
  if (kept.length > BOOKING_RULES.maxSlotsPerRequest) {
    throw invalidField('body.days', `makes ${kept.length} slots; at most ${BOOKING_RULES.maxSlotsPerRequest} a request (fewer days or longer slot_minutes)`);
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  return parseSlots(resourceId, kept.map((w) => ({
    start: iso(w.start), end: iso(w.end), capacity: input.capacity, group_size: input.group_size,
  })), nowMs);
}

/** Epoch ms of midnight, Asia/Shanghai, of a `YYYY-MM-DD` day; a 400 naming `field` when it is not one. */
function dayStart(day: string, field = 'body.from'): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(ms).getUTCDate() !== Number(m[3])) throw invalidField(field, 'must be a date such as 2026-12-05');
  return ms - SHANGHAI_OFFSET_MIN * MINUTE_MS;
}
