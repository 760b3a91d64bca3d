/**
 * The base map under the map page's markers, as the operator configures it (`EDUMAP_TILES` …): none (the
 * page's own district fills, offline), 天地图, 高德, or any XYZ tile server. Validated once at start-up; the
 * web route hands the result to the page and names its tile hosts, and only those, in the page's CSP.
 */
import { ConfigError } from './errors.js';

/** The operator's settings, as read from the environment (see `Config`). */
export interface TileSettings {
  /** `none` | `tianditu` | `amap` | an http(s) XYZ URL template. */
  tiles: string;
  /** 天地图 browser key (`tk=`), needed by `tianditu`. */
  tiandituKey: string;
  /** System of a template's tiles; required with a template, refused otherwise. */
  tilesCrs: string | null;
  /** Credit of a template's tiles; required with a template, refused otherwise. */
  tilesAttribution: string;
  /** 审图号 of the base map, shown with the attribution when set. */
  mapReviewNo: string;
}

/** One tile layer, drawn bottom first. */
export interface TileLayer {
  /** A Leaflet URL template: `{z}` `{x}` `{y}`, and `{s}` for one of `subdomains`. */
  url: string;
  subdomains: string[];
  /** Deepest zoom the server has tiles for. */
  maxZoom: number;
  /** `origin` where the provider checks a key against the page's domain (天地图's whitelist); else none is sent. */
  referrerPolicy?: 'origin';
}

/** A base map as the page draws it. */
export interface BaseMap {
  kind: 'none' | 'tianditu' | 'amap' | 'template';
  /** System of the tiles: the page asks the API for markers and outlines in it, and sends points in it. */
  crs: 'wgs84' | 'gcj02';
  layers: TileLayer[];
  /** The tiles' credit, plain text (never HTML); empty for `none`. */
  attribution: string;
  /** 审图号, or null. */
  reviewNo: string | null;
  /** Every origin (`https://t0.tianditu.gov.cn`) a tile may come from: the page's CSP `img-src` lists them. */
  origins: string[];
}

/** The page's own district fills: no tiles, nothing fetched from another host. */
const NONE: BaseMap = { kind: 'none', crs: 'wgs84', layers: [], attribution: '', reviewNo: null, origins: [] };

/** 天地图 (CGCS2000, which is WGS-84 to within centimetres): vector map and its Chinese labels, Web Mercator WMTS. */
function tianditu(key: string): TileLayer[] {
  const layer = (name: 'vec' | 'cva') => ({
    url: `https://t{s}.tianditu.gov.cn/${name}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=${name}&STYLE=default`
      + `&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${key}`,
    subdomains: ['0', '1', '2', '3', '4', '5', '6', '7'],
    maxZoom: 18,
    referrerPolicy: 'origin' as const,
  });
  return [layer('vec'), layer('cva')];
}

/** 高德 road map with Chinese labels (GCJ-02). */
const AMAP: TileLayer = {
  url: 'https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}',
  subdomains: ['1', '2', '3', '4'],
  maxZoom: 18,
};

const TEMPLATE_EXAMPLE = 'https://tiles.example.cn/{z}/{x}/{y}.png';

/**
 * The base map of these settings. Throws a one-line error naming the variable at fault: a key missing, a
 * template that is not http(s) or lacks `{z}`/`{x}`/`{y}`, a setting that only applies to another source.
 */
export function baseMapOf(s: TileSettings): BaseMap {
  const source = s.tiles.trim() || 'none';
  const reviewNo = text('EDUMAP_MAP_REVIEW_NO', s.mapReviewNo, 60) || null;
  const template = /^[a-z][a-z0-9+.-]*:/i.test(source);
  if (!template) {
    if (s.tilesCrs) throw new ConfigError(`EDUMAP_TILES_CRS applies to a URL template only (amap is gcj02, tianditu wgs84); EDUMAP_TILES is '${source}'`);
    if (s.tilesAttribution.trim()) throw new ConfigError(`EDUMAP_TILES_ATTRIBUTION applies to a URL template only; EDUMAP_TILES is '${source}'`);
  }
  switch (source) {
    case 'none':
      return { ...NONE, reviewNo };
    case 'tianditu': {
      const key = s.tiandituKey.trim();
      if (!key) throw new ConfigError('EDUMAP_TILES=tianditu needs EDUMAP_TIANDITU_KEY (a 天地图 browser key, 浏览器端, from console.tianditu.gov.cn)');
      if (!/^[A-Za-z0-9]{16,64}$/.test(key)) throw new ConfigError('EDUMAP_TIANDITU_KEY must be 16 to 64 letters and digits (a 天地图 browser key)');
      return withOrigins({ kind: 'tianditu', crs: 'wgs84', layers: tianditu(key), attribution: '天地图 © 国家地理信息公共服务平台', reviewNo });
    }
    case 'amap':
      return withOrigins({ kind: 'amap', crs: 'gcj02', layers: [AMAP], attribution: '© 高德地图 AutoNavi', reviewNo });
    default:
      if (!template) throw new ConfigError(`EDUMAP_TILES must be none, tianditu, amap or an http(s) URL template such as ${TEMPLATE_EXAMPLE}; got '${source}'`);
      return withOrigins({ kind: 'template', ...templateSource(source, s), reviewNo });
  }
}

