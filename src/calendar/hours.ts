import OpeningHours from 'opening_hours';
import { fromShanghaiWallClock, shanghaiWallClock } from '../time.js';
import type { Calendar } from './calendar.js';
import { addDays, shanghaiDate, shanghaiMidnight } from './dates.js';
import { phTemplate, phTextForDay, type PhTemplate } from './ph-template.js';

// Beijing, for sunrise/sunset; its public holidays are the calendar's, never the library's list.
const BEIJING = { lat: 39.9042, lon: 116.4074, address: { country_code: 'cn', state: '北京市' } };

type Library = InstanceType<typeof OpeningHours>;

/** OSM opening_hours whose `PH` means the public holidays of a `Calendar` (and never 3/8, 5/4 or 6/1). */
export interface CalendarHours {
  /** The text as given. */
  readonly text: string;
  /** The calendar that `PH` is read with. */
  readonly calendar: Calendar;
  /** Whether the text says anything about public holidays; when not, no calendar changes its answers. */
  readonly usesPublicHolidays: boolean;
  /** The same hours read with another calendar (a newly loaded year): parses nothing again. */
  withCalendar(calendar: Calendar): CalendarHours;
}

/** An open (or unknown) stretch of time, as instants. */
export interface OpenInterval {
  readonly start: Date;
  readonly end: Date;
  /** The hours say "unknown" (a comment without a state, `open end`), not plainly open. */
  readonly unknown: boolean;
  readonly comment?: string;
}

/**
 * Parses OSM opening_hours for Beijing; returns the hours or the library's first line of complaint, like
 * `parseHours` of `src/hours.ts`. Costs one library parse (≈0.5 ms) and a `prettifyValue` (≈0.03 ms);
 * each distinct rewriting of `PH` is parsed once more, when first evaluated (see `ph-template.ts`).
 */
export function parseHoursWithCalendar(text: string, calendar: Calendar): { hours: CalendarHours } | { error: string } {
  let plain: Library;
  try {
    plain = new OpeningHours(text, BEIJING);
  } catch (e) {
    return { error: String(e).split('\n')[0].trim() };
  }
  const template = phTemplate(plain.prettifyValue());
  if (template && 'error' in template) return { error: template.error };
  return { hours: new Bound(text, calendar, new Parsed(plain, template)) };
}

/**
 * Parses one typical text, so that the first request that reads hours does not pay for the library's
 * start: a thread's first parse took 33 ms and its next ones 1–5 ms (a script; on a loaded machine a
 * server's first one held its event loop ≈95 ms, in a 10-row import). Servers call it while they start.
 */
export function warmUpHours(): void {
  new OpeningHours('Mo-Fr 08:30-17:00; Sa,Su 09:00-12:00; PH off', BEIJING).prettifyValue();
}

/** Whether the hours say open at the instant (Beijing time). Unknown is not open. */
export function isOpenAt(hours: CalendarHours, instant: Date): boolean {
  const h = bound(hours);
  return h.parsed.forDay(shanghaiDate(instant), h.calendar).getState(shanghaiWallClock(instant));
}

/**
 * The open and unknown intervals from `from` to `to` (instants), in order, cut to that range; what the
 * library's `getOpenIntervals` answers, but in instants rather than wall-clock Dates, and with `PH` read
 * from the calendar. An interval that runs across midnight is one interval.
 */
export function openIntervals(hours: CalendarHours, from: Date, to: Date): OpenInterval[] {
  const h = bound(hours);
  const out: OpenInterval[] = [];
  if (!(from < to)) return out;
  const last = shanghaiDate(new Date(to.getTime() - 1));
  // Days whose rewritten text is the same are asked in one call.
  for (let day = shanghaiDate(from); day <= last;) {
    const evaluator = h.parsed.forDay(day, h.calendar);
    let next = addDays(day, 1);
    while (next <= last && h.parsed.forDay(next, h.calendar) === evaluator) next = addDays(next, 1);
    const start = new Date(Math.max(from.getTime(), shanghaiMidnight(day).getTime()));
    const end = new Date(Math.min(to.getTime(), shanghaiMidnight(next).getTime()));
    for (const [a, b, unknown, comment] of evaluator.getOpenIntervals(shanghaiWallClock(start), shanghaiWallClock(end))) {
      const interval = { start: fromShanghaiWallClock(a), end: fromShanghaiWallClock(b), unknown, ...(comment === undefined ? {} : { comment }) };
      const prev = out[out.length - 1];
      if (prev && prev.end.getTime() === interval.start.getTime() && prev.unknown === unknown && prev.comment === comment) {
        out[out.length - 1] = { ...prev, end: interval.end };
      } else {
        out.push(interval);
      }
    }
    day = next;
  }
  return out;
}

/** What parsing gave, shared by every calendar the hours are read with. */
class Parsed {
  /** Library parses of the texts `PH` was rewritten to, by text (a handful per hours text). */
  private readonly rewritten = new Map<string, Library>();

  constructor(readonly plain: Library, readonly template: PhTemplate | null) {}

  /** The library object that answers correctly for every instant of `date` with this calendar. */
  forDay(date: string, calendar: Calendar): Library {
    if (!this.template) return this.plain;
    const text = phTextForDay(this.template, date, (d) => calendar.isHoliday(d));
    let parsed = this.rewritten.get(text);
    if (!parsed) this.rewritten.set(text, (parsed = parseRewritten(text)));
    return parsed;
  }
}

class Bound implements CalendarHours {
  constructor(readonly text: string, readonly calendar: Calendar, readonly parsed: Parsed) {}

  get usesPublicHolidays(): boolean {
    return this.parsed.template !== null;
  }

  withCalendar(calendar: Calendar): CalendarHours {
    return new Bound(this.text, calendar, this.parsed);
  }
}

function bound(hours: CalendarHours): Bound {
  if (!(hours instanceof Bound)) throw new Error('hours must come from parseHoursWithCalendar');
  return hours;
}

/** A rewritten text; the library accepted the original, so a refusal here means the library has changed. */
function parseRewritten(text: string): Library {
  try {
    return new OpeningHours(text, BEIJING);
  } catch (e) {
    throw new Error(`opening_hours refused the PH rewrite ${JSON.stringify(text)}: ${String(e).split('\n')[0]}`, { cause: e });
  }
}
