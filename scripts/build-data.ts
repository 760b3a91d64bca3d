/**
 * Builds edumap's default data set from the real data in the shared folder.
 *
 *   npx tsx scripts/build-data.ts [SHARED_DATA_DIR]     (default: ../shared/data from the repo root)
 *
 * Reads `beijing-resources-curated.csv` (217 hand-compiled places) and `beijing-poi-osm-sample-central.csv`
 * (an OpenStreetMap sample) and writes them in edumap's import CSV format to `data/resources.csv` and
 * `data/osm-sample.csv`: stable ids, taxonomy term ids for the 五育 domains, themes and scenarios, and the
 * source and licence of every row. OSM rows that duplicate a curated place, or have no fitting resource type,
 * are dropped. The mapping rules are the tables below; data/README.md explains them. Same input, same bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.argv[2] ? resolve(process.argv[2]) : resolve(repoRoot, '../shared/data');

const COLUMNS = ['id', 'name', 'name_en', 'type', 'lng', 'lat', 'crs', 'district', 'address', 'tags', 'stages',
  'opening_hours', 'free', 'booking_required', 'phone', 'url', 'source', 'coord_precision_m', 'notes'] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

/** 五育 letters of the curated `domains` column → root term ids. */
const DOMAIN: Record<string, string> = { 德: 'de', 智: 'zhi', 体: 'ti', 美: 'mei', 劳: 'lao' };
/** Curated `themes` → theme term ids. */
const THEME: Record<string, string> = {
  古都: 'theme.gudu', 红色: 'theme.red', 京味: 'theme.jingwei', 创新: 'theme.innovation',
};

/** Terms implied by the resource type. */
const TYPE_TERMS: Record<string, string[]> = {
  science_museum: ['zhi.science'], lab: ['zhi.science'], library: ['zhi.reading'], red_site: ['de.red'],
  farm: ['lao.farming'], theatre: ['mei.drama'], art_museum: ['mei.art'], heritage_site: ['mei.architecture'],
  zoo_botanical: ['zhi.nature', 'scenario.family'], park: ['scenario.family'], study_base: ['scenario.study_tour'],
};
/** Terms implied by a keyword in `name name_en`. */
const NAME_TERMS: Array<[RegExp, string]> = [
  [/滑雪|冰场|冰雪|速滑|雪车|雪橇/, 'ti.winter'],
  [/游泳/, 'ti.swimming'],
  [/攀岩/, 'ti.outdoor'],
  [/航天|航空/, 'zhi.aerospace'],
  [/植物园|湿地|森林|动物|Nature Reserve/, 'zhi.nature'],
  [/地质|冰川|Cave\b/, 'zhi.geography'],
  [/遗址|历史|考古/, 'zhi.history'],
  [/铁道|汽车|自来水/, 'zhi.tech'],
  [/文学/, 'zhi.reading'],
  [/孔庙|国子监/, 'de.culture'],
  [/军事/, 'de.defense'],
  [/警察/, 'de.law'],
  [/非遗|非物质文化遗产|珐琅/, 'mei.heritage'],
  [/美术|艺术博物馆|雕塑/, 'mei.art'],
  [/剧|戏|梅兰芳/, 'mei.drama'],
  [/音乐/, 'mei.music'],
  [/园林|园博园|建筑/, 'mei.architecture'],
  [/工艺|珐琅|紫檀|印刷|琉璃/, 'lao.craft'],
  [/(?<!先)农|蜜蜂|西瓜|花卉|种业/, 'lao.farming'], // not 先农坛, an altar
];

/**
 * OSM sample `type` → edumap type, domains (OSM has none) and stages (the most common value among curated rows
 * of that type); a string drops the row and says why.
 */
