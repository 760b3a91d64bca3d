import type { Area } from '../geo/areas.js';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { View } from './view.js';

/** `GET /v1/taxonomy`: the tree (facets, every term with its children), as JSON text; build it once per taxonomy. */
export function taxonomyJson(tax: Taxonomy): string {
  return JSON.stringify({
    version: tax.version,
    facets: tax.facets,
    terms: tax.terms.map((t) => ({ ...t, children: tax.children.get(t.id) ?? [] })),
  });
}

/** One entry of `GET /v1/areas`: an area without its geometry; a district also counts its resources. */
export interface AreaSummary {
  id: string;
  kind: Area['kind'];
  name: string;
  parent_id: string | null;
  resources?: number;
}

/** `GET /v1/areas` (format json): the areas of a view, of one kind or all. */
export function areaList(view: View, kind?: Area['kind']): { count: number; items: AreaSummary[] } {
  const items = view.areas.list(kind).map((a) => ({
    id: a.id, kind: a.kind, name: a.name, parent_id: a.parentId,
    resources: a.kind === 'district' ? view.districtCount(a.id) : undefined,
  }));
  return { count: items.length, items };
}
