import { formatShanghai } from '../time.js';
import type { Kind } from '../engine/params.js';
import type { BookingRow } from '../store/bookings.js';

/** A booking as the API answers it. `token` only in the answer that created it (and its replays). */
export interface BookingJson {
  id: string;
  status: 'confirmed' | 'cancelled' | 'cancelled_by_venue' | 'no_show';
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
