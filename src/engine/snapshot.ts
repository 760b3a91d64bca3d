import KDBush from 'kdbush';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import { expandTerm, rootOf, termsOfFacet } from '../taxonomy/taxonomy.js';
import type { ResourceReader, ScanText } from '../store/resource-reader.js';
import { AreaIndex, type Area } from '../geo/areas.js';
import type { Calendar } from '../calendar/calendar.js';
import { isOpenAt, parseHoursWithCalendar, type CalendarHours } from '../calendar/hours.js';
import { AppError } from '../errors.js';
import { decodeColumns } from './columns.js';

/**
 * An immutable, in-memory index of every current resource, built from the store in one pass. Parallel
 * typed arrays hold what queries filter on (index i is the i-th resource in id order); kdbush holds the
 * points; posting lists (sorted indices) hold who has each term, type and district. Full records stay in
 * the store and are read by `seq` for the few resources an answer shows. Replaced whole, never mutated.
 */
export class Snapshot {
  /** Number of resources. */
  readonly size: number;
  /** Public ids, sorted (index order). */
  readonly ids: string[];
  /** Row version of each resource in the store: its `doc` is read by this. */
  readonly seqs: Float64Array;
  readonly lng: Float64Array;
  readonly lat: Float64Array;
  readonly typeCode: Uint8Array;
  readonly types: string[];
  readonly districtCode: Uint8Array;
  readonly districts: string[];
  /** Stage bits: the resource's stages with their ancestors and descendants (primary matches primary.lower). */
  readonly stageMask: Uint8Array;
  readonly stageBit: ReadonlyMap<string, number>;
  /** 1 free, 0 not, -1 unknown. */
  readonly free: Int8Array;
  /** Index into `hoursText`, or -1 when unknown. */
  readonly hoursCode: Int32Array;
  readonly hoursText: string[];
  /** Term bits, `termWords` 32-bit words per resource: tagged terms and all their ancestors. */
  readonly termMask: Uint32Array;
  readonly termWords: number;
  readonly termBit: ReadonlyMap<string, number>;
  /** Sorted resource indices per term (ancestors included), type and district. */
  readonly termPostings: ReadonlyMap<string, Uint32Array>;
  /** The 五育 roots in `primaryDomain` order. */
  static readonly DOMAIN_ROOTS = ['de', 'zhi', 'ti', 'mei', 'lao'] as const;
  /** Index in DOMAIN_ROOTS of the root of each resource's first domain tag (the map's colour); 255: none. */
  readonly primaryDomain: Uint8Array;
  readonly typePostings: ReadonlyMap<string, Uint32Array>;
  readonly districtPostings: ReadonlyMap<string, Uint32Array>;
  readonly points: KDBush;
  readonly builtAt = new Date();
  readonly areas: AreaIndex;
  /** Lower-cased `name U+0001 name_en` of every resource joined by U+000A, and where each starts; read on first use. */
  private names?: { text: string; start: Uint32Array };
  /** Each distinct hours text parsed and read with `calendar` (null: unparseable), on first use. */
  private readonly parsedHours: (CalendarHours | null | undefined)[];
  /** Sub-indices per posting list, built on first use (see `pointsOf`). */
  private readonly subIndices = new Map<Uint32Array, KDBush>();
  private readonly openMemos = new Map<number, Int8Array>();

  /**
   * Builds the index from a store scan. `reader` reads full records (and names, on the first `q`) of the
   * versions this snapshot indexed. `calendar` says what `PH` means in every opening_hours this snapshot
   * evaluates; `parses` keeps hours parsed across snapshots (the holder passes one to each).
   */
  constructor(
    readonly generation: number,
    readonly tax: Taxonomy,
    areas: readonly Area[],
    scan: ScanText,
    readonly reader: ResourceReader,
    readonly calendar: Calendar,
    private readonly parses: HoursParses = new HoursParses(),
  ) {
    this.areas = new AreaIndex(areas);
    this.types = termsOfFacet(tax, 'type');
    this.districts = this.areas.list('district').map((a) => a.id);
    const stages = termsOfFacet(tax, 'stage');
    this.stageBit = new Map(stages.map((s, i) => [s, i]));
    const taggable = tax.terms.filter((t) => tax.facets[t.facet].taggable).map((t) => t.id);
    this.termBit = new Map(taggable.map((t, i) => [t, i]));
    this.termWords = Math.max(1, Math.ceil(taggable.length / 32));

    const cols = decodeColumns(scan, {
      types: this.types,
      districts: this.districts,
      stageMasks: new Map(stages.map((s) => [s, relatedMask(tax, s, this.stageBit)])),
      terms: taggable,
      domainRoots: new Map(tax.terms.filter((t) => t.facet === 'domain').map((t) => [t.id, (Snapshot.DOMAIN_ROOTS as readonly string[]).indexOf(rootOf(tax, t.id))])),
    });
    const n = cols.size;
    this.size = n;
    ({ ids: this.ids, seqs: this.seqs, lng: this.lng, lat: this.lat, typeCode: this.typeCode, districtCode: this.districtCode,
      stageMask: this.stageMask, free: this.free, hoursCode: this.hoursCode, hoursText: this.hoursText,
      primaryDomain: this.primaryDomain } = cols);
    this.parsedHours = new Array(this.hoursText.length);

    // A tag sets its own bit and its ancestors' bits, so a filter on 'zhi' finds 'zhi.science'.
    const W = this.termWords;
    const withAncestors = taggable.map((id) => {
      const mask = new Uint32Array(W);
      for (let at: string | null = id; at !== null; at = tax.byId.get(at)!.parent) {
        const b = this.termBit.get(at)!;
        mask[b >>> 5] |= 1 << (b & 31);
      }
      return mask;
    });
    this.termMask = new Uint32Array(n * W);
    for (let i = 0; i < n; i++) {
      for (let w = 0; w < W; w++) {
        for (let bits = cols.termBits[i * W + w]; bits !== 0; bits &= bits - 1) {
          const mask = withAncestors[w * 32 + 31 - Math.clz32(bits & -bits)];
          for (let v = 0; v < W; v++) this.termMask[i * W + v] |= mask[v];
        }
      }
    }

    const points = new KDBush(n, 64, Float64Array);
    for (let i = 0; i < n; i++) points.add(this.lng[i], this.lat[i]);
    this.points = points.finish();

    this.termPostings = bitPostings(taggable, this.termMask, W, n);
    this.typePostings = codePostings(this.types, this.typeCode);
    this.districtPostings = codePostings(this.districts, this.districtCode);
  }

