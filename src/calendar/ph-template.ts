import { dayNumber, fromDayNumber } from './dates.js';

/**
 * `PH` rewritten as weekdays, one day at a time. opening_hours offers no way to supply holidays, so the
 * calendar decides `PH` itself: the state at an instant of day D depends only on whether D and D-1 match
 * each rule (D-1 for times that run past midnight), and those two days have different weekdays. So, for
 * day D, each `PH` is replaced by the weekdays among D-1 and D that are holidays — or, when neither is,
 * by a weekday that is neither (it matches nothing the library looks at). The rewritten text has the
 * same meaning as the original for every instant of D, and the library evaluates it unchanged.
 *
 * The template is made from the library's canonical text (`prettifyValue`), where every spelling of a
 * public holiday (`ph`, `public holidays`, `feiertags` …) is written `PH` and selectors are in order.
 */

/** A `PH` of the canonical text, and what it meant there. */
interface PhSlot {
  /** `PH +1 day` matches the day after a holiday (1), `PH -1 day` the day before (-1), `PH` the day (0). */
  readonly offsetDays: number;
  /** For `PH Mo-Fr` (a holiday that falls on Monday to Friday): those weekdays, 0 = Sunday. */
  readonly onWeekdays?: ReadonlySet<number>;
}

/** A canonical opening_hours text with its `PH`s cut out: `parts[0] slot0 parts[1] slot1 … parts[n]`. */
export interface PhTemplate {
  readonly parts: readonly string[];
  readonly slots: readonly PhSlot[];
}

const WEEKDAYS = ['Su', 'Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa'];
// A comment in quotes, or PH with its optional offset.
const TOKEN = /"[^"]*"|(?<![A-Za-z])PH(?: ([+-])(\d+) days?)?(?![A-Za-z])/g;
// `PH` followed by weekdays, which the library reads as "a holiday that falls on those weekdays".
const WEEKDAYS_AFTER = /^ ((?:Mo|Tu|We|Th|Fr|Sa|Su)[^\s;"|]*)/;
const SIMPLE_WEEKDAYS = /^(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?(?:,(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?)*$/;

/**
 * The template of a canonical opening_hours text (the library's `prettifyValue()`), null when it has no
 * `PH`, or an error for the one form it cannot rewrite: `PH` followed by weekdays with `[n]` (`PH Mo[1]`).
 */
export function phTemplate(canonical: string): PhTemplate | null | { error: string } {
  const parts: string[] = [];
  const slots: PhSlot[] = [];
  let copied = 0;
  for (const m of canonical.matchAll(TOKEN)) {
    if (m[0].startsWith('"')) continue;
    const at = m.index!;
    let end = at + m[0].length;
    const offsetDays = m[1] ? (m[1] === '-' ? -1 : 1) * Number(m[2]) : 0;
    let onWeekdays: Set<number> | undefined;
    // In a list (`Sa,PH`, `PH,Su`) PH is one more day of the list; otherwise it narrows what follows it.
    if (canonical[at - 1] !== ',' && canonical[end] !== ',') {
      const after = WEEKDAYS_AFTER.exec(canonical.slice(end));
      if (after) {
        if (!SIMPLE_WEEKDAYS.test(after[1])) {
          return { error: `"${m[0]} ${after[1]}": PH followed by weekdays is supported with plain weekdays only (PH Mo-Fr, PH Sa,Su)` };
        }
        onWeekdays = weekdaySet(after[1]);
        end += after[0].length;
      }
    }
    parts.push(canonical.slice(copied, at));
    slots.push({ offsetDays, onWeekdays });
    copied = end;
  }
  if (slots.length === 0) return null;
  parts.push(canonical.slice(copied));
  return { parts, slots };
}

/**
 * The text that means, for every instant of `date` (`YYYY-MM-DD`), what the template means with `PH` =
 * the days `isHoliday` says. Texts repeat from day to day, so callers can keep one parse per text.
 */
export function phTextForDay(template: PhTemplate, date: string, isHoliday: (date: string) => boolean): string {
  const day = dayNumber(date);
  const window = [day - 1, day];
  const weekdays = window.map((n) => (n + 4) % 7); // 1970-01-01 was a Thursday
  const never = weekdays.includes(3) ? 'Sa' : 'We'; // a weekday that is neither D-1 nor D
  const asked = new Map<number, boolean>(); // each of D-2 … D+1 is asked once
  const holiday = (n: number) => {
    let is = asked.get(n);
    if (is === undefined) asked.set(n, (is = isHoliday(fromDayNumber(n))));
    return is;
  };
  let text = template.parts[0];
  template.slots.forEach((slot, i) => {
    const names: string[] = [];
    window.forEach((n, j) => {
      if (holiday(n - slot.offsetDays) && (!slot.onWeekdays || slot.onWeekdays.has(weekdays[j]))) names.push(WEEKDAYS[weekdays[j]]);
    });
    text += (names.length ? names.join(',') : never) + template.parts[i + 1];
  });
  return text;
}

/** The weekdays (0 = Sunday) of a plain list such as `Mo-Fr,Su`; a range may wrap (`Fr-Mo`). */
function weekdaySet(list: string): Set<number> {
  const set = new Set<number>();
  for (const item of list.split(',')) {
    const [first, last = first] = item.split('-').map((name) => WEEKDAYS.indexOf(name));
    for (let d = first; ; d = (d + 1) % 7) {
      set.add(d);
      if (d === last) break;
    }
  }
  return set;
}
