import type { Sql } from './sql.js';

/** A stored key (without its secret, which is never stored). */
export interface KeyRow {
  id: string;
  role: 'operator' | 'district' | 'venue';
  districts: string;
  resources: string;
  label: string;
  created_at: string;
  revoked_at: string | null;
}

const COLUMNS = 'id, role, districts, resources, label, created_at, revoked_at';

/** The `api_keys` table: keys stored as the SHA-256 of their secret, with their role and scope. */
export class KeyStore {
  constructor(private readonly db: Sql) {}

  async insert(t: Sql, row: KeyRow, secretSha256: Buffer): Promise<void> {
    await t.run(`INSERT INTO api_keys (id, secret_sha256, role, districts, resources, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [row.id, secretSha256, row.role, row.districts, row.resources, row.label, row.created_at]);
    await bumpKeys(t);
  }

  /** The key whose secret has this digest, revoked or not. */
  async byDigest(digest: Buffer): Promise<KeyRow | undefined> {
    return this.db.get<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE secret_sha256 = ?`, [digest]);
  }

  async byId(id: string, t: Sql = this.db): Promise<KeyRow | undefined> {
    return t.get<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`, [id]);
  }

  /** Every key, oldest first. */
  async list(): Promise<KeyRow[]> {
    return this.db.all<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
  }

  /** Marks a key revoked; false when it was revoked already (or absent). */
  async revoke(t: Sql, id: string, at: string): Promise<boolean> {
    const done = (await t.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])).changes === 1;
    if (done) await bumpKeys(t);
    return done;
  }

  /** A counter every key change moves: processes compare it to know their cached keys are stale. */
  async version(): Promise<number> {
    return Number((await this.db.value<string>("SELECT value FROM meta WHERE key = 'keys_seq'")) ?? 0);
  }
}

async function bumpKeys(t: Sql): Promise<void> {
  await t.run("INSERT INTO meta (key, value) VALUES ('keys_seq', '0') ON CONFLICT (key) DO NOTHING");
  await t.run("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'keys_seq'");
}
