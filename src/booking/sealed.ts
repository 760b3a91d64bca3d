import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes,
  type KeyObject } from 'node:crypto';

/**
 * Personal data a venue may need back (a contact's phone), encrypted with AES-256-GCM under
 * `EDUMAP_DATA_KEY`. A box is `01 | key id (4) | iv (12) | tag (16) | ciphertext`; the key id is the first
 * 4 bytes of the key's SHA-256, so a box says which key opens it. Rotation: the new key becomes
 * EDUMAP_DATA_KEY, the previous ones EDUMAP_DATA_KEY_OLD (read only), and `npm run rekey` re-seals every
 * box under the new key; then the old ones can go. A box is bound to its row's id (AAD), so it cannot be
 * moved to another row.
 */
export class DataKeys {
  private readonly byId = new Map<string, Buffer>();
  /** The id of the key new boxes are sealed under (8 hex characters). */
  readonly currentId: string;

  constructor(private readonly current: Buffer, old: readonly Buffer[] = []) {
    if (current.length !== 32) throw new Error('a data key is 32 bytes (EDUMAP_DATA_KEY: 64 hexadecimal characters)');
    this.currentId = keyId(current);
    for (const k of [...old, current]) this.byId.set(keyId(k), k);
  }

  /** Seals `text` for the row `rowId` under the current key. */
  seal(text: string, rowId: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    cipher.setAAD(Buffer.from(rowId));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([1]), Buffer.from(this.currentId, 'hex'), iv, cipher.getAuthTag(), body]);
  }

  /** Opens a box of row `rowId`; undefined when no known key opens it (or it was not sealed for that row). */
  open(box: Buffer, rowId: string): string | undefined {
    if (box.length < 33 || box[0] !== 1) return undefined;
    const key = this.byId.get(box.subarray(1, 5).toString('hex'));
    if (!key) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(5, 17));
      decipher.setAAD(Buffer.from(rowId));
      decipher.setAuthTag(box.subarray(17, 33));
      return Buffer.concat([decipher.update(box.subarray(33)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/** The id of a data key: 8 hex characters of its SHA-256. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 4).toString('hex');
}

// A sealed box to the holder of a bearer token, which the server does not keep (only its SHA-256): the
// token derives an X25519 key pair, the server keeps the public half, and seals to it (an ephemeral key
// pair, X25519, SHA-256, AES-256-GCM). Only the token opens the box: the database alone cannot.

/** PKCS #8 prefix of a raw X25519 private key (RFC 8410). */
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function privateKeyOf(token: string): KeyObject {
  const seed = createHash('sha256').update('edumap-seal\0').update(token).digest();
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
}

/** The public key (SPKI DER, 44 bytes) that boxes for the holder of `token` are sealed to. */
export function sealKeyOf(token: string): Buffer {
  return createPublicKey(privateKeyOf(token)).export({ format: 'der', type: 'spki' });
}

/** Seals `text` to a public key from `sealKeyOf`: `ephemeral public key (44) | iv (12) | tag (16) | ciphertext`. */
export function sealTo(publicKey: Buffer, text: string): Buffer {
  const eph = generateKeyPairSync('x25519');
  const key = boxKey(diffieHellman({ privateKey: eph.privateKey, publicKey: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }) }));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([eph.publicKey.export({ format: 'der', type: 'spki' }), iv, cipher.getAuthTag(), body]);
}

/** Opens a box sealed to `sealKeyOf(token)`; undefined when the token does not fit. */
export function openWith(token: string, box: Buffer): string | undefined {
  try {
    const eph = createPublicKey({ key: box.subarray(0, 44), format: 'der', type: 'spki' });
    const decipher = createDecipheriv('aes-256-gcm', boxKey(diffieHellman({ privateKey: privateKeyOf(token), publicKey: eph })), box.subarray(44, 56));
    decipher.setAuthTag(box.subarray(56, 72));
    return Buffer.concat([decipher.update(box.subarray(72)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function boxKey(shared: Buffer): Buffer {
  return createHash('sha256').update('edumap-seal-box\0').update(shared).digest();
}
