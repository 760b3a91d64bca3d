/** Beijing time: UTC+8 all year (no daylight saving). */
export const SHANGHAI_OFFSET_MIN = 8 * 60;

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parses an ISO 8601 date-time; one without an offset is Asia/Shanghai. Returns undefined when the text
 * is not a valid date-time (including impossible dates such as 02-30) or lies outside the years 1000–9998:
 * `Date.UTC` reads years 0–99 as 1900–1999, and the calendar asks about the days either side of a date,
 * which must be four-digit years too.
 */
export function parseDateTime(text: string): Date | undefined {
  const m = ISO_DATETIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0', ms = '0', zone] = m;
  const fields = [y, mo, d, h, mi, s].map(Number);
  if (fields[0] < 1000 || fields[0] > 9998) return undefined;
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], Number(ms.padEnd(3, '0')));
  const check = new Date(local);
  if (check.getUTCMonth() !== fields[1] - 1 || check.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) {
    return undefined;
  }
  let offsetMin = SHANGHAI_OFFSET_MIN;
  if (zone === 'Z') offsetMin = 0;
  else if (zone) offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return new Date(local - offsetMin * 60_000);
}

/** Formats an instant as ISO 8601 in Beijing time, e.g. `2026-11-29T09:30:00+08:00`. */
export function formatShanghai(instant: Date): string {
  const wall = new Date(instant.getTime() + SHANGHAI_OFFSET_MIN * 60_000);
  return wall.toISOString().replace(/\.\d{3}Z$/, '+08:00');
}

/**
 * A Date whose *local* fields (getHours, getDay …) in this process read as Beijing wall-clock time.
 * Libraries that work in local time (opening_hours) get Beijing time whatever the process's TZ is.
 */
export function shanghaiWallClock(instant: Date): Date {
  const wallMs = instant.getTime() + SHANGHAI_OFFSET_MIN * 60_000;
  const probe = new Date(wallMs);
  return new Date(wallMs + probe.getTimezoneOffset() * 60_000);
}

/** The instant of a Date whose local fields read as Beijing wall-clock time: the inverse of `shanghaiWallClock`. */
export function fromShanghaiWallClock(wall: Date): Date {
  return new Date(Date.UTC(wall.getFullYear(), wall.getMonth(), wall.getDate(), wall.getHours(), wall.getMinutes(), wall.getSeconds(),
    wall.getMilliseconds()) - SHANGHAI_OFFSET_MIN * 60_000);
}
