import { AppError, invalidField, invalidFields, type FieldError } from '../errors.js';
import { formatShanghai, parseDateTime } from '../time.js';
import { instant } from '../engine/params.js';
import type { NewSlot, SlotRow } from '../store/slots.js';
import { BOOKING_RULES } from './rules.js';

/** A slot as the API takes it (shape already checked against the contract). */
export interface SlotInput {
  start: string;
  end: string;
  capacity: { individual?: number; group?: number };
  group_size?: { min: number; max: number };
}

/** A slot as the API answers it. */
export interface SlotJson {
  id: number;
  resource_id: string;
  start: string;
  end: string;
  capacity: { individual: number; group: number };
  remaining: { individual: number; group: number };
  group_size: { min: number; max: number };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A stored slot as JSON, times in Asia/Shanghai. */
export function slotJson(s: SlotRow): SlotJson {
  return {
    id: s.id,
    resource_id: s.resource_id,
    start: formatShanghai(new Date(s.start_ms)),
    end: formatShanghai(new Date(s.end_ms)),
    capacity: { individual: s.capacity_individual, group: s.capacity_group },
    remaining: { individual: s.capacity_individual - s.taken_individual, group: s.capacity_group - s.taken_group },
    group_size: { min: s.group_min, max: s.group_max },
  };
}

/** The Asia/Shanghai date (`YYYY-MM-DD`) of an instant in epoch ms. */
export function shanghaiDay(ms: number): string {
  return formatShanghai(new Date(ms)).slice(0, 10);
}

/**
 * Validates slots given to `POST /v1/resources/{id}/slots` and converts them for the store. Throws a 400
 * naming every bad field (`body.slots[2].end`), or a 409 naming two slots of the request that overlap.
 */
export function parseSlots(resourceId: string, inputs: readonly SlotInput[], nowMs: number): NewSlot[] {
  const errors: FieldError[] = [];
  const out: (NewSlot & { k: number })[] = [];
  inputs.forEach((s, k) => {
    const at = `body.slots[${k}]`;
    const start = parseDateTime(s.start);
    const end = parseDateTime(s.end);
    if (!start) errors.push({ path: `${at}.start`, message: 'must be an ISO 8601 date-time such as 2026-12-05T09:00+08:00' });
    if (!end) errors.push({ path: `${at}.end`, message: 'must be an ISO 8601 date-time such as 2026-12-05T10:00+08:00' });
    errors.push(...quotaErrors(s, at));
    const individual = s.capacity.individual ?? 0;
    const group = s.capacity.group ?? 0;
    const size = s.group_size ?? BOOKING_RULES.groupSize;
    if (!start || !end) return;
    const startMs = start.getTime();
    const endMs = end.getTime();
    if (endMs <= startMs) errors.push({ path: `${at}.end`, message: 'must be after start' });
    else if (endMs - startMs > BOOKING_RULES.maxSlotHours * HOUR_MS) {
      errors.push({ path: `${at}.end`, message: `must be at most ${BOOKING_RULES.maxSlotHours} hours after start` });
    }
    if (startMs <= nowMs) errors.push({ path: `${at}.start`, message: 'must be in the future' });
    else if (startMs > nowMs + BOOKING_RULES.horizonDays * DAY_MS) {
      errors.push({ path: `${at}.start`, message: `must be within ${BOOKING_RULES.horizonDays} days` });
    }
    out.push({
      k, resourceId, startMs, endMs, capacityIndividual: individual, capacityGroup: group,
      groupMin: size.min, groupMax: size.max,
    });
  });
  if (errors.length) throw invalidFields(errors);
  const sorted = [...out].sort((a, b) => a.startMs - b.startMs || a.k - b.k);
  for (let j = 1; j < sorted.length; j++) {
    const [a, b] = [sorted[j - 1], sorted[j]];
    if (b.startMs < a.endMs) {
      const [first, second] = a.k < b.k ? [a, b] : [b, a];
      throw new AppError('slot_overlap', `body.slots[${second.k}] overlaps body.slots[${first.k}]`,
        { errors: [{ path: `body.slots[${second.k}]`, message: `overlaps body.slots[${first.k}]` }] });
    }
  }
  return out.map(({ k: _k, ...slot }) => slot);
}

/** What is wrong with a slot's (or a schedule's) capacity and group size; `at` is the path of the object. */
export function quotaErrors(s: Pick<SlotInput, 'capacity' | 'group_size'>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const group = s.capacity.group ?? 0;
  if ((s.capacity.individual ?? 0) + group === 0) errors.push({ path: `${at}.capacity`, message: 'must allow at least one place' });
  const size = s.group_size ?? BOOKING_RULES.groupSize;
  if (size.min > size.max) errors.push({ path: `${at}.group_size`, message: 'min must not exceed max' });
  else if (group > 0 && size.min > group) errors.push({ path: `${at}.group_size.min`, message: `exceeds capacity.group (${group})` });
  return errors;
}

/** Parses `from`/`to` of a slot listing: defaults now and `from` + 7 days; a 400 naming the field otherwise. */
export function parseRange(from: string | undefined, to: string | undefined, nowMs: number): { fromMs: number; toMs: number } {
  const fromMs = from === undefined ? nowMs : instant(from, 'query.from');
  const toMs = to === undefined ? fromMs + BOOKING_RULES.listDays * DAY_MS : instant(to, 'query.to');
  if (toMs <= fromMs) throw invalidField('query.to', 'must be after from');
  if (toMs - fromMs > BOOKING_RULES.maxListDays * DAY_MS) throw invalidField('query.to', `must be at most ${BOOKING_RULES.maxListDays} days after from`);
  return { fromMs, toMs };
}
