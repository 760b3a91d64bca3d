import { invalidField, invalidFields } from '../errors.js';
import type { Calendar } from '../calendar/calendar.js';
import { parseHoursWithCalendar } from '../calendar/hours.js';
import { addDays, dayNumber, isIsoDate, shanghaiDate, shanghaiMidnight } from '../calendar/dates.js';
import { formatShanghai } from '../time.js';
import { DATE_MESSAGE } from '../validation.js';
import type { NewSlot } from '../store/slots.js';
import { BOOKING_RULES } from './rules.js';
import { parseSlots, quotaErrors } from './slots.js';
import { openStretches, type HolidayPolicy, type Stretch } from './holiday-policy.js';

/**
 * A weekly schedule of one resource, as `POST /v1/resources/{id}/schedule` and `npm run schedule` take it.
 * The weekly rules and their exceptions are OpenStreetMap `opening_hours` (`Tu-Su 09:00-16:00; PH off`:
 * closed on Mondays and on China's public holidays, as `GET /v1/calendar` lists them, lunar ones too);
 * `holidays` can override what the hours say on those days, and `closed_dates` closes any other day.
 */
export interface ScheduleInput {
  /** OSM opening_hours; default the resource's own `opening_hours`. */
  hours?: string;
  /** Split each open stretch into slots this long, in minutes; default one slot per open stretch (a daily cap). */
  slot_minutes?: number;
  /** What becomes of the end of a stretch that `slot_minutes` does not fill (see `LastSlot`); default `short`. */
  last_slot?: LastSlot;
  /** What happens on public holidays (see `HolidayPolicy`); default `hours`. */
  holidays?: HolidayPolicy;
  /** First day (`YYYY-MM-DD`, Asia/Shanghai); default today. */
  from?: string;
  /** Number of days to materialise from `from`. */
  days?: number;
  /** Days (`YYYY-MM-DD`) without slots, whatever `hours` says. */
  closed_dates?: string[];
  capacity: { individual?: number; group?: number };
  group_size?: { min: number; max: number };
}

/**
 * When `slot_minutes` does not divide an open stretch (09:00–16:00 in 120-minute slots leaves 15:00–16:00):
 * `short` makes the rest a last, shorter slot (15:00–16:00; nothing is lost, the default); `extend` adds it
 * to the last slot (13:00–16:00); `drop` leaves it without a slot, and the answer lists it in `leftover`.
 * A stretch shorter than one slot is one short slot (`short`, `extend`) or left over (`drop`).
 */
export type LastSlot = 'short' | 'extend' | 'drop';

/** Open time a schedule left without a slot (`last_slot: drop`): its day, and ISO 8601 start and end. */
export interface Leftover {
  date: string;
  from: string;
  to: string;
}

/** A public holiday among a schedule's days, and how many slots the schedule gives it. */
export interface ScheduledHoliday {
  date: string;
  holiday: string;
  /** The year is not announced: the holiday is the statute's estimate. */
  estimated?: true;
  slots: number;
}

/** What a schedule gives: its slots and what the answer reports beside them. */
export interface Materialised {
  slots: NewSlot[];
  leftover: Leftover[];
  holidays: ScheduledHoliday[];
  /** Sentences for the operator: short or extended slots, time left over, estimated holidays. */
  warnings: string[];
}

/** Default number of days a schedule is materialised for (the coming four weeks). */
export const SCHEDULE_DAYS = 28;

const MINUTE_MS = 60_000;

/**
 * The slots a schedule gives from its first day for `days` days, in time order, leaving out those that
 * start before `nowMs` and those on `closed_dates`. `fallbackHours` is the resource's own opening_hours;
 * `PH` and the holiday policy read `calendar`. Throws a 400 naming the field.
 */
