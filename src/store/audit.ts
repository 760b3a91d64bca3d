import type { Sql } from './sql.js';

/** One audited write. `detail` is a small JSON object: counts, fields changed — never personal data. */
export interface AuditEntry {
  seq: number;
  at: string;
  key_id: string;
  key_label: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** The `audit_log` table: append-only, written in the transaction of the write it records. */
export class AuditStore {
  constructor(private readonly db: Sql) {}

  /** Appends an entry; pass the write's own transaction, so the entry exists exactly when the write does. */
  async record(t: Sql, entry: Omit<AuditEntry, 'seq'>): Promise<void> {
    await t.run('INSERT INTO audit_log (at, key_id, key_label, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
      [entry.at, entry.key_id, entry.key_label, entry.action, entry.target, JSON.stringify(entry.detail)]);
  }

  /** Entries after `afterSeq`, oldest first, at most `limit`. */
  async after(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db.all<Omit<AuditEntry, 'detail'> & { detail: string }>(
      'SELECT seq, at, key_id, key_label, action, target, detail FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit]);
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }
}