const OSM_TYPE: Record<string, { type: string; domains: string[]; stages: string; tags?: string[] } | string> = {
  museum: { type: 'museum', domains: ['zhi', 'mei'], stages: 'primary|junior|senior' },
  art_museum: { type: 'art_museum', domains: ['mei', 'zhi'], stages: 'junior|senior' },
  heritage_site: { type: 'heritage_site', domains: ['mei', 'zhi'], stages: 'primary|junior|senior' },
  park: { type: 'park', domains: ['ti', 'mei'], stages: 'preschool|primary|junior|senior' },
  garden: { type: 'park', domains: ['mei', 'zhi'], stages: 'preschool|primary|junior|senior', tags: ['mei.architecture'] },
  theatre: { type: 'theatre', domains: ['mei'], stages: 'junior|senior' },
  culture_center: { type: 'culture_center', domains: ['mei', 'zhi'], stages: 'primary|junior|senior' },
  sports_venue: { type: 'sports_venue', domains: ['ti'], stages: 'primary|junior|senior' },
  sports_school: 'a school (amenity=school), not a venue open to visitors',
  university: 'a university campus (amenity=school), not a museum or open facility',
};

/**
 * Name substrings of the 11 curated places whose coordinates were lined up against the OSM sample (PROVENANCE.md
 * §5, "Frame"); each must match exactly one row ("地坛公园", since plain "地坛" also matches 地坛体育馆).
 */
const OSM_ALIGNED = ['恭王府', '中国美术馆', '孔庙', '雍和宫', '钟鼓楼', '日坛', '地坛公园', '景山', '陶然亭', '中山公园', '地坛体育馆'];
const CURATED_SOURCE = 'edumap curated list (hand-compiled, see data/README.md)';
const CURATED_ALIGNED = '; coordinates aligned with OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0)';
const OSM_CREDIT = '© OpenStreetMap contributors (ODbL 1.0)';
const SAME_PLACE_M = 300;

const taxonomy = JSON.parse(readFileSync(resolve(repoRoot, 'taxonomy/taxonomy.json'), 'utf8')) as {
  terms: Array<{ id: string; facet: string }>;
};
const taggable = new Set(taxonomy.terms.filter((t) => ['domain', 'theme', 'scenario'].includes(t.facet)).map((t) => t.id));
const ROOTS = new Set(Object.values(DOMAIN));
let skippedTerms = 0;

/** Domains first, then themes, then implied sub-terms whose 五育 root the row already has (never a new domain). */
function tagsFor(domains: string[], themes: string[], type: string, name: string, extra: string[] = []): string {
  const implied = [...extra, ...(TYPE_TERMS[type] ?? []), ...NAME_TERMS.filter(([re]) => re.test(name)).map(([, t]) => t)];
  const tags = [...domains, ...themes];
  for (const term of implied) {
    const root = term.split('.')[0];
    if (ROOTS.has(root) && !domains.includes(root)) skippedTerms++;
    else if (!tags.includes(term)) tags.push(term);
  }
  for (const t of tags) if (!taggable.has(t)) throw new Error(`unknown taxonomy term ${t} (${name})`);
  return tags.join('|');
}

/**
 * Lowercase ASCII slug of an English name: no leading "The", no apostrophes, other non-alphanumerics → "-";
 * over 48 chars it is cut at a word end, without a dangling "of", "the", "and" or "for".
 */
