import { packageCalendar } from '../src/calendar/official.js';
import { materialise, type ScheduleInput } from '../src/booking/schedule.js';
import { formatShanghai } from '../src/time.js';

/**
 * Weekly schedules as slots (`materialise`, the rule behind `POST /v1/resources/{id}/schedule` and `npm run
 * schedule`), on 2026 dates from a clock set to New Year 2026: the end of a stretch that slots do not fill,
 * and the holiday policies over National Day (10/1–7; 10/5 a Monday) and 春节 (2/15–23).
 */

const calendar = packageCalendar();
const NEW_YEAR_2026 = Date.parse('2026-01-01T00:00:00+08:00');

const schedule = (input: Partial<ScheduleInput>, nowMs = NEW_YEAR_2026) =>
  materialise('museum', { capacity: { individual: 10 }, ...input }, null, calendar, nowMs);
/** Slots as `MM-DD HH:MM–HH:MM`, Beijing time. */
const slots = (input: Partial<ScheduleInput>) => schedule(input).slots.map((s) => {
  const [start, end] = [s.startMs, s.endMs].map((ms) => formatShanghai(new Date(ms)));
  return `${start.slice(5, 10)} ${start.slice(11, 16)}–${end.slice(11, 16)}`;
});
/** The days that get slots, `MM-DD`. */
const openDays = (input: Partial<ScheduleInput>) => [...new Set(slots(input).map((s) => s.slice(0, 5)))];

describe('slots that do not fill an open stretch', () => {
  const day = { hours: 'Mo-Su 09:00-16:00', from: '2026-03-10', days: 1, slot_minutes: 120 };

  test('09:00-16:00 in 120-minute slots keeps 15:00–16:00 as a short last slot by default, and says so', () => {
    const got = schedule(day);
    expect(slots(day)).toEqual(['03-10 09:00–11:00', '03-10 11:00–13:00', '03-10 13:00–15:00', '03-10 15:00–16:00']);
    expect(got.leftover).toEqual([]);
    expect(got.warnings).toEqual([expect.stringMatching(/^1 slots are shorter than 120 minutes.*last_slot: short/)]);
  });

  test('last_slot extend lengthens the last slot to the end of the stretch', () => {
    expect(slots({ ...day, last_slot: 'extend' })).toEqual(['03-10 09:00–11:00', '03-10 11:00–13:00', '03-10 13:00–16:00']);
    expect(schedule({ ...day, last_slot: 'extend' }).warnings).toEqual([expect.stringMatching(/^1 slots are longer than 120 minutes/)]);
  });

  test('last_slot drop leaves 15:00–16:00 without a slot and lists it in leftover', () => {
    const got = schedule({ ...day, last_slot: 'drop' });
    expect(got.slots).toHaveLength(3);
    expect(got.leftover).toEqual([{ date: '2026-03-10', from: '2026-03-10T15:00:00+08:00', to: '2026-03-10T16:00:00+08:00' }]);
    expect(got.warnings).toEqual([expect.stringMatching(/^1 stretches of open time have no slot \(last_slot: drop\)/)]);
  });

  test('a stretch shorter than one slot is one short slot, or left over with drop', () => {
    const short = { hours: 'Mo-Su 09:00-09:30', from: '2026-03-10', days: 1, slot_minutes: 60 };
    expect(slots(short)).toEqual(['03-10 09:00–09:30']);
    expect(slots({ ...short, last_slot: 'extend' })).toEqual(['03-10 09:00–09:30']);
    expect(schedule({ ...short, last_slot: 'drop' })).toMatchObject({ slots: [], leftover: [{ date: '2026-03-10' }] });
  });

  test('slots that fill the stretch exactly leave nothing and warn of nothing; no slot_minutes is one slot a stretch', () => {
    expect(schedule({ ...day, slot_minutes: 60 })).toMatchObject({ leftover: [], warnings: [] });
    expect(slots({ ...day, slot_minutes: undefined })).toEqual(['03-10 09:00–16:00']);
  });

  test('leftover of a closed date, or of a day already past, is not reported', () => {
    expect(schedule({ ...day, last_slot: 'drop', closed_dates: ['2026-03-10'] })).toMatchObject({ slots: [], leftover: [], warnings: [] });
    expect(schedule({ ...day, from: '2025-12-31', last_slot: 'drop' })).toMatchObject({ slots: [], leftover: [] });
  });
});

test('a first day more than 366 days from today, either way, is a 400 naming body.from (it could make no slot)', () => {
  expect(() => schedule({ hours: 'Mo-Su 09:00-16:00; PH off', from: '0100-01-01' })).toThrow(/body.from: must be within 366 days of today \(2026-01-01\)/);
  expect(() => schedule({ hours: 'Mo-Su 09:00-16:00; PH off', from: '2027-01-03' })).toThrow(/body.from/);
  // Days past the booking horizon are a 400 naming body.days, not one about slots the request never had.
  expect(() => schedule({ hours: 'Mo-Su 09:00-16:00', from: '2027-01-01', days: 3 })).toThrow(/^body.days: reaches 2027-01-02T09:00:00\+08:00, past the 366 days/);
  expect(schedule({ hours: 'Mo-Su 09:00-16:00', from: '2027-01-01', days: 1 }).slots).toHaveLength(1);
});

