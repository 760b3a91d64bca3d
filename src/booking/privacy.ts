import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Keyed hashes (HMAC-SHA256) that stand in for personal data. Visitor ID numbers and phone numbers have
 * little entropy (an ID is a region, a birth date and a few digits), so a plain hash could be reversed by
 * trying them all; with a secret key it cannot, without the key. Each use has its own label, so a phone
 * hash never equals an ID hash of the same digits.
 */
export class Hasher {
  constructor(private readonly key: string) {}

  /** Hash of a normalised mainland phone number (see `normalizePhone`). */
  phone(normalized: string): Buffer {
    return this.mac('phone', normalized);
  }

  /** Hash of a normalised resident ID number (see `normalizeResidentId`). */
  visitor(normalized: string): Buffer {
    return this.mac('visitor', normalized);
  }

  /** Hash of a request's fingerprint (which may hold phone and ID numbers), for Idempotency-Key comparison. */
  request(fingerprint: string): Buffer {
    return this.mac('request', fingerprint);
  }

  private mac(label: string, text: string): Buffer {
    return createHmac('sha256', this.key).update(label).update('\0').update(text).digest();
  }
}

/** A new bearer token of a booking: 256 random bits, base64url. Only its SHA-256 is stored. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Seals a booking's token for the client that may replay the request that created it: AES-256-GCM under a
 * key derived from the Idempotency-Key and the request's fingerprint, both of which only that client holds.
 * The database alone cannot open it (unless the key itself is guessable), and it is purged with the key.
 */
export function sealToken(token: string, idempotencyKey: string, fingerprint: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', replayKey(idempotencyKey, fingerprint), iv);
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Opens a sealed token with the same Idempotency-Key and fingerprint; undefined when they do not fit. */
export function openToken(box: Buffer, idempotencyKey: string, fingerprint: string): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', replayKey(idempotencyKey, fingerprint), box.subarray(0, 12));
    decipher.setAuthTag(box.subarray(12, 28));
    return Buffer.concat([decipher.update(box.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function replayKey(idempotencyKey: string, fingerprint: string): Buffer {
  return createHash('sha256').update('edumap-replay\0').update(idempotencyKey).update('\0').update(fingerprint).digest();
}

/** SHA-256 of a token, as stored. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Whether `token` is the one whose digest is stored; constant time. */
export function tokenMatches(token: string, storedDigest: Buffer): boolean {
  const given = tokenDigest(token);
  return given.length === storedDigest.length && timingSafeEqual(given, storedDigest);
}

/** A new public booking id: `bk_` and 96 random bits. */
export function newBookingId(): string {
  return `bk_${randomBytes(12).toString('base64url')}`;
}

/**
 * A mainland mobile number as 11 digits, from input that may carry spaces, hyphens and a +86 / 0086 prefix;
 * undefined when it is not one.
 */
export function normalizePhone(text: string): string | undefined {
  const digits = text.replace(/[\s-]/g, '').replace(/^(\+86|0086)/, '');
  return /^1[3-9]\d{9}$/.test(digits) ? digits : undefined;
}

/** A phone number as answers show it: `138****5678`. */
export function maskPhone(normalized: string): string {
  return `${normalized.slice(0, 3)}****${normalized.slice(-4)}`;
}

/** See `identity.ts`: the resident ID number, checked fully. */
export { normalizeResidentId } from './identity.js';
