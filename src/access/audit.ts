import { AppError } from '../errors.js';
import type { Sql } from '../store/sql.js';
import { AuditStore, type AuditEntry } from '../store/audit.js';
import { formatShanghai } from '../time.js';
import type { Principal } from './keys.js';

/** The audit log of the domain: every write by a key, recorded in that write's own transaction. */
export class Audit {
  readonly store: AuditStore;

  constructor(db: Sql, private readonly clock: () => number = Date.now) {
    this.store = new AuditStore(db);
  }

  /** Records `action` on `target` by `by`; `detail` holds counts and field names, never personal data. */
  async record(t: Sql, by: Principal, action: string, target: string, detail: Record<string, unknown> = {}): Promise<void> {
    await this.store.record(t, { at: formatShanghai(new Date(this.clock())), key_id: by.keyId, key_label: by.label, action, target, detail });
  }

  /** A page of the log for an operator: entries after the cursor (a `seq`), oldest first. */
  async page(by: Principal, after: number | undefined, limit: number): Promise<{ items: AuditEntry[]; next_cursor: string | null }> {
    if (by.role !== 'operator') throw new AppError('out_of_scope', 'the audit log is for operator keys');
    const items = await this.store.after(after ?? 0, limit + 1);
    const more = items.length > limit;
    const page = items.slice(0, limit);
    return { items: page, next_cursor: more ? String(page[page.length - 1].seq) : null };
  }
}