describe('holidays: what a schedule does on public holidays (National Day 2026: 10/1–7, 10/5 a Monday)', () => {
  const week = { from: '2026-09-29', days: 14 }; // Tuesday 9/29 to Monday 10/12
  const NATIONAL_DAY = ['10-01', '10-02', '10-03', '10-04', '10-05', '10-06', '10-07'];
  const ORDINARY = ['09-29', '09-30', '10-08', '10-09', '10-10', '10-11']; // 10/10 a make-up working Saturday: open as a Saturday

  test('hours (default): PH in hours decides — PH off closes the holidays, PH hours open them (a Monday too)', () => {
    expect(openDays({ ...week, hours: 'Tu-Su 09:00-16:00; PH off' })).toEqual(ORDINARY);
    expect(slots({ ...week, hours: 'Tu-Su 09:00-16:00; PH 10:00-15:00' }).filter((s) => NATIONAL_DAY.includes(s.slice(0, 5))))
      .toEqual(NATIONAL_DAY.map((d) => `${d} 10:00–15:00`));
    expect(openDays({ ...week, hours: 'Tu-Su 09:00-16:00' })).toEqual([...ORDINARY.slice(0, 2), '10-01', '10-02', '10-03', '10-04', '10-06', '10-07',
      ...ORDINARY.slice(2)]); // hours without PH: a holiday is any day of its weekday, so Monday 10/5 is closed
  });

  test('closed: no slots on a holiday, whatever the hours say', () => {
    for (const hours of ['Tu-Su 09:00-16:00', 'Tu-Su 09:00-16:00; PH 10:00-15:00']) {
      expect([hours, openDays({ ...week, hours, holidays: 'closed' })]).toEqual([hours, ORDINARY]);
    }
    expect(openDays({ ...week, hours: 'Mo-Su 09:00-16:00', holidays: 'closed' })).toEqual([...ORDINARY, '10-12']);
  });

  test('as_weekday: a holiday is an ordinary day of its weekday — PH rules ignored, Monday 10/5 stays closed', () => {
    const days = openDays({ ...week, hours: 'Tu-Su 09:00-16:00; PH off', holidays: 'as_weekday' });
    expect(days).toEqual(['09-29', '09-30', '10-01', '10-02', '10-03', '10-04', '10-06', '10-07', '10-08', '10-09', '10-10', '10-11']);
    expect(slots({ ...week, hours: 'Tu-Su 09:00-16:00; PH 10:00-15:00', holidays: 'as_weekday' })).toContain('10-06 09:00–16:00');
  });

  test('open: every holiday opens — its own hours, else its weekday without PH, else those of the last ordinary day before it', () => {
    // PH off on Tuesday to Sunday: the weekday's hours; Monday 10/5: those of Wednesday 9/30.
    expect(openDays({ ...week, hours: 'Tu-Su 09:00-16:00; PH off', holidays: 'open' })).toEqual([...ORDINARY.slice(0, 2), ...NATIONAL_DAY, ...ORDINARY.slice(2)]);
    expect(slots({ ...week, hours: 'Tu-Su 09:00-16:00; PH off', holidays: 'open' })).toContain('10-05 09:00–16:00');
    // Holiday hours of its own are kept.
    expect(slots({ ...week, hours: 'Tu-Su 09:00-16:00; PH 10:00-15:00', holidays: 'open' })).toContain('10-05 10:00–15:00');
    // 故宫's seasonal hours: 9/30 is in Apr–Oct, so Monday 10/5 opens 08:30–17:00.
    expect(slots({ ...week, hours: 'Apr-Oct Tu-Su 08:30-17:00; Nov-Mar Tu-Su 08:30-16:30', holidays: 'open' })).toContain('10-05 08:30–17:00');
    // The next Monday, 10/12, is no holiday: closed.
    expect(openDays({ ...week, hours: 'Tu-Su 09:00-16:00', holidays: 'open' })).not.toContain('10-12');
  });

  test('open over 春节 (2/15–23): a weekday office open on Saturdays copies the make-up working Saturday 2/14', () => {
    const got = slots({ hours: 'Mo-Fr 09:00-17:00; Sa 10:00-16:00', from: '2026-02-14', days: 10, holidays: 'open' });
    expect(got).toEqual(['02-14 10:00–16:00', '02-15 10:00–16:00', '02-16 09:00–17:00', '02-17 09:00–17:00', '02-18 09:00–17:00',
      '02-19 09:00–17:00', '02-20 09:00–17:00', '02-21 10:00–16:00', '02-22 10:00–16:00', '02-23 09:00–17:00']);
  });

  test('the answer lists the holidays of its days with the slots each got', () => {
    const got = schedule({ ...week, hours: 'Tu-Su 09:00-16:00; PH off', slot_minutes: 60, holidays: 'open' });
    expect(got.holidays).toEqual(NATIONAL_DAY.map((d) => ({ date: `2026-${d}`, holiday: '国庆节', slots: 7 })));
    expect(schedule({ ...week, hours: 'Tu-Su 09:00-16:00; PH off' }).holidays.map((h) => h.slots)).toEqual(NATIONAL_DAY.map(() => 0));
  });

  test('days past covered_through are warned about when holidays matter, with the holidays marked estimated', () => {
    const late = { hours: 'Tu-Su 09:00-16:00; PH off', from: '2026-12-28', days: 7 };
    const december = Date.parse('2026-12-01T00:00:00+08:00');
    const got = schedule(late, december);
    expect(got.warnings).toEqual([expect.stringMatching(/^the public holidays after 2026-12-31 are estimated.*npm run calendar -- import/)]);
    expect(got.holidays).toEqual([{ date: '2027-01-01', holiday: '元旦', estimated: true, slots: 0 }]);
    expect(schedule({ ...late, hours: 'Tu-Su 09:00-16:00' }, december).warnings).toEqual([]); // no PH, the default policy: the calendar changes nothing
    expect(schedule({ ...late, hours: 'Tu-Su 09:00-16:00', holidays: 'closed' }, december).warnings).toHaveLength(1);
  });
});
