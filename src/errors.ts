/**
 * The one catalogue of errors the service answers with. Each code maps to an HTTP status and a title;
 * the HTTP layer renders them as RFC 9457 problem+json with `type` = `https://edumap.dev/problems/<code>`.
 */
export const ERRORS = {
  invalid_request: { status: 400, title: 'The request is not valid' },
  invalid_cursor: { status: 400, title: 'The cursor is not valid for this query' },
  unknown_term: { status: 400, title: 'Unknown taxonomy term' },
  invalid_csv: { status: 400, title: 'The CSV file cannot be imported' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'The credentials are not allowed here' },
  out_of_scope: { status: 403, title: 'The write is outside this key\'s scope' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  conflict: { status: 409, title: 'Conflict' },
  has_future_bookings: { status: 409, title: 'The resource has confirmed bookings in the future' },
  cursor_expired: { status: 410, title: 'The cursor is older than the change feed keeps' },
  precondition_failed: { status: 412, title: 'The resource changed since the version named in If-Match' },
  slot_full: { status: 409, title: 'Not enough places left in this slot' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  cancellation_closed: { status: 409, title: 'The cancellation cut-off has passed' },
  slot_closed: { status: 409, title: 'The slot is no longer open for booking' },
  slot_overlap: { status: 409, title: 'The slot overlaps another slot of this resource' },
  visitor_already_booked: { status: 409, title: 'A visitor already has a booking at this resource on that day' },
  // The venue's side (issue 11): booking rules, check-in, no-shows, the waitlist.
  not_yet_open: { status: 409, title: 'The slot is not open for booking yet' },
  banned: { status: 409, title: 'Bookings here are refused for a while after missed bookings' },
  contact_limit: { status: 409, title: 'The contact has booked as many people as allowed that day' },
  group_batches_full: { status: 409, title: 'The resource takes no more group bookings that day' },
  capacity_below_taken: { status: 409, title: 'The capacity cannot go below the places taken' },
  already_checked_in: { status: 409, title: 'The booking was checked in already' },
  booking_not_confirmed: { status: 409, title: 'The booking is not confirmed' },
  checkin_not_open: { status: 409, title: 'Check-in has not opened yet' },
  checkin_closed: { status: 409, title: 'Check-in has closed: the slot has ended' },
  slot_has_room: { status: 409, title: 'The slot has room: book it instead of joining the waitlist' },
  waitlist_closed: { status: 409, title: 'The waitlist has closed at the cancellation cut-off' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  header_too_large: { status: 431, title: 'The request headers are too large' },
  idempotency_mismatch: { status: 422, title: 'The Idempotency-Key was used with another request' },
  unprocessable: { status: 422, title: 'The request cannot be processed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  not_ready: { status: 503, title: 'The service is not ready' },
  busy: { status: 503, title: 'The database is busy; retry shortly' },
  snapshot_expired: { status: 503, title: 'The index this request used is gone; retry' },
  internal: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One field-level problem: where (e.g. `query.limit`, `body.slots[0].start`) and what is wrong. */
export interface FieldError { path: string; message: string }

/** What an AppError carries besides its code and detail. */
export interface AppErrorOptions {
  /** Field-level problems (a 400's `errors`). */
  errors?: FieldError[];
  /** Extra members for the problem document (e.g. `alternatives` for a full slot). */
  extra?: Record<string, unknown>;
  /** The error that led to this one, for the logs (never answered). */
  cause?: unknown;
}

/** A known, client-facing error. Anything else thrown is logged and answered as a generic 500. */
export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors?: FieldError[];
  readonly extra?: Record<string, unknown>;

  constructor(readonly code: ErrorCode, detail?: string, options: AppErrorOptions = {}) {
    super(detail ?? ERRORS[code].title, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
    this.errors = options.errors;
    this.extra = options.extra;
  }
}

/** A 400 for one field, the most common error. */
export function invalidField(path: string, message: string): AppError {
  return invalidFields([{ path, message }]);
}

/** A 400 naming every bad field; the detail lists them as `path: message; …`. */
export function invalidFields(errors: FieldError[], code: ErrorCode = 'invalid_request'): AppError {
  return new AppError(code, errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

/** A configuration the service cannot start with; the message names the variable and what it needs. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
