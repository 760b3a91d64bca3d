import KDBush from 'kdbush';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import type { ResourceReader } from '../store/resource-reader.js';
import type { AreaIndex, Area } from '../geo/areas.js';
import type { Calendar } from '../calendar/calendar.js';
import { isOpenAt, parseHoursWithCalendar, type CalendarHours } from '../calendar/hours.js';
import { AppError } from '../errors.js';
import { DOMAIN_ROOTS, type SnapshotParts, type Vocabulary } from './parts.js';
import type { RecordCache } from './records.js';
import type { HierarchyCache } from './hierarchy-cache.js';
import type { HierarchyInput, HierarchyParts } from './hierarchy.js';
import { bytesOf, indexOfId } from './ids.js';

/**
 * What a snapshot answers with, besides its own data: the taxonomy, the areas, the store, the calendar.
 * A base snapshot and its overlays share one context (an overlay never changes the structure).
 */
export interface SnapshotContext {
  tax: Taxonomy;
  areas: AreaIndex;
  vocab: Vocabulary;
  reader: ResourceReader;
  records: RecordCache;
  calendar: Calendar;
  parses: HoursParses;
  /** Builds a cluster hierarchy of some of a snapshot's points (in the build worker for many); none: in place. */
  hierarchies?: (input: HierarchyInput) => Promise<HierarchyParts>;
  /** Where the map's hierarchies are kept (one per holder); none: a cache of the process's own. */
  clusterCache?: HierarchyCache;
}

/**
 * An immutable, in-memory index of current resources. Parallel typed arrays hold what queries filter on
 * (index i is the i-th resource in id order); kdbush holds the points; posting lists (sorted indices) hold
 * who has each term, type and district. Full records are the store's, found by `seq` for the resources an
 * answer shows: in the holder's record cache (`records.ts`), else read from the store. Built from
 * `SnapshotParts` (in a worker thread, or here for a small overlay), never mutated: a view (`View`) of the
 * store is a base snapshot and, at most, a small overlay snapshot.
 */
export class Snapshot {
  /** The 五育 roots in `primaryDomain` order. */
  static readonly DOMAIN_ROOTS = DOMAIN_ROOTS;
  readonly size: number;
  readonly generation: number;
  /** The structure counter (areas, calendar) the data was read with. */
  readonly structure: number;
  /** The last batch publication this snapshot's data includes. */
  readonly publishedSeq: number;
  /** Row version of each resource in the store: its `doc` is read by this. */
  readonly seqs: Float64Array;
  readonly lng: Float64Array;
  readonly lat: Float64Array;
  readonly typeCode: Uint8Array;
  readonly districtCode: Uint8Array;
  /** Stage bits: the resource's stages with their ancestors and descendants (primary matches primary.lower). */
  readonly stageMask: Uint8Array;
  /** 1 free, 0 not, -1 unknown. */
  readonly free: Int8Array;
  /** Index into `hoursText`, or -1 when unknown. */
  readonly hoursCode: Int32Array;
  readonly hoursText: string[];
  /** Term bits, `termWords` 32-bit words per resource: tagged terms and all their ancestors. */
  readonly termMask: Uint32Array;
  /** Index in DOMAIN_ROOTS of the root of each resource's first domain tag (the map's colour); 255: none. */
  readonly primaryDomain: Uint8Array;
  /** Sorted resource indices per term (ancestors included), type and district. */
  readonly termPostings: ReadonlyMap<string, Uint32Array>;
  readonly typePostings: ReadonlyMap<string, Uint32Array>;
  readonly districtPostings: ReadonlyMap<string, Uint32Array>;
  readonly points: KDBush;
  readonly builtAt = new Date();
  readonly ctx: SnapshotContext;
  readonly tax: Taxonomy;
  readonly areas: AreaIndex;
  readonly calendar: Calendar;
  readonly types: readonly string[];
  readonly districts: readonly string[];
  readonly stageBit: ReadonlyMap<string, number>;
  readonly termBit: ReadonlyMap<string, number>;
  readonly termWords: number;
  /** The ids as UTF-8 joined by U+000A, and the byte where each starts. */
  private readonly ids: Buffer;
  private readonly idStart: Uint32Array;
  /** Lower-cased `name U+0001 name_en` of every resource as UTF-8 joined by U+000A, and the byte where each starts. */
  private readonly names: { bytes: Buffer; start: Uint32Array };
  /** The same lines as stored (see `labelOf`). */
  private readonly labels: { bytes: Buffer; start: Uint32Array };
  /** Each distinct hours text parsed and read with `calendar` (null: unparseable), on first use. */
  private readonly parsedHours: (CalendarHours | null | undefined)[];
  /** Sub-indices per posting list, built on first use (see `pointsOf`). */
  private readonly subIndices = new Map<Uint32Array, KDBush>();
  private readonly openMemos = new Map<number, Int8Array>();