export function materialise(resourceId: string, input: ScheduleInput, fallbackHours: string | null, calendar: Calendar, nowMs: number): Materialised {
  const quota = quotaErrors(input, 'body');
  if (quota.length) throw invalidFields(quota);
  const text = input.hours ?? fallbackHours;
  if (!text) throw invalidField('body.hours', 'is required: the resource has no opening_hours of its own');
  const parsed = parseHoursWithCalendar(text, calendar);
  if ('error' in parsed) throw invalidField('body.hours', `is not valid opening_hours: ${parsed.error}`);
  const today = shanghaiDate(new Date(nowMs));
  const first = input.from ?? today;
  if (!isIsoDate(first)) throw invalidField('body.from', DATE_MESSAGE);
  // Slots start in the coming BOOKING_RULES.horizonDays; a schedule further off (either way) makes none.
  if (Math.abs(dayNumber(first) - dayNumber(today)) > BOOKING_RULES.horizonDays) {
    throw invalidField('body.from', `must be within ${BOOKING_RULES.horizonDays} days of today (${today})`);
  }
  (input.closed_dates ?? []).forEach((d, k) => {
    if (!isIsoDate(d)) throw invalidField(`body.closed_dates[${k}]`, DATE_MESSAGE);
  });
  const closed = new Set(input.closed_dates ?? []);
  const last = addDays(first, (input.days ?? SCHEDULE_DAYS) - 1);
  const policy = input.holidays ?? 'hours';
  const lastSlot = input.last_slot ?? 'short';
  // A slot or a leftover counts on the day it starts; days before now or closed have neither.
  const counts = (startMs: number) => startMs > nowMs && !closed.has(shanghaiDate(new Date(startMs)));

  const windows: Stretch[] = [];
  const leftover: Stretch[] = [];
  let short = 0;
  let extended = 0;
  for (const { start, end } of openStretches(parsed.hours, policy, shanghaiMidnight(first), shanghaiMidnight(addDays(last, 1)))) {
    if (!input.slot_minutes) {
      if (end - start > BOOKING_RULES.maxSlotHours * 60 * MINUTE_MS) {
        throw invalidField('body.hours', `opens for more than ${BOOKING_RULES.maxSlotHours} hours at a stretch; give slot_minutes`);
      }
      windows.push({ start, end });
      continue;
    }
    const step = input.slot_minutes * MINUTE_MS;
    let at = start;
    for (; at + step <= end; at += step) windows.push({ start: at, end: at + step });
    if (at === end) continue;
    const lastWindow = windows[windows.length - 1];
    if (lastSlot === 'drop') leftover.push({ start: at, end });
    else if (lastSlot === 'extend' && lastWindow && lastWindow.end === at) {
      if (end - lastWindow.start > BOOKING_RULES.maxSlotHours * 60 * MINUTE_MS) {
        throw invalidField('body.last_slot', `extend makes a slot longer than ${BOOKING_RULES.maxSlotHours} hours; use short or drop`);
      }
      lastWindow.end = end;
      if (counts(lastWindow.start)) extended++;
    } else {
      windows.push({ start: at, end });
      if (counts(at)) short++;
    }
  }
  const kept = windows.filter((w) => counts(w.start));
  const horizonMs = nowMs + BOOKING_RULES.horizonDays * 86_400_000;
  const beyond = kept.find((w) => w.start > horizonMs);
  if (beyond) {
    throw invalidField('body.days', `reaches ${formatShanghai(new Date(beyond.start))}, past the ${BOOKING_RULES.horizonDays} days ahead that slots may be made for (until ${formatShanghai(new Date(horizonMs))}): give fewer days`);
  }
  if (kept.length > BOOKING_RULES.maxSlotsPerRequest) {
    throw invalidField('body.days', `makes ${kept.length} slots; at most ${BOOKING_RULES.maxSlotsPerRequest} a request (fewer days or longer slot_minutes)`);
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  const slots = parseSlots(resourceId, kept.map((w) => ({
    start: iso(w.start), end: iso(w.end), capacity: input.capacity, group_size: input.group_size,
  })), nowMs);

  const left = leftover.filter((w) => counts(w.start))
    .map((w) => ({ date: shanghaiDate(new Date(w.start)), from: formatShanghai(new Date(w.start)), to: formatShanghai(new Date(w.end)) }));
  const holidays = calendar.days(first, last).filter((d) => d.holiday !== undefined).map((d) => ({
    date: d.date, holiday: d.holiday!, ...(d.estimated && { estimated: true as const }),
    slots: kept.filter((w) => shanghaiDate(new Date(w.start)) === d.date).length,
  }));
  const warnings: string[] = [];
  if (short) warnings.push(`${short} slots are shorter than ${input.slot_minutes} minutes: the end of an open stretch that slot_minutes does not fill (last_slot: short)`);
  if (extended) warnings.push(`${extended} slots are longer than ${input.slot_minutes} minutes: the end of an open stretch added to its last slot (last_slot: extend)`);
  if (left.length) warnings.push(`${left.length} stretches of open time have no slot (last_slot: drop); they are listed in leftover`);
  if (last > calendar.coveredThrough && (policy !== 'hours' || parsed.hours.usesPublicHolidays)) {
    warnings.push(`the public holidays after ${calendar.coveredThrough} are estimated (that year is not announced yet): once its notice is loaded ` +
      '(npm run calendar -- import), check the slots of the days it makes holidays or working days');
  }
  return { slots, leftover: left, holidays, warnings };
}
