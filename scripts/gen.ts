/**
 * Seeded synthetic resources for tests and benchmarks: writes an edumap import CSV (UTF-8, LF, header first).
 *
 *   npm run -s gen -- --count N [--seed S] [--out FILE]     (without --out the CSV goes to stdout;
 *                                                            `-s` keeps npm's banner out of it)
 *
 * The same count and seed give a byte-identical file: one sfc32 PRNG drives every choice (no Math.random,
 * no clock). Rows are streamed in chunks with backpressure, so memory stays flat at any count.
 *
 * Points are WGS-84 with 6 decimals; the rounded point is the one checked against the real district
 * polygons (`data/districts.wgs84.geojson`, through the project's AreaIndex), so each row's point lies in
 * its district exactly as the importer will see it. Half the points come from Gaussian clusters around real
 * centres (东城/西城 core, 中关村, 国贸, 望京, 副中心, 回龙观, 天通苑, 亦庄 …); the rest are spread over all
 * 16 districts by weight (half around each district seat, half uniform over the polygon).
 *
 * Frequencies (see `gen-profile.ts`): `zhi.science` on 25% of rows, `lao.service` on 0.1%, `ti.martial` on
 * 0.01% (each an independent draw per row, and the only way those terms are added); other tags Zipf-like
 * over the taxonomy, boosted by resource type; every row has at least one 五育 (domain) term. Types are
 * skewed (parks 22%, museums 16% … labs 0.5%). The `district` column is blank on 20% of rows.
 */
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bbox as turfBbox } from '@turf/turf';
import type { Feature } from 'geojson';
import { AreaIndex, districtsFromGeoJson, type Area } from '../src/geo/areas.js';
import type { LngLat } from '../src/geo/crs.js';
import { COLUMNS, type Column } from '../src/import/rows.js';
import { CLUSTER_SHARE, DISTRICT_BLANK_RATE, TERM_FREQUENCY, TERM_RATE } from './gen-profile.js';

/** The CSV columns, in the order written: the importer's own list. */
export { COLUMNS, type Column };

/** One generated row: each column's CSV cell, unquoted (lists `|`-separated, booleans `true`/`false`). */
export type GeneratedRow = Record<Column, string>;

// ---------------------------------------------------------------------------------------------------------
// Profile: what Beijing's resources look like. Weights are relative; term and type ids are checked against
// the taxonomy when the world is loaded, so a renamed term fails loudly instead of vanishing.

interface Cluster { name: string; centre: LngLat; sigmaKm: number; weight: number }

/** Downtown clusters: centre (WGS-84), spread (1 σ in km) and relative weight. */
const CLUSTERS: readonly Cluster[] = [
  { name: '东城 core', centre: [116.410, 39.922], sigmaKm: 2.5, weight: 14 },
  { name: '西城 core', centre: [116.362, 39.915], sigmaKm: 2.5, weight: 12 },
  { name: '中关村', centre: [116.310, 39.982], sigmaKm: 2.5, weight: 12 },
  { name: '国贸/CBD', centre: [116.455, 39.909], sigmaKm: 2, weight: 9 },
  { name: '望京', centre: [116.474, 39.995], sigmaKm: 2, weight: 7 },
  { name: '通州 副中心', centre: [116.710, 39.905], sigmaKm: 3, weight: 7 },
  { name: '回龙观', centre: [116.330, 40.072], sigmaKm: 2, weight: 6 },
  { name: '天通苑', centre: [116.414, 40.067], sigmaKm: 2, weight: 5 },
  { name: '亦庄', centre: [116.500, 39.794], sigmaKm: 3, weight: 5 },
  { name: '丰台 科技园', centre: [116.290, 39.833], sigmaKm: 2.5, weight: 4 },
  { name: '鲁谷', centre: [116.220, 39.906], sigmaKm: 2, weight: 3 },
  { name: '顺义 新城', centre: [116.650, 40.128], sigmaKm: 3, weight: 3 },
  { name: '良乡', centre: [116.140, 39.730], sigmaKm: 3, weight: 2 },
];

