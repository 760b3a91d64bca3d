/**
 * What the server tells the page, in the inert JSON block `<script type="application/json"
 * id="edumap-config">` that `src/http/routes/web.ts` writes into `index.html` when it serves it.
 */

/** One tile layer: a Leaflet URL template, `{s}` standing for one of `subdomains`. */
export interface TileLayerConfig {
  url: string;
  subdomains: string[];
  maxZoom: number;
  referrerPolicy?: 'origin';
}

/** The base map the operator chose (`EDUMAP_TILES`); see src/basemap.ts. */
export interface BaseMap {
  kind: 'none' | 'tianditu' | 'amap' | 'template';
  /** The tiles' system: every coordinate the page draws or sends is in it. */
  crs: 'wgs84' | 'gcj02';
  layers: TileLayerConfig[];
  /** Plain text, never HTML. */
  attribution: string;
  /** 审图号. */
  reviewNo: string | null;
}

export interface PageConfig {
  baseMap: BaseMap;
}

/** No tiles: the page's own district fills, as when the block is missing (a page opened from its files). */
const OFFLINE: PageConfig = { baseMap: { kind: 'none', crs: 'wgs84', layers: [], attribution: '', reviewNo: null } };

/** The page's configuration; the offline one when there is none or it does not parse. */
export function pageConfig(doc: Document = document): PageConfig {
  const text = doc.getElementById('edumap-config')?.textContent;
  if (!text) return OFFLINE;
  try {
    const config = JSON.parse(text) as PageConfig;
    return config.baseMap?.crs === 'gcj02' || config.baseMap?.crs === 'wgs84' ? config : OFFLINE;
  } catch {
    return OFFLINE;
  }
}