  /** What the snapshot was made of (shared memory: a fold reads it in a worker thread). */
  readonly parts: SnapshotParts;

  constructor(parts: SnapshotParts, ctx: SnapshotContext) {
    this.parts = parts;
    this.size = parts.size;
    this.generation = parts.generation;
    this.structure = parts.structure;
    this.publishedSeq = parts.publishedSeq;
    ({ seqs: this.seqs, lng: this.lng, lat: this.lat, typeCode: this.typeCode, districtCode: this.districtCode, stageMask: this.stageMask,
      free: this.free, hoursCode: this.hoursCode, hoursText: this.hoursText, termMask: this.termMask, primaryDomain: this.primaryDomain,
      termPostings: this.termPostings, typePostings: this.typePostings, districtPostings: this.districtPostings,
      idStart: this.idStart } = parts);
    this.ids = bytesOf(parts.ids);
    this.names = { bytes: bytesOf(parts.names.bytes), start: parts.names.start };
    this.labels = { bytes: bytesOf(parts.labels.bytes), start: parts.labels.start };
    this.points = KDBush.from(parts.points);
    this.ctx = ctx;
    ({ tax: this.tax, areas: this.areas, calendar: this.calendar } = ctx);
    ({ types: this.types, districts: this.districts, stageBit: this.stageBit, termBit: this.termBit, termWords: this.termWords } = ctx.vocab);
    this.parsedHours = new Array(this.hoursText.length);
  }

  /** The public id of resource i. */
  idOf(i: number): string {
    return this.ids.toString('utf8', this.idStart[i], this.idStart[i + 1] - 1);
  }

  /** The `name` and `name_en` of resource i as stored (`nameEn` null when it has none), without reading its record. */
  labelOf(i: number): { name: string; nameEn: string | null } {
    const { bytes, start } = this.labels;
    const line = bytes.toString('utf8', start[i], start[i + 1] - 1);
    const cut = line.indexOf('\u0001');
    return { name: line.slice(0, cut), nameEn: cut + 1 < line.length ? line.slice(cut + 1) : null };
  }

  /** Where resource i's id (0), name (1) or name_en (2) is as UTF-8, as `labelOf` reads them (see `Derived.spanOf`). */
  spanOf(i: number, what: 0 | 1 | 2, span: Int32Array): Buffer | null {
    if (what === 0) {
      span[0] = this.idStart[i];
      span[1] = this.idStart[i + 1] - 1;
      return this.ids;
    }
    const { bytes, start } = this.labels;
    const from = start[i];
    const to = start[i + 1] - 1;
    let cut = from;
    while (cut < to && bytes[cut] !== 1) cut++;
    if (what === 1) {
      span[0] = from;
      span[1] = cut;
      return bytes;
    }
    if (cut + 1 >= to) return null;
    span[0] = cut + 1;
    span[1] = to;
    return bytes;
  }