/** Per district (adcode): English name, weight of the spread share, and a few real roads for addresses. */
const DISTRICTS: Record<string, { en: string; weight: number; roads: readonly string[] }> = {
  110101: { en: 'Dongcheng', weight: 5, roads: ['东长安街', '王府井大街', '东四北大街', '雍和宫大街', '崇文门外大街'] },
  110102: { en: 'Xicheng', weight: 5, roads: ['西长安街', '西单北大街', '德胜门外大街', '阜成门内大街', '广安门内大街'] },
  110105: { en: 'Chaoyang', weight: 14, roads: ['建国路', '朝阳路', '望京街', '东三环中路', '北四环东路', '安立路'] },
  110106: { en: 'Fengtai', weight: 8, roads: ['丰台路', '南四环西路', '马家堡东路', '丰台北路', '方庄路'] },
  110107: { en: 'Shijingshan', weight: 4, roads: ['石景山路', '鲁谷路', '古城大街', '八角西街'] },
  110108: { en: 'Haidian', weight: 14, roads: ['学院路', '中关村大街', '知春路', '颐和园路', '北四环西路', '西三环北路'] },
  110109: { en: 'Mentougou', weight: 3, roads: ['新桥大街', '滨河路', '黑山大街', '石龙路'] },
  110111: { en: 'Fangshan', weight: 6, roads: ['拱辰大街', '京周路', '良乡东路'] },
  110112: { en: 'Tongzhou', weight: 8, roads: ['新华大街', '运河东大街', '玉带河大街', '九棵树东路'] },
  110113: { en: 'Shunyi', weight: 6, roads: ['新顺南大街', '府前东街', '光明北街'] },
  110114: { en: 'Changping', weight: 9, roads: ['回龙观东大街', '政府街', '立汤路', '北清路'] },
  110115: { en: 'Daxing', weight: 8, roads: ['兴华大街', '黄村西大街', '荣华中路', '兴丰大街'] },
  110116: { en: 'Huairou', weight: 3, roads: ['青春路', '开放路', '府前街'] },
  110117: { en: 'Pinggu', weight: 3, roads: ['府前街', '新平北路', '林荫北街'] },
  110118: { en: 'Miyun', weight: 3, roads: ['鼓楼南大街', '滨河路', '新中街'] },
  110119: { en: 'Yanqing', weight: 3, roads: ['妫水北街', '东外大街', '湖南东路'] },
};

/** Spread share drawn around each district seat (σ in km); the remainder is uniform over the polygon. */
const SEAT_SHARE = 0.5;
const SEAT_SIGMA_KM = 5;

type HoursProfile = 'indoor' | 'reading' | 'outdoor' | 'sports' | 'booked';

/** `opening_hours` values (OSM syntax; '' = unknown) by kind of venue, with relative weights. */
const HOURS: Record<HoursProfile, readonly (readonly [string, number])[]> = {
  indoor: [['Tu-Su 09:00-17:00; PH off', 45], ['Tu-Su 09:00-16:30', 25], ['Mo-Fr 08:30-11:30,13:30-17:00', 10],
    ['Sa,Su 10:00-18:00', 5], ['', 15]],
  reading: [['Mo-Su 09:00-21:00', 35], ['Tu-Su 09:00-17:00; PH off', 30], ['Mo-Fr 08:30-11:30,13:30-17:00', 15],
    ['', 20]],
  outdoor: [['Mo-Su 06:00-21:00', 50], ['24/7', 20], ['Tu-Su 09:00-17:00; PH off', 10], ['', 20]],
  sports: [['Mo-Su 06:00-21:00', 40], ['Sa,Su 10:00-18:00', 20], ['Mo-Fr 08:30-11:30,13:30-17:00', 15], ['', 25]],
  booked: [['Sa,Su 10:00-18:00', 35], ['Mo-Fr 08:30-11:30,13:30-17:00', 30], ['Tu-Su 09:00-16:30', 10], ['', 25]],
};

