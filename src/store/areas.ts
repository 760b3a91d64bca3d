import type { Db } from './db.js';
import type { Area } from '../geo/areas.js';

/** The `areas` table: districts and imported school districts, geometry as GeoJSON (WGS-84). */
export class AreaStore {
  private readonly upsert;
  private readonly all;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare(`
      INSERT INTO areas (id, kind, name, parent_id, geometry, properties, updated_at)
      VALUES (@id, @kind, @name, @parentId, @geometry, @properties, @updatedAt)
      ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name, parent_id = excluded.parent_id,
        geometry = excluded.geometry, properties = excluded.properties, updated_at = excluded.updated_at`);
    this.all = db.prepare('SELECT id, kind, name, parent_id, geometry, properties FROM areas ORDER BY id');
  }

  /** Inserts or replaces areas; run inside the caller's transaction for a batch. */
  save(areas: readonly Area[], updatedAt: string): void {
    for (const a of areas) {
      this.upsert.run({
        id: a.id, kind: a.kind, name: a.name, parentId: a.parentId,
        geometry: JSON.stringify(a.geometry), properties: JSON.stringify(a.properties), updatedAt,
      });
    }
  }

  /** Every area, in id order. */
  list(): Area[] {
    return (this.all.all() as { id: string; kind: Area['kind']; name: string; parent_id: string | null; geometry: string; properties: string }[])
      .map((r) => ({
        id: r.id, kind: r.kind, name: r.name, parentId: r.parent_id,
        geometry: JSON.parse(r.geometry), properties: JSON.parse(r.properties),
      }));
  }

  /** Number of stored areas of a kind. */
  count(kind: Area['kind']): number {
    return this.db.prepare('SELECT count(*) FROM areas WHERE kind = ?').pluck().get(kind) as number;
  }
}