  /**
   * Marks the resources whose `name` or `name_en` contains `needle` (case-insensitive): one native
   * `indexOf` sweep over all names, each hit mapped to its resource by binary search.
   */
  nameMatches(needle: string): Uint8Array {
    const hits = new Uint8Array(this.size);
    // eslint-disable-next-line no-control-regex -- the separators of the names text
    const want = needle.toLowerCase().replace(/[\n\u0001]/g, '');
    if (!want) return hits.fill(1);
    const { bytes, start } = this.names;
    const pattern = Buffer.from(want, 'utf8');
    for (let at = bytes.indexOf(pattern); at >= 0;) {
      let lo = 0;
      let hi = this.size - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (start[mid] <= at) lo = mid;
        else hi = mid - 1;
      }
      hits[lo] = 1;
      at = bytes.indexOf(pattern, start[lo + 1]); // one hit per resource is enough
    }
    return hits;
  }

  /**
   * The index of a public id; -1 when absent: binary search over the ids' bytes, which the store sorted
   * bytewise (SQLite's BINARY collation, PostgreSQL's "C").
   */
  indexOf(id: string): number {
    return indexOfId(this.ids, this.idStart, this.size, id);
  }

  /**
   * The stored records (answer JSON without location) of snapshot indices, in order: from the record
   * cache, the rest in one store read. `open`: without their closing brace, for members to be added. A
   * version gone from the store (the snapshot outlived the retention grace) is a 503 `snapshot_expired`.
   */
  async records(indices: readonly number[], open = false): Promise<string[]> {
    const { records, reader } = this.ctx;
    const out = indices.map((i) => records.get(this.seqs[i], this, i));
    const missing = indices.filter((_, k) => out[k] === undefined).map((i) => this.seqs[i]);
    if (missing.length) {
      const docs = await reader.docs(missing);
      let m = 0;
      for (let k = 0; k < out.length; k++) {
        if (out[k] !== undefined) continue;
        const seq = missing[m];
        const doc = docs[m++];
        if (doc === undefined) throw expired();
        records.set(seq, doc, this, indices[k]);
        out[k] = doc.slice(0, -1);
      }
    }
    return open ? out as string[] : out.map((text) => `${text}}`);
  }

  /** Whether resource i is open at the instant, by its opening_hours; unknown hours are never open. */
  openAt(i: number, instant: Date, memo: Int8Array): boolean {
    const code = this.hoursCode[i];
    if (code < 0) return false;
    if (memo[code] === 0) {
      const hours = this.hoursAt(code);
      memo[code] = hours !== null && isOpenAt(hours, instant) ? 1 : 2;
    }
    return memo[code] === 1;
  }

  /** The opening hours of resource i, read with this snapshot's calendar; null when it has none (or they do not parse). */
  hoursOf(i: number): CalendarHours | null {
    const code = this.hoursCode[i];
    return code < 0 ? null : this.hoursAt(code);
  }

  private hoursAt(code: number): CalendarHours | null {
    let hours = this.parsedHours[code];
    if (hours === undefined) hours = this.parsedHours[code] = this.ctx.parses.get(this.hoursText[code], this.calendar);
    return hours;
  }

  /**
   * A kdbush over just the resources of a posting list (ids of the sub-index are positions in the list),
   * built on first use and kept for this snapshot's life: kNN over a rare term then costs what kNN over
   * all points costs, instead of scanning until enough rare points turn up.
   */
  pointsOf(list: Uint32Array): KDBush {
    let index = this.subIndices.get(list);
    if (!index) {
      index = new KDBush(Math.max(1, list.length), 64, Float64Array);
      for (const i of list) index.add(this.lng[i], this.lat[i]);
      if (list.length === 0) index.add(0, 0); // kdbush needs one point; position 0 of an empty list is never read
      index.finish();
      this.subIndices.set(list, index);
    }
    return index;
  }

  /**
   * Which hours texts say open at the instant: one evaluation per distinct text, remembered for the
   * last few instants asked (queries for "open on Saturday at 14:00" repeat the same instant).
   */
  openMemo(instant: Date): Int8Array {
    const key = instant.getTime();
    let memo = this.openMemos.get(key);
    if (!memo) {
      memo = new Int8Array(this.hoursText.length);
      if (this.openMemos.size >= 64) this.openMemos.delete(this.openMemos.keys().next().value!);
      this.openMemos.set(key, memo);
    }
    return memo;
  }

  /** The area with this id, if any. */
  area(id: string): Area | undefined {
    return this.areas.get(id);
  }
}

/**
 * Opening hours parsed once per distinct text and kept across snapshots: a snapshot built after a write
 * batch (or with a newly loaded year) re-reads them with its calendar instead of parsing again (≈1 ms each).
 */
export class HoursParses {
  private readonly byText = new Map<string, CalendarHours | null>();

  /** @param max distinct texts kept; past it the cache starts again. */
  constructor(private readonly max = 10_000) {}

  /** `text` read with `calendar`; null when it is not valid opening_hours (import refuses those, so: never, in practice). */
  get(text: string, calendar: Calendar): CalendarHours | null {
    let hours = this.byText.get(text);
    if (hours === undefined) {
      const parsed = parseHoursWithCalendar(text, calendar);
      hours = 'hours' in parsed ? parsed.hours : null;
    } else if (hours !== null && hours.calendar !== calendar) {
      hours = hours.withCalendar(calendar);
    } else {
      return hours;
    }
    if (this.byText.size >= this.max) this.byText.clear();
    this.byText.set(text, hours);
    return hours;
  }
}

/** A Buffer over the same memory as `bytes` (no copy). */

function expired(): AppError {
  return new AppError('snapshot_expired', 'the index this request used was replaced long ago; retry the request',
    { extra: { retry_after_s: 1 } });
}