interface TypeProfile {
  /** Relative frequency of the type. */
  weight: number;
  /** The word that ends a name of this type, in Chinese and English. */
  word: readonly [string, string];
  /** Probability of `free` = true and of `booking_required` = true. */
  free: number;
  booking: number;
  /** Relative affinity for `zhi.science`; normalised so the mean rate over types is TERM_RATE exactly. */
  science: number;
  hours: HoursProfile;
  /** Terms this type is likelier to carry (weight × TYPE_BOOST). */
  boosts: readonly string[];
}

/** Resource types: parks and museums common, labs rare. A type added to the taxonomy gets DEFAULT_TYPE. */
const TYPES: Record<string, TypeProfile> = {
  museum: { weight: 16, word: ['博物馆', 'Museum'], free: 0.75, booking: 0.7, science: 0.8, hours: 'indoor',
    boosts: ['zhi.history', 'de.culture', 'theme.gudu', 'mei.heritage'] },
  art_museum: { weight: 4, word: ['美术馆', 'Art Museum'], free: 0.5, booking: 0.5, science: 0.2, hours: 'indoor',
    boosts: ['mei.art', 'mei.film', 'theme.jingwei'] },
  science_museum: { weight: 4, word: ['科技馆', 'Science Centre'], free: 0.4, booking: 0.8, science: 2.5,
    hours: 'indoor', boosts: ['zhi.tech', 'zhi.aerospace', 'theme.innovation', 'zhi.nature'] },
  library: { weight: 9, word: ['图书馆', 'Library'], free: 0.95, booking: 0.2, science: 0.7, hours: 'reading',
    boosts: ['zhi.reading', 'scenario.after_school', 'zhi.history'] },
  culture_center: { weight: 8, word: ['文化馆', 'Culture Centre'], free: 0.8, booking: 0.4, science: 0.3,
    hours: 'reading', boosts: ['mei.music', 'mei.drama', 'mei.heritage', 'theme.jingwei', 'scenario.after_school'] },
  park: { weight: 22, word: ['公园', 'Park'], free: 0.7, booking: 0.1, science: 0.6, hours: 'outdoor',
    boosts: ['zhi.nature', 'ti.outdoor', 'scenario.family', 'ti.athletics', 'mei.architecture'] },
  sports_venue: { weight: 9, word: ['体育馆', 'Sports Centre'], free: 0.3, booking: 0.5, science: 0.2,
    hours: 'sports', boosts: ['ti.ball', 'ti.swimming', 'ti.athletics', 'ti.winter'] },
  university_museum: { weight: 2, word: ['大学博物馆', 'University Museum'], free: 0.9, booking: 0.8, science: 2.2,
    hours: 'indoor', boosts: ['zhi.history', 'zhi.geography', 'zhi.nature'] },
  lab: { weight: 0.5, word: ['创新实验室', 'Innovation Lab'], free: 0.6, booking: 0.95, science: 2.5,
    hours: 'booked', boosts: ['zhi.tech', 'theme.innovation', 'lao.career', 'zhi.aerospace'] },
  heritage_site: { weight: 7, word: ['古迹', 'Heritage Site'], free: 0.4, booking: 0.3, science: 0.3,
    hours: 'indoor', boosts: ['theme.gudu', 'mei.architecture', 'zhi.history', 'de.culture'] },
  study_base: { weight: 5, word: ['研学基地', 'Study-Tour Base'], free: 0.3, booking: 0.9, science: 1,
    hours: 'booked', boosts: ['scenario.study_tour', 'lao.farming', 'lao.career', 'de.defense'] },
  red_site: { weight: 4, word: ['纪念馆', 'Memorial Hall'], free: 0.95, booking: 0.6, science: 0.1,
    hours: 'indoor', boosts: ['de.red', 'theme.red', 'de.patriotism'] },
  farm: { weight: 3, word: ['生态农场', 'Eco Farm'], free: 0.2, booking: 0.7, science: 0.6, hours: 'booked',
    boosts: ['lao.farming', 'lao.household', 'zhi.nature', 'scenario.family'] },
  theatre: { weight: 3, word: ['剧场', 'Theatre'], free: 0.1, booking: 0.8, science: 0.1, hours: 'booked',
    boosts: ['mei.drama', 'mei.music', 'theme.jingwei'] },
  zoo_botanical: { weight: 2, word: ['植物园', 'Botanical Garden'], free: 0.3, booking: 0.3, science: 1.8,
    hours: 'outdoor', boosts: ['zhi.nature', 'scenario.family', 'zhi.geography'] },
  school_history_museum: { weight: 1.5, word: ['校史馆', 'School History Museum'], free: 1, booking: 0.9,
    science: 0.4, hours: 'booked', boosts: ['zhi.history', 'de.civic', 'de.patriotism'] },
};
const DEFAULT_TYPE: Omit<TypeProfile, 'word'> = {
  weight: 0.5, free: 0.5, booking: 0.5, science: 0.5, hours: 'indoor', boosts: [],
};

