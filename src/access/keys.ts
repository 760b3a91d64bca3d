import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidField } from '../errors.js';
import type { Database } from '../store/sql.js';
import { KeyStore, type KeyRow } from '../store/keys.js';
import { formatShanghai } from '../time.js';
import type { Audit } from './audit.js';

/** What a key may do: everything; resources, slots and areas of some districts; the seats of some resources. */
export type Role = 'operator' | 'district' | 'venue';
export const ROLES: readonly Role[] = ['operator', 'district', 'venue'];

/** Who is writing: a key of the store, a bootstrap key from `EDUMAP_ADMIN_KEYS`, or a command on the machine. */
export interface Principal {
  /** `k_…` for a stored key, `env:1`… for the n-th bootstrap key, `cli` for a command. */
  keyId: string;
  label: string;
  role: Role;
  /** Adcodes a district key covers (empty for other roles). */
  districts: ReadonlySet<string>;
  /** Resource ids a venue key covers (empty for other roles). */
  resources: ReadonlySet<string>;
}

/** The principal of commands run on the machine itself (`npm run import`, `npm run keys` …): an operator. */
export function commandLine(label: string): Principal {
  return { keyId: 'cli', label, role: 'operator', districts: new Set(), resources: new Set() };
}

/** A key as `npm run keys -- list` and `create` show it (never its secret). */
export interface KeyInfo {
  id: string;
  role: Role;
  districts: string[];
  resources: string[];
  label: string;
  created_at: string;
  revoked_at: string | null;
}

/** How long a process trusts what it read about a key, in ms: a revocation reaches every process within it. */
const KEY_CACHE_MS = 500;
const KEY_CACHE_SIZE = 10_000;

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The keys: stored ones (hashes only, with role and scope) and the bootstrap operator keys of
 * `EDUMAP_ADMIN_KEYS`. A bearer token resolves to a principal, or to nothing; what a process read about a
 * stored key is trusted for at most half a second, so a revocation holds in every worker within a second.
 */
export class KeyRing {
  readonly store: KeyStore;
  private readonly bootstrap: { digest: Buffer; principal: Principal }[];
  private readonly cache = new Map<string, { until: number; principal: Principal | undefined }>();

  constructor(private readonly db: Database, adminKeys: readonly string[], private readonly audit: Audit,
    private readonly clock: () => number = Date.now) {
    this.store = new KeyStore(db);
    this.bootstrap = adminKeys.map((key, k) => ({
      digest: digest(key),
      principal: { keyId: `env:${k + 1}`, label: `EDUMAP_ADMIN_KEYS[${k + 1}]`, role: 'operator', districts: new Set(), resources: new Set() },
    }));
  }

  /** The principal of a bearer token; undefined for a token that is no (or no longer a) key. */
  async principal(token: string): Promise<Principal | undefined> {
    const given = digest(token);
    let found: Principal | undefined;
    // Bootstrap keys are compared in constant time, all of them, so timing tells nothing of which matched.
    for (const b of this.bootstrap) if (timingSafeEqual(given, b.digest)) found = b.principal;
    if (found) return found;
    const key = given.toString('base64url');
    const now = this.clock();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.principal;
    const row = await this.store.byDigest(given);
    const principal = row && !row.revoked_at ? principalOf(row) : undefined;
    if (this.cache.size >= KEY_CACHE_SIZE) this.cache.clear();
    this.cache.set(key, { until: now + KEY_CACHE_MS, principal });
    return principal;
  }

  /**
   * Creates a key and returns it with its secret, which is shown this once. A district key needs adcodes
   * (checked by `knownDistrict`), a venue key resource ids; an operator key neither. Audited as `by`.
   */
  async create(input: { role: Role; districts?: string[]; resources?: string[]; label?: string }, by: Principal,
    knownDistrict: (adcode: string) => boolean): Promise<{ key: string; info: KeyInfo }> {
    const districts = [...new Set(input.districts ?? [])];
    const resources = [...new Set(input.resources ?? [])];
    if (!ROLES.includes(input.role)) throw invalidField('role', `must be one of ${ROLES.join(', ')}`);
    if (input.role === 'district' && !districts.length) throw invalidField('district', 'a district key needs one or more adcodes, e.g. 110108');
    if (input.role !== 'district' && districts.length) throw invalidField('district', `only a district key has districts, not a ${input.role} key`);
    if (input.role === 'venue' && !resources.length) throw invalidField('resource', 'a venue key needs one or more resource ids');
    if (input.role !== 'venue' && resources.length) throw invalidField('resource', `only a venue key has resources, not a ${input.role} key`);
    const unknown = districts.find((d) => !knownDistrict(d));
    if (unknown) throw invalidField('district', `'${unknown}' is not a Beijing district adcode (110101…110119)`);
    const badId = resources.find((r) => !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(r));
    if (badId !== undefined) throw invalidField('resource', `'${badId}' is not a resource id`);
    const label = (input.label ?? '').trim();
    if (label.length > 200) throw invalidField('label', 'is longer than 200 characters');

    const id = `k_${randomBytes(6).toString('base64url')}`;
    const key = `edumap_${id}_${randomBytes(32).toString('base64url')}`;
    const row: KeyRow = {
      id, role: input.role, districts: districts.join('|'), resources: resources.join('|'), label,
      created_at: formatShanghai(new Date(this.clock())), revoked_at: null,
    };
    await this.db.tx(async (t) => {
      await this.store.insert(t, row, digest(key));
      await this.audit.record(t, by, 'key.create', id, { role: row.role, districts, resources, label });
    });
    return { key, info: infoOf(row) };
  }

  /** Every key, oldest first. */
  async list(): Promise<KeyInfo[]> {
    return (await this.store.list()).map(infoOf);
  }

  /** Revokes a key; false when it was revoked already. A key id that does not exist is a 400 naming `id`. */
  async revoke(id: string, by: Principal): Promise<boolean> {
    return this.db.tx(async (t) => {
      if (!(await this.store.byId(id, t))) throw invalidField('id', `no key '${id}'; see npm run keys -- list`);
      const done = await this.store.revoke(t, id, formatShanghai(new Date(this.clock())));
      if (done) await this.audit.record(t, by, 'key.revoke', id);
      return done;
    });
  }
}

function principalOf(row: KeyRow): Principal {
  return {
    keyId: row.id, label: row.label, role: row.role,
    districts: new Set(split(row.districts)), resources: new Set(split(row.resources)),
  };
}

function infoOf(row: KeyRow): KeyInfo {
  return {
    id: row.id, role: row.role, districts: split(row.districts), resources: split(row.resources), label: row.label,
    created_at: row.created_at, revoked_at: row.revoked_at,
  };
}

function split(list: string): string[] {
  return list ? list.split('|') : [];
}
