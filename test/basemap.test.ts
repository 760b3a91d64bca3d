import { baseMapOf, type TileSettings } from '../src/basemap.js';
import { DEFAULTS, loadConfig } from '../src/config.js';
import { TEST_DATA_KEY, TEST_HASH_KEY } from './support.js';

/** The secrets every configuration needs; the tests here are about the base map. */
const TEST_ENV = { EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: TEST_DATA_KEY };

const KEY = '0123456789abcdef0123456789abcdef';
const settings = (s: Partial<TileSettings>): TileSettings => ({ tiles: 'none', tiandituKey: '', tilesCrs: null, tilesAttribution: '', mapReviewNo: '', ...s });
const template = (tiles: string, more: Partial<TileSettings> = {}) => settings({ tiles, tilesCrs: 'wgs84', tilesAttribution: '© OpenStreetMap contributors', ...more });

describe('the base map of the settings', () => {
  test('none by default: no layers, no tile host, WGS-84', () => {
    expect(baseMapOf(DEFAULTS)).toEqual({ kind: 'none', crs: 'wgs84', layers: [], attribution: '', reviewNo: null, origins: [] });
    expect(baseMapOf(settings({ tiles: '' })).kind).toBe('none');
    expect(loadConfig(TEST_ENV).tiles).toBe('none');
  });

  test('tianditu: vector and label layers from t0–t7 with the key, WGS-84, the review number kept', () => {
    const map = baseMapOf(settings({ tiles: 'tianditu', tiandituKey: KEY, mapReviewNo: ' GS(2024)0568号 ' }));
    expect(map.crs).toBe('wgs84');
    expect(map.layers.map((l) => /\/(\w+)\/wmts\?/.exec(l.url)![1])).toEqual(['vec_w', 'cva_w']);
    for (const layer of map.layers) {
      expect(layer.url).toContain(`&tk=${KEY}`);
      expect(layer.url).toMatch(/TILEMATRIX=\{z\}&TILEROW=\{y\}&TILECOL=\{x\}/);
      expect(layer.subdomains).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    }
    expect(map.origins).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((k) => `https://t${k}.tianditu.gov.cn`));
    expect(map.reviewNo).toBe('GS(2024)0568号');
    expect(map.attribution).toContain('天地图');
  });

  test('amap: GCJ-02 raster tiles from webrd01–04', () => {
    const map = baseMapOf(settings({ tiles: 'amap' }));
    expect(map.crs).toBe('gcj02');
    expect(map.layers).toHaveLength(1);
    expect(map.layers[0].url).toBe('https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}');
    expect(map.origins).toEqual(['https://webrd01.is.autonavi.com', 'https://webrd02.is.autonavi.com', 'https://webrd03.is.autonavi.com', 'https://webrd04.is.autonavi.com']);
  });

  test('a template: its one host (with port), its crs and credit', () => {
    const map = baseMapOf(template('http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png', { tilesCrs: 'gcj02', tilesAttribution: '  My tiles  ' }));
    expect(map).toEqual({
      kind: 'template', crs: 'gcj02', attribution: 'My tiles', reviewNo: null, origins: ['http://127.0.0.1:8081'],
      layers: [{ url: 'http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png', subdomains: [], maxZoom: 18 }],
    });
  });

  test('a template with {s} is served by a, b and c; a range names its subdomains', () => {
    expect(baseMapOf(template('https://{s}.tile.example.org/{z}/{x}/{y}.png')).origins)
      .toEqual(['https://a.tile.example.org', 'https://b.tile.example.org', 'https://c.tile.example.org']);
    const ranged = baseMapOf(template('https://maps{1-3}.example.cn/t?x={x}&y={y}&z={z}'));
    expect(ranged.layers[0]).toMatchObject({ url: 'https://maps{s}.example.cn/t?x={x}&y={y}&z={z}', subdomains: ['1', '2', '3'] });
    expect(ranged.origins).toEqual(['https://maps1.example.cn', 'https://maps2.example.cn', 'https://maps3.example.cn']);
  });

  test('a TMS template ({-y}) counts as having {y}', () => {
    expect(baseMapOf(template('https://tms.example.cn/{z}/{x}/{-y}.png')).layers[0].url).toContain('{-y}');
  });

  test('does not mutate its input', () => {
    const s = template('https://{a-b}.example.cn/{z}/{x}/{y}.png');
    const copy = { ...s };
    baseMapOf(s);
    expect(s).toEqual(copy);
  });
});

