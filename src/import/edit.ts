import { AppError, invalidFields } from '../errors.js';
import type { Database, Tx } from '../store/sql.js';
import { BatchStore } from '../store/batches.js';
import { currentVersions, insertTombstones, insertVersions, type VersionRow } from '../store/resource-versions.js';
import { BookingStore } from '../store/bookings.js';
import { formatShanghai } from '../time.js';
import type { SnapshotHolder } from '../engine/holder.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { Audit } from '../access/audit.js';
import type { Principal } from '../access/keys.js';
import { assertResource, resourceOutside } from '../access/scope.js';
import { mergeRow, rowOfRecord } from './columns.js';
import { RowValidator, type Column } from './rows.js';

/** A JSON Merge Patch of a resource: import columns to new values; `null` (or "") clears one. */
export type ResourcePatch = Partial<Record<Exclude<Column, 'id'>, string | number | boolean | null>>;

/** The entity tag of a stored version: `If-Match` with it holds until the resource changes. */
export const etagOf = (seq: number) => `"v${seq}"`;

/**
 * Single edits of resources, each one write batch published at once: `PATCH` (a JSON Merge Patch of the
 * import columns, validated exactly as an import row, with the same messages) and `DELETE` (a tombstone;
 * future confirmed bookings refuse it unless they are cancelled on the venue's side). Both honour
 * `If-Match` and the key's scope, are audited, and are searchable once they answer.
 */
export class ResourceEdits {
  private readonly batches: BatchStore;
  private readonly bookings: BookingStore;

  constructor(private readonly db: Database, private readonly holder: SnapshotHolder, private readonly tax: Taxonomy,
    private readonly audit: Audit,
    /** Closes a resource's future slots in the caller's transaction (the booking module's); the bookings it cancelled. */
    private readonly closeFutureSlots: (t: Tx, resourceId: string, nowMs: number, at: string) => Promise<string[]>,
    private readonly clock: () => number = Date.now) {
    this.batches = new BatchStore(db);
    this.bookings = new BookingStore(db);
  }

  /** The current version of a resource (its ETag is `etagOf(seq)`), or a 404. */
  async current(id: string, t: Database | Tx = this.db): Promise<VersionRow> {
    const row = (await currentVersions(t, [id], await this.batches.view(t))).get(id);
    if (!row || row.deleted) throw new AppError('not_found', `no resource '${id}'`);
    return row;
  }

  /**
   * Applies a merge patch. Unchanged values write nothing. Returns the version now current and whether it
   * changed. A 412 when `ifMatch` no longer names the current version; 400s name `body.<column>`.
   */
  async patch(id: string, patch: ResourcePatch, by: Principal, ifMatch?: string): Promise<{ seq: number; changed: boolean }> {
    const cells: Partial<Record<Column, string>> = {};
    for (const [column, value] of Object.entries(patch)) cells[column as Column] = value === null ? '' : String(value);
    const validator = new RowValidator({ tax: this.tax, areas: this.holder.current.areas, crs: 'wgs84', outside: (d) => resourceOutside(by, d) });
    const result = await this.db.tx(async (t) => {
      const live = await this.current(id, t);
      checkMatch(ifMatch, live.seq);
      assertResource(by, live.district);
      const outcome = validator.check(mergeRow(rowOfRecord(live.doc, live.lng, live.lat), cells), 0);
      if ('rejections' in outcome) {
        const outside = outcome.rejections.find((r) => r.reason.startsWith('out_of_scope: '));
        if (outside) throw new AppError('out_of_scope', outside.reason.slice('out_of_scope: '.length));
        throw invalidFields(outcome.rejections.map((r) => ({ path: `body.${r.column === 'lng,lat' ? 'lng' : r.column}`, message: r.reason })));
      }
      const row = outcome.row;
      if (row.doc === live.doc && row.lng === live.lng && row.lat === live.lat) return { seq: live.seq, changed: false };
      const at = formatShanghai(new Date(this.clock()));
      const batch = await this.openBatch(t, 'edit', by, at);
      await insertVersions(t, batch, [row], at);
      await this.batches.publish(t, batch, at);
      await this.audit.record(t, by, 'resource.patch', id, { fields: Object.keys(patch).sort() });
      return { seq: (await this.current(id, t)).seq, changed: true };
    });
    if (result.changed) await this.holder.rebuild();
    return result;
  }

  /**
   * Deletes a resource. Its confirmed bookings of future slots refuse it (409 `has_future_bookings`)
   * unless `cancelBookings`: then they become `cancelled_by_venue` in the same transaction, and its future
   * slots take no more bookings. Returns the bookings cancelled.
   */
  async remove(id: string, by: Principal, options: { cancelBookings?: boolean; ifMatch?: string } = {}): Promise<{ cancelled: string[] }> {
    const nowMs = this.clock();
    const at = formatShanghai(new Date(nowMs));
    const cancelled = await this.db.tx(async (t) => {
      const live = await this.current(id, t);
      checkMatch(options.ifMatch, live.seq);
      assertResource(by, live.district);
      const future = await this.bookings.futureOf(t, id, nowMs);
      if (future.length && !options.cancelBookings) {
        throw new AppError('has_future_bookings', `${future.length} confirmed bookings of future slots: cancel them first, or send cancel_bookings=true`,
          { extra: { bookings: future.length } });
      }
      await this.closeFutureSlots(t, id, nowMs, at);
      const batch = await this.openBatch(t, 'delete', by, at);
      await insertTombstones(t, batch, [live], at);
      await this.batches.publish(t, batch, at);
      await this.audit.record(t, by, 'resource.delete', id, { cancelled_bookings: future.length });
      return future;
    });
    await this.holder.rebuild();
    return { cancelled };
  }

  private async openBatch(t: Tx, kind: 'edit' | 'delete', by: Principal, at: string): Promise<number> {
    const id = await this.batches.open(t, { kind, queue: null, keyId: by.keyId, owner: 'edit', nowMs: this.clock(), at, ownerGone: () => false });
    return id!;
  }
}

/** A 412 unless `ifMatch` is absent, `*`, or names the version `seq`. */
function checkMatch(ifMatch: string | undefined, seq: number): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((s) => s.trim());
  if (tags.includes('*') || tags.includes(etagOf(seq)) || tags.includes(`W/${etagOf(seq)}`)) return;
  throw new AppError('precondition_failed', `the resource is at ${etagOf(seq)} now; read it again and send that in If-Match`,
    { extra: { etag: etagOf(seq) } });
}