/** A custom XYZ template: `{z}` `{x}` `{y}` (or `{-y}`: TMS rows), at most one of `{s}` (a, b, c) or a range `{1-4}`. */
function templateSource(url: string, s: TileSettings): Pick<BaseMap, 'crs' | 'layers' | 'attribution'> {
  if (!/^https?:\/\//i.test(url)) throw new ConfigError(`EDUMAP_TILES: '${clip(url)}' is not an http(s) URL; use a template such as ${TEMPLATE_EXAMPLE}`);
  if (/\s/.test(url)) throw new ConfigError('EDUMAP_TILES: the URL template must not contain spaces');
  const placeholders = [...url.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
  const unknown = placeholders.find((p) => !['z', 'x', 'y', '-y', 's'].includes(p) && !/^([a-z]-[a-z]|\d-\d)$/.test(p));
  if (unknown !== undefined) throw new ConfigError(`EDUMAP_TILES: unknown placeholder {${unknown}}; use {z} {x} {y} ({-y} for TMS), and {s} or a range such as {1-4}`);
  const missing = ['z', 'x', 'y'].filter((p) => !placeholders.includes(p) && !(p === 'y' && placeholders.includes('-y')));
  if (missing.length) throw new ConfigError(`EDUMAP_TILES: the URL template needs {z}, {x} and {y} (missing ${missing.map((p) => `{${p}}`).join(', ')})`);
  const choices = placeholders.filter((p) => p === 's' || (p.includes('-') && p !== '-y'));
  if (choices.length > 1) throw new ConfigError('EDUMAP_TILES: at most one {s} or range such as {1-4} in the URL template');

  let subdomains = ['a', 'b', 'c'];
  const range = choices[0] && choices[0] !== 's' ? choices[0] : null;
  if (range) {
    const [from, to] = [range.charCodeAt(0), range.charCodeAt(2)];
    if (to < from) throw new ConfigError(`EDUMAP_TILES: the range {${range}} runs backwards`);
    subdomains = Array.from({ length: to - from + 1 }, (_, k) => String.fromCharCode(from + k));
    url = url.replace(`{${range}}`, '{s}');
  }
  const probe = new URL(url.replace(/\{(z|x|y|-y)\}/g, '0').replace('{s}', subdomains[0]));
  if (probe.username || probe.password) throw new ConfigError('EDUMAP_TILES: the URL template must not carry a user name or password (the page shows it to every visitor)');

  const crs = s.tilesCrs?.trim();
  if (!crs) throw new ConfigError('EDUMAP_TILES_CRS is required with a URL template: wgs84 (OpenStreetMap, 天地图) or gcj02 (高德, 腾讯)');
  if (crs !== 'wgs84' && crs !== 'gcj02') throw new ConfigError(`EDUMAP_TILES_CRS must be wgs84 or gcj02, got '${clip(crs)}'`);
  const attribution = text('EDUMAP_TILES_ATTRIBUTION', s.tilesAttribution, 300);
  if (!attribution) throw new ConfigError('EDUMAP_TILES_ATTRIBUTION is required with a URL template: the tiles\' credit, e.g. "© OpenStreetMap contributors"');
  return { crs, attribution, layers: [{ url, subdomains: url.includes('{s}') ? subdomains : [], maxZoom: 18 }] };
}

/** Fills in `origins`: each layer's URL with each subdomain, reduced to scheme, host and port. */
function withOrigins(map: Omit<BaseMap, 'origins'>): BaseMap {
  const origins = new Set<string>();
  for (const layer of map.layers) {
    for (const s of layer.url.includes('{s}') ? layer.subdomains : ['']) {
      origins.add(new URL(layer.url.replace(/\{(z|x|y|-y)\}/g, '0').replace('{s}', s)).origin);
    }
  }
  return { ...map, origins: [...origins] };
}

/** A short plain-text setting, trimmed: at most `max` characters, no control characters. */
function text(name: string, value: string, max: number): string {
  const v = value.trim();
  if (v.length > max) throw new ConfigError(`${name} must be at most ${max} characters, got ${v.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new ConfigError(`${name} must be plain text on one line`);
  return v;
}

function clip(v: string): string {
  return v.length > 80 ? `${v.slice(0, 77)}…` : v;
}