function slug(nameEn: string): string {
  let s = nameEn.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/^the\s+/i, '').replace(/['’]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (s.length > 48) s = s.slice(0, 49).replace(/-[^-]*$/, '').replace(/(-(of|the|and|for))+$/, '');
  return s;
}

function metres(aLng: number, aLat: number, bLng: number, bLat: number): number {
  const rad = Math.PI / 180;
  const h = Math.sin(((bLat - aLat) * rad) / 2) ** 2
    + Math.cos(aLat * rad) * Math.cos(bLat * rad) * Math.sin(((bLng - aLng) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

function read(file: string): Array<Record<string, string>> {
  const text = readFileSync(resolve(sharedDir, file), 'utf8').replace(/^\uFEFF/, '');
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
  if (parsed.errors.length) throw new Error(`${file}: ${parsed.errors[0].message} (row ${parsed.errors[0].row})`);
  return parsed.data;
}

/** RFC 4180: quote a field iff it holds a comma, quote, CR or LF; LF line ends; UTF-8 without BOM. */
function writeCsv(file: string, rows: Row[]): void {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => field(r[c])).join(','))];
  writeFileSync(resolve(repoRoot, 'data', file), lines.join('\n') + '\n', 'utf8');
}

// Curated list.
const curated = read('beijing-resources-curated.csv');
const ids = new Set<string>();
const alignedHits = new Map(OSM_ALIGNED.map((k) => [k, [] as string[]]));
const resources: Row[] = curated.map((c) => {
  let id = slug(c.name_en);
  for (let n = 2; ids.has(id); n++) id = `${slug(c.name_en)}-${n}`;
  ids.add(id);
  const aligned = OSM_ALIGNED.filter((k) => c.name.includes(k));
  for (const k of aligned) alignedHits.get(k)!.push(c.name);
  const domains = c.domains.split('|').map((d) => DOMAIN[d] ?? `?${d}`);
  const themes = c.themes ? c.themes.split('|').map((t) => THEME[t] ?? `?${t}`) : [];
  return {
    id, name: c.name, name_en: c.name_en, type: c.type, lng: c.lng, lat: c.lat, crs: 'wgs84',
    district: c.district, address: c.address, tags: tagsFor(domains, themes, c.type, `${c.name} ${c.name_en}`),
    stages: c.stages, opening_hours: c.opening_hours, free: c.free, booking_required: c.booking_required,
    phone: '', url: '',
    source: aligned.length ? CURATED_SOURCE + CURATED_ALIGNED : CURATED_SOURCE,
    coord_precision_m: c.coord_precision, notes: c.notes,
  };
});
for (const [k, names] of alignedHits) {
  if (names.length !== 1) throw new Error(`OSM-aligned key ${k} matched ${names.length} curated rows: ${names.join(', ')}`);
}

// OSM sample.
const osm: Row[] = [];
const dropped: string[] = [];
for (const o of read('beijing-poi-osm-sample-central.csv')) {
  const tags = new Map(o.osm_tags.split(/;(?=[a-z_:]+=)/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const rule = OSM_TYPE[o.type];
  const lng = Number(o.lng), lat = Number(o.lat);
  const twin = curated.find((c) => c.name === o.name
    || (c.name.includes(o.name) && metres(lng, lat, Number(c.lng), Number(c.lat)) <= SAME_PLACE_M));
  if (rule === undefined || typeof rule === 'string') {
    dropped.push(`${o.osm_element} ${o.name}: type ${o.type} is ${rule ?? 'unknown'}`);
    continue;
  }
  if (twin) {
    const d = Math.round(metres(lng, lat, Number(twin.lng), Number(twin.lat)));
    dropped.push(`${o.osm_element} ${o.name}: same place as curated ${twin.name} (${d} m)`);
    continue;
  }
  const fee = tags.get('fee');
  osm.push({
    id: `osm-${o.osm_element.replace('/', '-')}`, name: o.name, name_en: tags.get('name:en') ?? '', type: rule.type,
    lng: o.lng, lat: o.lat, crs: 'wgs84', district: o.district, address: o.address,
    tags: tagsFor(rule.domains, [], rule.type, `${o.name} ${tags.get('name:en') ?? ''}`, rule.tags),
    stages: rule.stages, opening_hours: tags.get('opening_hours') ?? '',
    free: fee === 'yes' ? 'false' : fee === 'no' ? 'true' : '', booking_required: '', phone: '', url: '',
    source: `${OSM_CREDIT}, ${o.osm_element}`, coord_precision_m: '', notes: o.wikidata ? `wikidata=${o.wikidata}` : '',
  });
}

writeCsv('resources.csv', resources);
writeCsv('osm-sample.csv', osm);
const alignedCount = resources.filter((r) => r.source !== CURATED_SOURCE).length;
process.stderr.write([
  `data/resources.csv: ${resources.length} rows written (${alignedCount} with OSM-aligned coordinates), 0 dropped`,
  `data/osm-sample.csv: ${osm.length} rows written, ${dropped.length} dropped:`,
  ...dropped.map((d) => `  - ${d}`),
  `implied sub-terms left out because the row lacks their 五育 root: ${skippedTerms}`,
  '',
].join('\n'));