  /**
   * Marks the resources whose `name` or `name_en` contains `needle` (case-insensitive): one native
   * `indexOf` sweep over all names, each hit mapped to its resource by binary search. Call `loadNames` first.
   */
  nameMatches(needle: string): Uint8Array {
    const hits = new Uint8Array(this.size);
    // eslint-disable-next-line no-control-regex -- the separators of the names text
    const want = needle.toLowerCase().replace(/[\n\u0001]/g, '');
    if (!want) return hits.fill(1);
    if (!this.names) throw new Error('Snapshot.nameMatches: await loadNames() first');
    const { text, start } = this.names;
    for (let at = text.indexOf(want); at >= 0;) {
      let lo = 0;
      let hi = this.size - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (start[mid] <= at) lo = mid;
        else hi = mid - 1;
      }
      hits[lo] = 1;
      at = text.indexOf(want, start[lo + 1]); // one hit per resource is enough
    }
    return hits;
  }

  /**
   * Reads every name of this snapshot's versions, once. Names serve only `q`; reading them costs more than
   * the rest of a build, so the first `q` pays for it.
   */
  async loadNames(): Promise<void> {
    if (this.names) return;
    const names = await this.reader.names(this.seqs, this.builtAt);
    if (names === undefined) throw expired();
    const text = names.toLowerCase();
    const start = new Uint32Array(this.size + 1);
    for (let i = 1, at = -1; i <= this.size; i++) {
      at = text.indexOf('\n', at + 1);
      start[i] = at < 0 ? text.length + 1 : at + 1;
    }
    this.names = { text, start };
  }

  /** The index of a public id; -1 when absent (binary search over the sorted ids). */
  indexOf(id: string): number {
    const ids = this.ids;
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = ids[mid];
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * The stored records (answer JSON without location) of snapshot indices, in order. A version gone from
   * the store (the snapshot outlived the retention grace) is a 503 `snapshot_expired`.
   */
  async records(indices: readonly number[]): Promise<string[]> {
    const docs = await this.reader.docs(indices.map((i) => this.seqs[i]));
    return docs.map((doc) => {
      if (doc === undefined) throw expired();
      return doc;
    });
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
    if (hours === undefined) hours = this.parsedHours[code] = this.parses.get(this.hoursText[code], this.calendar);
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

function expired(): AppError {
  return new AppError('snapshot_expired', 'the index this request used was replaced long ago; retry the request',
    { extra: { retry_after_s: 1 } });
}

function relatedMask(tax: Taxonomy, id: string, bit: ReadonlyMap<string, number>): number {
  let mask = 0;
  for (const d of expandTerm(tax, id)) mask |= 1 << bit.get(d)!;
  for (let at = tax.byId.get(id)!.parent; at !== null; at = tax.byId.get(at)!.parent) mask |= 1 << bit.get(at)!;
  return mask;
}

/** Sorted indices per key, for a code column (code k means keys[k]). */
function codePostings(keys: readonly string[], codes: Uint8Array): Map<string, Uint32Array> {
  const counts = new Uint32Array(256);
  for (let i = 0; i < codes.length; i++) counts[codes[i]]++;
  const lists = keys.map((_, k) => new Uint32Array(counts[k]));
  const fill = new Uint32Array(256);
  for (let i = 0; i < codes.length; i++) {
    const k = codes[i];
    if (k < keys.length) lists[k][fill[k]++] = i;
  }
  return new Map(keys.map((key, k) => [key, lists[k]]));
}

/** Sorted indices per key, for a bit-mask column of `words` 32-bit words (key k is bit k). */
function bitPostings(keys: readonly string[], masks: Uint32Array, words: number, n: number): Map<string, Uint32Array> {
  const counts = new Uint32Array(keys.length);
  const each = (visit: (i: number, k: number) => void) => {
    for (let i = 0; i < n; i++) {
      for (let w = 0; w < words; w++) {
        for (let bits = masks[i * words + w]; bits !== 0; bits &= bits - 1) visit(i, w * 32 + 31 - Math.clz32(bits & -bits));
      }
    }
  };
  each((_, k) => counts[k]++);
  const lists = keys.map((_, k) => new Uint32Array(counts[k]));
  const fill = new Uint32Array(keys.length);
  each((i, k) => (lists[k][fill[k]++] = i));
  return new Map(keys.map((key, k) => [key, lists[k]]));
}
