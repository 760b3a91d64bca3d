/**
 * Calendar dates as `YYYY-MM-DD` strings (Asia/Shanghai calendar days), computed with UTC arithmetic only,
 * so that nothing here depends on the process's time zone.
 */

const DAY_MS = 86_400_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is a real date written `YYYY-MM-DD` (so `2026-02-30` is not). */
export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Throws a plain error naming `what` unless `text` is a `YYYY-MM-DD` date. */
export function assertIsoDate(text: string, what: string): void {
  if (typeof text !== 'string' || !isIsoDate(text)) throw new Error(`${what}: ${JSON.stringify(text)} is not a date written YYYY-MM-DD`);
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (no validation: call `isIsoDate` first on outside input). */
export function dayNumber(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

/** The `YYYY-MM-DD` date of a day number (days since 1970-01-01). */
export function fromDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The date `days` days after `date` (before, when negative). */
export function addDays(date: string, days: number): string {
  return fromDayNumber(dayNumber(date) + days);
}

/** Day of the week of a date: 0 Sunday, 1 Monday … 6 Saturday. */
export function weekday(date: string): number {
  return (dayNumber(date) + 4) % 7; // 1970-01-01 was a Thursday
}

/** The year of a `YYYY-MM-DD` date. */
export function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** The Beijing calendar date of an instant. */
export function shanghaiDate(instant: Date): string {
  return new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant of 00:00 Beijing time on a `YYYY-MM-DD` date. */
export function shanghaiMidnight(date: string): Date {
  return new Date(dayNumber(date) * DAY_MS - SHANGHAI_OFFSET_MS);
}