/**
 * Taggable terms from commonest to rarest (Zipf weight 1/rank before the type boost). The three terms of
 * TERM_RATE are absent on purpose: each has its own draw. Taggable terms the taxonomy adds later go last.
 */
const TAG_RANK = [
  'scenario.classroom', 'de.patriotism', 'zhi.history', 'scenario.family', 'zhi.nature', 'mei.art', 'ti.outdoor',
  'scenario.study_tour', 'de.culture', 'theme.gudu', 'mei.architecture', 'zhi.reading', 'ti.athletics', 'de.red',
  'theme.red', 'zhi.tech', 'ti.ball', 'mei.music', 'theme.innovation', 'mei.heritage', 'theme.jingwei',
  'scenario.after_school', 'lao.farming', 'mei.drama', 'zhi.geography', 'lao.craft', 'de.civic', 'ti.swimming',
  'zhi.aerospace', 'lao.career', 'mei.film', 'de.law', 'de.defense', 'ti.winter', 'lao.household',
  'zhi', 'de', 'mei', 'ti', 'lao',
];
const TYPE_BOOST = 6;
/** How many tags a row draws from the Zipf table (1–4), before the TERM_RATE draws and the domain guarantee. */
const EXTRA_TAGS: readonly (readonly [number, number])[] = [[1, 0.12], [2, 0.43], [3, 0.3], [4, 0.15]];

const STAGES = ['preschool', 'primary', 'junior', 'senior'] as const;
/** A row's stages are a contiguous run: its first stage, then its length (cut at `senior`). */
const STAGE_START: readonly (readonly [number, number])[] = [[0, 0.12], [1, 0.45], [2, 0.3], [3, 0.13]];
const STAGE_LENGTH: readonly (readonly [number, number])[] = [[1, 0.35], [2, 0.45], [3, 0.2]];

/** The word between district and type in a name, in Chinese and English. */
const NAME_WORDS: readonly (readonly [string, string])[] = [
  ['青少年', 'Youth'], ['少年', "Children's"], ['红领巾', 'Young Pioneers'], ['未来', 'Future'],
  ['星光', 'Starlight'], ['阳光', 'Sunshine'], ['和平', 'Peace'], ['创新', 'Innovation'], ['自然', 'Nature'],
  ['民俗', 'Folk Culture'], ['京华', 'Jinghua'], ['育英', 'Yuying'], ['春晖', 'Chunhui'], ['启明', 'Qiming'],
];

// ---------------------------------------------------------------------------------------------------------
// Random numbers.

/**
 * A seeded PRNG (sfc32, its state filled by splitmix32 from a safe integer seed): uniform numbers in [0, 1).
 * Any integer seed, negative or above 2^32, gives its own stream.
 */
