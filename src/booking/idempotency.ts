import { AppError, ERRORS, invalidField, type ErrorCode, type FieldError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Database, Tx } from '../store/sql.js';
import { StoreBusy } from '../store/sql.js';
import { IdempotencyStore } from '../store/idempotency.js';
import type { BookingJson } from './render.js';
import { BOOKING_RULES } from './rules.js';

/** The first answer of a key, as stored: a booking (or a waitlist entry) without its token, or a known error. */
export interface StoredAnswer<T = BookingJson> {
  booking?: T;
  error?: { code: ErrorCode; detail: string; errors?: FieldError[]; extra?: Record<string, unknown> };
}

/** What claiming a key found: it is ours to run (under `lease`), or it was answered before. */
export type Claim = { lease: number; answered?: undefined } | { answered: StoredAnswer<unknown>; tokenBox: Buffer | null; lease?: undefined };

/** What `run` did: the answer, first or replayed; a first answer's token, or a replay's sealed one. */
export type Ran<T> = { replayed: false; answer: StoredAnswer<T>; token: string } | { replayed: true; answer: StoredAnswer<T>; tokenBox: Buffer | null };

const HOUR_MS = 3_600_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** How often expired keys are deleted, in ms (by whichever request comes first). */
const PURGE_EVERY_MS = 60_000;
/** How often, and how many times, a claim that could not be released is tried again (in ms). */
const RELEASE_RETRY_MS = 200;
const RELEASE_ATTEMPTS = 50;

/** The 409 of a key whose first request is still being processed. */
export function inProgress(): AppError {
  return new AppError('idempotency_in_progress', 'the first request with this Idempotency-Key is still being processed; retry in a moment',
    { errors: [{ path: 'header.idempotency-key', message: 'is in use by a request in progress' }] });
}

/** A 400 unless `key` is a usable Idempotency-Key. */
export function checkKey(key: string | undefined): string {
  if (key === undefined) throw invalidField('header.idempotency-key', 'is required: send a unique key (a UUID) per booking, the same on retries');
  if (!KEY_PATTERN.test(key)) throw invalidField('header.idempotency-key', 'must be 1–255 printable ASCII characters');
  return key;
}

/**
 * Stripe's Idempotency-Key semantics over the `idempotency_keys` table: the first request with a key claims
 * it in its own transaction; the same key with the same request replays the first answer, with another
 * request is a 422, and while the first is still in progress (in any process) a 409. A claim is leased:
 * one whose process died is taken over when its lease runs out, and the new holder's lease is what the
 * answer is stored under, so an old holder can neither store its answer nor release the key.
 */
export class Idempotency {
  readonly store: IdempotencyStore;
  private purgedAt = 0;

  constructor(private readonly db: Database, private readonly log?: Logger) {
    this.store = new IdempotencyStore(db);
  }

  /** Claims `key` for a request whose keyed hash is `requestHmac`, or finds its first answer. */
  async claim(key: string, requestHmac: Buffer, now: number): Promise<Claim> {
    const lease = now + BOOKING_RULES.keyLeaseMs;
    return this.db.tx(async (t) => {
      if (now - this.purgedAt > PURGE_EVERY_MS) {
        await this.store.purge(t, now - BOOKING_RULES.keyTtlHours * HOUR_MS);
        this.purgedAt = now;
      }
      const stored = await this.store.get(t, key);
      if (!stored) {
        if (!(await this.store.claim(t, key, requestHmac, lease, now))) throw inProgress(); // another request claimed it just now
        return { lease };
      }
      if (!stored.request_hmac.equals(requestHmac)) {
        throw new AppError('idempotency_mismatch', 'this Idempotency-Key was used with another request body; use a new key for a new booking',
          { errors: [{ path: 'header.idempotency-key', message: 'was used with another body' }] });
      }
      if (stored.status === null) {
        if ((stored.locked_until_ms ?? 0) > now || lease === stored.locked_until_ms) throw inProgress();
        // Its first holder died; carry on in its place, unless another request took it over first.
        if (!(await this.store.relock(t, key, lease, stored.locked_until_ms!))) throw inProgress();
        return { lease };
      }
      return { answered: JSON.parse(stored.response!) as StoredAnswer, tokenBox: stored.token_box };
    });
  }

  /**
   * Runs `work` once per key: claims the key, then in one write transaction does the work (in a savepoint:
   * a known error undoes it and is the answer) and stores the answer with the token sealed by `seal` — both
   * or neither, and only while the claim is ours. A key answered before replays its stored answer. A busy
   * database is a 503 whose detail says to retry with the same key; then the claim is released.
   */
  async run<T>(key: string, requestHmac: Buffer, now: number, work: (t: Tx) => Promise<{ value: T; token: string }>,
    seal: (token: string) => Buffer, afterClaim?: () => Promise<void> | void): Promise<Ran<T>> {
    let claim: Claim;
    try {
      claim = await this.claim(key, requestHmac, now);
    } catch (e) {
      throw e instanceof StoreBusy ? busy(e) : e;
    }
    if (claim.answered) return { replayed: true, answer: claim.answered as StoredAnswer<T>, tokenBox: claim.tokenBox };
    const lease = claim.lease;
    let token = '';
    try {
      await afterClaim?.();
      const answer = await this.db.tx(async (t) => {
        let result: StoredAnswer<T>;
        try {
          const made = await t.savepoint(work);
          token = made.token;
          result = { booking: made.value };
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          result = { error: { code: e.code, detail: e.message, errors: e.errors, extra: e.extra } };
        }
        // Stored together with the work, and only by the claim's holder: otherwise neither is.
        const status = result.booking ? 201 : ERRORS[result.error!.code].status;
        const box = result.booking ? seal(token) : null;
        if (!(await this.store.finish(t, key, lease, status, JSON.stringify(result), box))) throw inProgress();
        return result;
      });
      return { replayed: false, answer, token };
    } catch (e) {
      this.releaseSoon(key, lease); // nothing was done: let a retry run
      throw e instanceof StoreBusy ? busy(e) : e;
    }
  }

  /**
   * Forgets our claim of a key, so that a retry runs again. The database may be what failed (busy): then
   * it tries again in the background for a while, and after that the claim's lease runs out.
   */
  releaseSoon(key: string, lease: number, attempt = 0): void {
    this.store.release(key, lease).catch((e: unknown) => {
      if (!(e instanceof StoreBusy) || attempt >= RELEASE_ATTEMPTS) {
        this.log?.warn({ err: e }, 'could not release an Idempotency-Key claim; its lease will run out');
        return;
      }
      setTimeout(() => this.releaseSoon(key, lease, attempt + 1), RELEASE_RETRY_MS).unref();
    });
  }
}

function busy(cause: StoreBusy): AppError {
  return new AppError('busy', 'the database stayed locked too long; retry with the same Idempotency-Key', { cause });
}