describe('bad settings are refused at start-up with one line naming the variable', () => {
  const refused: [string, Partial<TileSettings>, RegExp][] = [
    ['an unknown source', { tiles: 'osm' }, /^EDUMAP_TILES must be none, tianditu, amap or an http\(s\) URL template/],
    ['tianditu without a key', { tiles: 'tianditu' }, /^EDUMAP_TILES=tianditu needs EDUMAP_TIANDITU_KEY/],
    ['a tianditu key with URL characters', { tiles: 'tianditu', tiandituKey: `${KEY}&x=1` }, /^EDUMAP_TIANDITU_KEY must be/],
    ['a template without {x}', { tiles: 'https://t.example.cn/{z}/{y}.png', tilesCrs: 'wgs84', tilesAttribution: 'x' }, /^EDUMAP_TILES: the URL template needs \{z\}, \{x\} and \{y\} \(missing \{x\}\)/],
    ['a template without any placeholder', { tiles: 'https://t.example.cn/tile.png', tilesCrs: 'wgs84', tilesAttribution: 'x' }, /missing \{z\}, \{x\}, \{y\}/],
    ['a non-http URL', { tiles: 'ftp://t.example.cn/{z}/{x}/{y}.png', tilesCrs: 'wgs84', tilesAttribution: 'x' }, /^EDUMAP_TILES: 'ftp:\/\/.*' is not an http\(s\) URL/],
    ['a javascript: URL', { tiles: 'javascript:alert(1)//{z}{x}{y}' }, /^EDUMAP_TILES: 'javascript:.*' is not an http\(s\) URL/],
    ['an unknown placeholder', { tiles: 'https://t.example.cn/{z}/{x}/{y}{r}.png', tilesCrs: 'wgs84', tilesAttribution: 'x' }, /^EDUMAP_TILES: unknown placeholder \{r\}/],
    ['two subdomain choices', { tiles: 'https://{s}.t{1-2}.example.cn/{z}/{x}/{y}.png', tilesCrs: 'wgs84', tilesAttribution: 'x' }, /^EDUMAP_TILES: at most one \{s\}/],
    ['a backward range', { tiles: 'https://t{4-1}.example.cn/{z}/{x}/{y}.png', tilesCrs: 'wgs84', tilesAttribution: 'x' }, /runs backwards/],
    ['credentials in the template', { tiles: 'https://me:secret@t.example.cn/{z}/{x}/{y}.png', tilesCrs: 'wgs84', tilesAttribution: 'x' }, /must not carry a user name or password/],
    ['a template without its crs', { tiles: 'https://t.example.cn/{z}/{x}/{y}.png', tilesAttribution: 'x' }, /^EDUMAP_TILES_CRS is required with a URL template/],
    ['BD-09 tiles', { tiles: 'https://t.example.cn/{z}/{x}/{y}.png', tilesCrs: 'bd09', tilesAttribution: 'x' }, /^EDUMAP_TILES_CRS must be wgs84 or gcj02, got 'bd09'/],
    ['a template without its credit', { tiles: 'https://t.example.cn/{z}/{x}/{y}.png', tilesCrs: 'wgs84' }, /^EDUMAP_TILES_ATTRIBUTION is required with a URL template/],
    ['a crs for amap', { tiles: 'amap', tilesCrs: 'wgs84' }, /^EDUMAP_TILES_CRS applies to a URL template only/],
    ['a credit for none', { tilesAttribution: 'mine' }, /^EDUMAP_TILES_ATTRIBUTION applies to a URL template only/],
    ['a credit on two lines', { tiles: 'https://t.example.cn/{z}/{x}/{y}.png', tilesCrs: 'wgs84', tilesAttribution: 'a\nb' }, /^EDUMAP_TILES_ATTRIBUTION must be plain text on one line/],
    ['a review number too long', { mapReviewNo: 'GS'.repeat(40) }, /^EDUMAP_MAP_REVIEW_NO must be at most 60 characters/],
  ];
  test.each(refused)('%s', (_name, s, message) => {
    let error: Error | undefined;
    try {
      baseMapOf(settings(s));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('\n');
  });

  test('loadConfig reads the variables and refuses the same way', () => {
    const env = { EDUMAP_TILES: 'http://127.0.0.1:9/{z}/{x}/{y}.png', EDUMAP_TILES_CRS: 'gcj02', EDUMAP_TILES_ATTRIBUTION: 'test tiles', EDUMAP_MAP_REVIEW_NO: '京S(2024)001号' };
    expect(loadConfig({ ...TEST_ENV, ...env })).toMatchObject({ tiles: env.EDUMAP_TILES, tilesCrs: 'gcj02', tilesAttribution: 'test tiles', mapReviewNo: '京S(2024)001号' });
    expect(() => loadConfig({ ...TEST_ENV, EDUMAP_TILES: 'tianditu' })).toThrow(/^EDUMAP_TILES=tianditu needs EDUMAP_TIANDITU_KEY/);
    expect(loadConfig({ ...TEST_ENV, EDUMAP_TILES: 'tianditu', EDUMAP_TIANDITU_KEY: KEY }).tiandituKey).toBe(KEY);
  });
});
