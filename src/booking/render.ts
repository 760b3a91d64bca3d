import { randomBytes } from 'node:crypto';
import { formatShanghai } from '../time.js';
import type { Kind } from '../engine/params.js';
import type { BookingRow, BookingStatus } from '../store/bookings.js';

/** A booking as the API answers it. `token` only in the answer that created it (and its replays). */
export interface BookingJson {
  id: string;
  status: BookingStatus;
  slot: { id: number; resource_id: string; start: string; end: string };
  resource: { id: string; name: string | null };
  kind: Kind;
  party_size: number;
  contact: { name: string; phone: string };
  /** Number of visitor ID numbers recorded (the numbers themselves are never answered or stored). */
  visitors: number;
  created_at: string;
  /** Cancelling is possible until this time. */
  cancel_before: string;
  /**
   * Whether the booking can be cancelled now (as of this answer): confirmed and before `cancel_before`.
   * False from the start for a booking made when its slot was already inside the cut-off.
   */
  cancellable: boolean;
  cancelled_at: string | null;
  /** What the gate checks in (`POST /v1/checkins`), also in the QR code and the calendar event. */
  checkin_code: string;
  checked_in_at: string | null;
  token?: string;
}

const HOUR_MS = 3_600_000;

/** A stored booking as JSON, as of `nowMs`; `resourceName` from the snapshot, the phone already masked in the row. */
export function bookingJson(row: BookingRow, resourceName: string | null, cancelCutoffHours: number, nowMs: number): BookingJson {
  const deadline = cancelDeadline(row.start_ms, cancelCutoffHours);
  return {
    id: row.id,
    status: row.status,
    slot: { id: row.slot_id, resource_id: row.resource_id, start: formatShanghai(new Date(row.start_ms)), end: formatShanghai(new Date(row.end_ms)) },
    resource: { id: row.resource_id, name: resourceName },
    kind: row.kind,
    party_size: row.party_size,
    contact: { name: row.contact_name, phone: row.phone_masked },
    visitors: row.visitors,
    created_at: row.created_at,
    cancel_before: formatShanghai(new Date(deadline)),
    cancellable: row.status === 'confirmed' && nowMs < deadline,
    cancelled_at: row.cancelled_at,
    checkin_code: showCode(row.checkin_code),
    checked_in_at: row.checked_in_at,
  };
}

/** A booking answered again (an Idempotency-Key replay) with `cancellable` as of `nowMs`. */
export function asOf(booking: BookingJson, nowMs: number): BookingJson {
  return { ...booking, cancellable: booking.status === 'confirmed' && nowMs < Date.parse(booking.cancel_before) };
}

/** The last instant a booking of a slot starting at `startMs` can be cancelled, in epoch ms. */
export function cancelDeadline(startMs: number, cancelCutoffHours: number): number {
  return startMs - cancelCutoffHours * HOUR_MS;
}

/**
 * Check-in codes: 8 characters of Crockford's base 32 (no I, L, O, U: nothing to misread at a gate), 40
 * random bits, shown as `ABCD-EFGH`. Guessing one needs a venue key of that resource and ~10^8 tries per
 * hit even with 10,000 bookings live; codes are unique (a collision is retried).
 */
const CODE_CHARS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new check-in code (stored form, without the hyphen). */
export function newCheckinCode(): string {
  return [...randomBytes(8)].map((b) => CODE_CHARS[b & 31]).join('');
}

/** A code as typed or scanned, in stored form: upper case, no spaces or hyphens, O read as 0 and I or L as 1. */
export function normalizeCode(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** A stored code as shown: groups of four joined by hyphens. */
export function showCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}