export function createRandom(seed: number): () => number {
  let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x27d4eb2d);
  const splitmix32 = (): number => {
    x = (x + 0x9e3779b9) | 0;
    let z = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
  let a = splitmix32(), b = splitmix32(), c = splitmix32(), d = splitmix32();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A sampler over weighted choices (weights ≥ 0, not all zero). */
function weighted<T>(entries: readonly (readonly [T, number])[]): (rand: () => number) => T {
  const values = entries.map(([value]) => value);
  const cumulative = new Float64Array(entries.length);
  let total = 0;
  entries.forEach(([, weight], i) => { total += weight; cumulative[i] = total; });
  if (!(total > 0)) throw new Error('gen: a weighted table needs a positive total weight');
  return (rand) => {
    const u = rand() * total;
    for (let i = 0; i < cumulative.length - 1; i++) if (u < cumulative[i]) return values[i];
    return values[values.length - 1];
  };
}

/** Two independent standard normal draws (Box–Muller). */
function gaussianPair(rand: () => number): [number, number] {
  const r = Math.sqrt(-2 * Math.log(1 - rand()));
  const theta = 2 * Math.PI * rand();
  return [r * Math.cos(theta), r * Math.sin(theta)];
}

// ---------------------------------------------------------------------------------------------------------
// The world: districts and taxonomy, loaded once and checked against the profile above.

interface TaxonomyFile {
  terms: { id: string; facet: string; parent: string | null; label: { zh: string; en: string } }[];
}

interface DistrictModel {
  area: Area;
  /** Name without the trailing 区 (海淀), and in English. */
  short: string;
  en: string;
  roads: readonly string[];
  seat: LngLat;
  bbox: [number, number, number, number];
}

interface TypeModel {
  id: string;
  word: readonly [string, string];
  free: number;
  booking: number;
  /** Probability of `zhi.science` for a row of this type. */
  scienceRate: number;
  hours: (rand: () => number) => string;
  tag: (rand: () => number) => string;
  domainTag: (rand: () => number) => string;
}

/** Districts, taxonomy-derived tables and samplers the generator draws from. Immutable. */
export interface GenWorld {
  /** The project's index of the districts, the authority on which district holds a point. */
  index: AreaIndex;
  /** The district holding a WGS-84 point, as `index.districtOf` answers (through a cache). */
  districtOf: (point: LngLat) => Area | undefined;
  districts: readonly DistrictModel[];
  /** Taxonomy file position of each taggable term, for writing tags in a stable order. */
  termOrder: ReadonlyMap<string, number>;
  domainTerms: ReadonlySet<string>;
  pickType: (rand: () => number) => TypeModel;
  pickCluster: (rand: () => number) => Cluster;
  pickDistrict: (rand: () => number) => DistrictModel;
}

/** Reads the district polygons and the taxonomy from the repository and builds the generator's tables. */
export function loadWorld(): GenWorld {
  const geojson = JSON.parse(readFileSync(new URL('../data/districts.wgs84.geojson', import.meta.url), 'utf8')) as
    { features: Feature[] };
  const taxonomy = JSON.parse(readFileSync(new URL('../taxonomy/taxonomy.json', import.meta.url), 'utf8')) as
    TaxonomyFile;
  return buildWorld(geojson, taxonomy);
}

function buildWorld(geojson: { features: Feature[] }, taxonomy: TaxonomyFile): GenWorld {
  const areas = districtsFromGeoJson(geojson);
  const index = new AreaIndex(areas);
  const districts = areas.map((area): DistrictModel => {
    const profile = DISTRICTS[area.id];
    if (!profile) throw new Error(`gen: district ${area.id} (${area.name}) has no profile in scripts/gen.ts`);
    const seat = (area.properties.center ?? area.properties.centroid) as LngLat;
    return {
      area, short: area.name.replace(/区$/, ''), en: profile.en, roads: profile.roads, seat,
      bbox: turfBbox(area.geometry) as [number, number, number, number],
    };
  });
  const byId = new Map(taxonomy.terms.map((t) => [t.id, t]));
  const known = (id: string, why: string): void => {
    if (!byId.has(id)) throw new Error(`gen: ${why} '${id}' is not in taxonomy/taxonomy.json`);
  };
  for (const id of Object.keys(TERM_RATE)) known(id, 'TERM_RATE term');
  for (const id of TAG_RANK) known(id, 'TAG_RANK term');

  const taggable = new Set(['domain', 'theme', 'scenario']);
  const tagTerms = taxonomy.terms.filter((t) => taggable.has(t.facet));
  const termOrder = new Map(tagTerms.map((t, i) => [t.id, i]));
  const domainTerms = new Set(tagTerms.filter((t) => t.facet === 'domain').map((t) => t.id));
  const controlled = new Set<string>(Object.keys(TERM_RATE));
  // Facet roots other than the five domains (`theme`, `scenario`) name a facet, not a subject: never tags.
  const ranked = [...TAG_RANK, ...tagTerms.map((t) => t.id).filter((id) => !TAG_RANK.includes(id))]
    .filter((id) => !controlled.has(id))
    .filter((id) => byId.get(id)!.parent !== null || byId.get(id)!.facet === 'domain');

  const typeTerms = taxonomy.terms.filter((t) => t.facet === 'type');
  for (const id of Object.keys(TYPES)) known(id, 'type');
  const profiles = typeTerms.map((t) => ({ id: t.id, ...(TYPES[t.id] ?? { ...DEFAULT_TYPE, word: [t.label.zh, t.label.en] }) }));
  for (const p of profiles) for (const id of p.boosts) known(id, `boost of type ${p.id}`);
  const totalWeight = profiles.reduce((sum, p) => sum + p.weight, 0);
  const meanScience = profiles.reduce((sum, p) => sum + (p.weight / totalWeight) * p.science, 0);

  const types = profiles.map((p): TypeModel => {
    const scienceRate = (TERM_RATE[TERM_FREQUENCY.common] * p.science) / meanScience;
    if (scienceRate > 1) throw new Error(`gen: type ${p.id} would carry ${TERM_FREQUENCY.common} with p > 1; lower its affinity`);
    const entries = ranked.map((id, rank) => [id, (p.boosts.includes(id) ? TYPE_BOOST : 1) / (rank + 1)] as const);
    return {
      id: p.id, word: p.word, free: p.free, booking: p.booking, scienceRate,
      hours: weighted(HOURS[p.hours]),
      tag: weighted(entries),
      domainTag: weighted(entries.filter(([id]) => domainTerms.has(id))),
    };
  });

  return {
    index, districts, termOrder, domainTerms,
    districtOf: (point) => index.districtOf(point),
    pickType: weighted(types.map((t, i) => [t, profiles[i].weight] as const)),
    pickCluster: weighted(CLUSTERS.map((c) => [c, c.weight] as const)),
    pickDistrict: weighted(districts.map((d) => [d, DISTRICTS[d.area.id].weight] as const)),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rows.

const KM_PER_DEGREE_LAT = 111.32;
/** Draws per point before giving up; every draw is accepted with probability ≥ ~0.2, so this never trips. */
const MAX_TRIES = 10_000;

interface Placed { district: DistrictModel; lng: string; lat: string }

/**
 * A point drawn around `centre` (σ in km), or uniformly in `within`'s bounding box, rounded to 6 decimals
 * and accepted only when the rounded point lies in Beijing (and in `within`, when given).
 */
function place(world: GenWorld, rand: () => number, within: DistrictModel | undefined,
  centre: LngLat | undefined, sigmaKm: number): Placed {
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    let lng: number, lat: number;
    if (centre) {
      const [dx, dy] = gaussianPair(rand);
      lat = centre[1] + (dy * sigmaKm) / KM_PER_DEGREE_LAT;
      lng = centre[0] + (dx * sigmaKm) / (KM_PER_DEGREE_LAT * Math.cos((centre[1] * Math.PI) / 180));
    } else {
      const [minX, minY, maxX, maxY] = within!.bbox;
      lng = minX + rand() * (maxX - minX);
      lat = minY + rand() * (maxY - minY);
    }
    // Check the point the CSV will carry, not the unrounded one: a point near a border may change sides.
    const lngText = lng.toFixed(6), latText = lat.toFixed(6);
    const area = world.districtOf([Number(lngText), Number(latText)]);
    if (!area || (within && area.id !== within.area.id)) continue;
    // world.districts is index.areas mapped in order.
    const district = within ?? world.districts[world.index.areas.indexOf(area)];
    return { district, lng: lngText, lat: latText };
  }
  throw new Error(`gen: no point found in ${within?.area.name ?? 'Beijing'} after ${MAX_TRIES} draws`);
}

function drawPoint(world: GenWorld, rand: () => number): Placed {
  if (rand() < CLUSTER_SHARE) {
    const cluster = world.pickCluster(rand);
    return place(world, rand, undefined, cluster.centre, cluster.sigmaKm);
  }
  const district = world.pickDistrict(rand);
  return rand() < SEAT_SHARE
    ? place(world, rand, district, district.seat, SEAT_SIGMA_KM)
    : place(world, rand, district, undefined, 0);
}

const pickExtra = weighted(EXTRA_TAGS);
const pickStageStart = weighted(STAGE_START);
const pickStageLength = weighted(STAGE_LENGTH);

function drawTags(world: GenWorld, type: TypeModel, rand: () => number): string {
  const tags = new Set<string>();
  const extra = pickExtra(rand);
  while (tags.size < extra) tags.add(type.tag(rand));
  if (rand() < type.scienceRate) tags.add(TERM_FREQUENCY.common);
  if (rand() < TERM_RATE[TERM_FREQUENCY.rare]) tags.add(TERM_FREQUENCY.rare);
  if (rand() < TERM_RATE[TERM_FREQUENCY.veryRare]) tags.add(TERM_FREQUENCY.veryRare);
  if (![...tags].some((id) => world.domainTerms.has(id))) tags.add(type.domainTag(rand));
  return [...tags].sort((a, b) => world.termOrder.get(a)! - world.termOrder.get(b)!).join('|');
}

function drawStages(rand: () => number): string {
  const start = pickStageStart(rand);
  const length = Math.min(pickStageLength(rand), STAGES.length - start);
  return STAGES.slice(start, start + length).join('|');
}

/**
 * Yields `count` synthetic resources for `seed` (a safe integer), the same ones on every run. Ids are
 * `gen-<seed>-<n>` with n from 1, zero-padded to the width of `count`. `world` defaults to the repository's
 * districts and taxonomy (read from disk on each call; pass one from `loadWorld()` to reuse it).
 */
export function* generateRows(count: number, seed: number, world: GenWorld = loadWorld()): Generator<GeneratedRow> {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`gen: count must be an integer ≥ 0, got ${count}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`gen: seed must be a safe integer, got ${seed}`);
  const rand = createRandom(seed);
  const width = String(count).length;
  const source = `synthetic (edumap gen, seed ${seed})`;
  for (let n = 1; n <= count; n++) {
    const number = String(n).padStart(width, '0');
    const type = world.pickType(rand);
    const { district, lng, lat } = drawPoint(world, rand);
    const [wordZh, wordEn] = NAME_WORDS[Math.floor(rand() * NAME_WORDS.length)];
    const road = district.roads[Math.floor(rand() * district.roads.length)];
    yield {
      id: `gen-${seed}-${number}`,
      name: `${district.short}${wordZh}${type.word[0]} ${number}`,
      name_en: `${district.en} ${wordEn} ${type.word[1]} ${number}`,
      type: type.id,
      lng,
      lat,
      crs: 'wgs84',
      district: rand() < DISTRICT_BLANK_RATE ? '' : district.area.id,
      address: `${district.area.name} ${road} ${1 + Math.floor(rand() * 200)}号`,
      tags: drawTags(world, type, rand),
      stages: drawStages(rand),
      opening_hours: type.hours(rand),
      free: String(rand() < type.free),
      booking_required: String(rand() < type.booking),
      phone: '',
      url: '',
      source,
      coord_precision_m: '',
      notes: '',
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// CSV.

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV cell, quoted RFC 4180 style when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV record in COLUMNS order, ending in LF. */
export function csvLine(row: GeneratedRow): string {
  let line = csvField(row[COLUMNS[0]]);
  for (let i = 1; i < COLUMNS.length; i++) line += ',' + csvField(row[COLUMNS[i]]);
  return line + '\n';
}

/** Characters buffered before each write. */
const CHUNK_CHARS = 1 << 16;

/**
 * Writes the header and `rows` to `out` in chunks, waiting for 'drain' whenever the stream asks to; does not
 * end the stream. Resolves to the number of rows written; rejects if the stream fails.
 */
export async function writeCsv(out: Writable, rows: Iterable<GeneratedRow>): Promise<number> {
  let written = 0;
  const counted = function* () {
    for (const row of rows) {
      written++;
      yield row;
    }
  };
  for (const chunk of csvChunks(counted())) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  return written;
}

/** The CSV text of `rows`, header first, in chunks of about CHUNK_CHARS: stream it, or import it directly. */
export function* csvChunks(rows: Iterable<GeneratedRow>): Generator<string> {
  let chunk = COLUMNS.join(',') + '\n';
  for (const row of rows) {
    chunk += csvLine(row);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

// ---------------------------------------------------------------------------------------------------------
// CLI.

const USAGE = `usage: npm run -s gen -- --count N [--seed S] [--out FILE]
  --count N   rows to write, a positive integer (required)
  --seed S    PRNG seed, an integer (default 1; a negative one as --seed=-5); the same count and
              seed give the same file
  --out FILE  write to FILE instead of stdout
`;

class UsageError extends Error {}

function parseCli(argv: string[]): { count: number; seed: number; out: string | undefined; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      count: { type: 'string', short: 'n' },
      seed: { type: 'string', short: 's', default: '1' },
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { count: 0, seed: 1, out: undefined, help: true };
  if (values.count === undefined) throw new UsageError('--count is required');
  const count = Number(values.count);
  if (!/^\d+$/.test(values.count) || !Number.isSafeInteger(count) || count < 1) {
    throw new UsageError(`--count must be a positive integer, got '${values.count}'`);
  }
  const seed = Number(values.seed);
  if (!/^-?\d+$/.test(values.seed!) || !Number.isSafeInteger(seed)) {
    throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  }
  if (values.out === '') throw new UsageError('--out needs a file name');
  return { count, seed, out: values.out, help: false };
}

/**
 * Runs the command line (`argv` without node and script): writes the CSV, prints a one-line summary to
 * stderr. Resolves to the exit code: 0 done, 1 the output failed, 2 a usage error.
 */
export async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseCli>;
  try {
    options = parseCli(argv);
  } catch (err) {
    process.stderr.write(`gen: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = performance.now();
  const out = options.out ? createWriteStream(options.out) : process.stdout;
  const target = options.out ?? 'stdout';
  let rows: number;
  try {
    rows = await writeCsv(out, generateRows(options.count, options.seed));
    if (options.out) {
      out.end();
      await finished(out);
    }
  } catch (err) {
    // A reader that stops early (`| head`) is not a failure of the generator.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    process.stderr.write(`gen: cannot write ${target}: ${(err as Error).message}\n`);
    return 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stderr.write(`gen: ${rows} rows (seed ${options.seed}) in ${seconds.toFixed(2)} s → ${target}; peak RSS ${peakMb} MB\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
