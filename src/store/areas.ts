import type { Sql } from './sql.js';
import type { Area } from '../geo/areas.js';

interface AreaRow { id: string; kind: Area['kind']; name: string; parent_id: string | null; geometry: string; properties: string }

/** The `areas` table: districts and imported school districts, geometry as GeoJSON (WGS-84). */
export class AreaStore {
  constructor(private readonly db: Sql) {}

  /** Inserts or replaces areas; pass the write batch's transaction as `t`. */
  async save(t: Sql, areas: readonly Area[], updatedAt: string): Promise<void> {
    for (const a of areas) {
      await t.run(`INSERT INTO areas (id, kind, name, parent_id, geometry, properties, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, parent_id = excluded.parent_id,
          geometry = excluded.geometry, properties = excluded.properties, updated_at = excluded.updated_at`,
      [a.id, a.kind, a.name, a.parentId, JSON.stringify(a.geometry), JSON.stringify(a.properties), updatedAt]);
    }
  }

  /** Deletes an area; false when there was none. */
  async remove(t: Sql, id: string): Promise<boolean> {
    return (await t.run('DELETE FROM areas WHERE id = ?', [id])).changes === 1;
  }

  /** Every area, in id order. */
  async list(): Promise<Area[]> {
    const rows = await this.db.all<AreaRow>('SELECT id, kind, name, parent_id, geometry, properties FROM areas ORDER BY id');
    return rows.map((r) => ({
      id: r.id, kind: r.kind, name: r.name, parentId: r.parent_id,
      geometry: JSON.parse(r.geometry), properties: JSON.parse(r.properties),
    }));
  }

  /** Number of stored areas of a kind. */
  async count(kind: Area['kind']): Promise<number> {
    return (await this.db.value<number>('SELECT count(*) FROM areas WHERE kind = ?', [kind])) ?? 0;
  }
}
