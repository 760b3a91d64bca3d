import KDBush from 'kdbush';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import { expandTerm, termsOfFacet } from '../taxonomy/taxonomy.js';
import type { ResourceReader } from '../store/resources.js';
import { AreaIndex, type Area } from '../geo/areas.js';
import { parseHours, isOpenAt } from '../hours.js';

type Hours = Extract<ReturnType<typeof parseHours>, { hours: unknown }>['hours'];

/**
 * An immutable, in-memory index of every current resource, built from the store in one pass. Parallel
 * typed arrays hold what queries filter on (index i is the i-th resource in id order); kdbush holds the
 * points; posting lists (sorted indices) hold who has each term, type and district. Full records stay in
 * SQLite and are read by `seq` for the few resources an answer shows. Replaced whole, never mutated.
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
  /** `name` and `name_en`, lower-cased, for `q`. */
  readonly searchText: string[];
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
  readonly typePostings: ReadonlyMap<string, Uint32Array>;
  readonly districtPostings: ReadonlyMap<string, Uint32Array>;
  readonly points: KDBush;
  readonly builtAt = new Date();
  private readonly parsedHours: (Hours | null | undefined)[];
  /** Sub-indices per posting list, built on first use (see `pointsOf`). */
  private readonly subIndices = new Map<Uint32Array, KDBush>();

  constructor(
    readonly generation: number,
    readonly tax: Taxonomy,
    readonly areas: AreaIndex,
    readonly reader: ResourceReader,
  ) {
    const n = reader.size();
    this.size = n;
    this.ids = new Array(n);
    this.searchText = new Array(n);
    this.seqs = new Float64Array(n);
    this.lng = new Float64Array(n);
    this.lat = new Float64Array(n);
    this.typeCode = new Uint8Array(n);
    this.districtCode = new Uint8Array(n);
    this.stageMask = new Uint8Array(n);
    this.free = new Int8Array(n);
    this.hoursCode = new Int32Array(n);

    this.types = termsOfFacet(tax, 'type');
    this.districts = areas.list('district').map((a) => a.id);
    const typeIndex = new Map(this.types.map((t, i) => [t, i]));
    const districtIndex = new Map(this.districts.map((d, i) => [d, i]));
    const stages = termsOfFacet(tax, 'stage');
    this.stageBit = new Map(stages.map((s, i) => [s, i]));
    const stageBits = new Map<string, number>();
    for (const s of stages) stageBits.set(s, relatedMask(tax, s, this.stageBit));

    const taggable = tax.terms.filter((t) => tax.facets[t.facet].taggable).map((t) => t.id);
    this.termBit = new Map(taggable.map((t, i) => [t, i]));
    this.termWords = Math.max(1, Math.ceil(taggable.length / 32));
    this.termMask = new Uint32Array(n * this.termWords);
    // A tag sets its own bit and its ancestors' bits, so a filter on 'zhi' finds 'zhi.science'.
    const ancestorBits = new Map<string, number[]>();
    for (const id of taggable) {
      const bits: number[] = [];
      for (let at: string | null = id; at !== null; at = tax.byId.get(at)!.parent) bits.push(this.termBit.get(at)!);
      ancestorBits.set(id, bits);
    }

    const hoursIndex = new Map<string, number>();
    this.hoursText = [];
    const seqIndex = new Map<number, number>();
    const points = new KDBush(n, 64, Float64Array);
    let i = 0;
    for (const row of reader.rows()) {
      if (i >= n) throw new Error('the store changed while a snapshot was built from it; build inside a read transaction');
      this.ids[i] = row.id;
      this.seqs[i] = row.seq;
      seqIndex.set(row.seq, i);
      this.lng[i] = row.lng;
      this.lat[i] = row.lat;
      points.add(row.lng, row.lat);
      this.searchText[i] = row.name_en ? `${row.name}\u0001${row.name_en}`.toLowerCase() : row.name.toLowerCase();
      this.typeCode[i] = typeIndex.get(row.type) ?? 255;
      this.districtCode[i] = districtIndex.get(row.district) ?? 255;
      let mask = 0;
      if (row.stages) for (const s of row.stages.split('|')) mask |= stageBits.get(s) ?? 0;
      this.stageMask[i] = mask;
      this.free[i] = row.free === null ? -1 : row.free;
      if (row.opening_hours === null) this.hoursCode[i] = -1;
      else {
        let code = hoursIndex.get(row.opening_hours);
        if (code === undefined) {
          code = this.hoursText.push(row.opening_hours) - 1;
          hoursIndex.set(row.opening_hours, code);
        }
        this.hoursCode[i] = code;
      }
      i++;
    }
    if (i !== n) throw new Error('the store changed while a snapshot was built from it; build inside a read transaction');
    this.points = points.finish();
    this.parsedHours = new Array(this.hoursText.length);

    const W = this.termWords;
    for (const [seq, term] of reader.termRows()) {
      const at = seqIndex.get(seq);
      const bits = ancestorBits.get(term);
      if (at === undefined || !bits) continue;
      for (const b of bits) this.termMask[at * W + (b >>> 5)] |= 1 << (b & 31);
    }
    this.termPostings = postings(taggable, n, (j, k) => (this.termMask[j * W + (k >>> 5)] & (1 << (k & 31))) !== 0);
    this.typePostings = postings(this.types, n, (j, k) => this.typeCode[j] === k);
    this.districtPostings = postings(this.districts, n, (j, k) => this.districtCode[j] === k);
  }

  /** Whether resource i is open at the instant, by its opening_hours; unknown hours are never open. */
  openAt(i: number, instant: Date, memo: Int8Array): boolean {
    const code = this.hoursCode[i];
    if (code < 0) return false;
    if (memo[code] === 0) {
      let hours = this.parsedHours[code];
      if (hours === undefined) {
        const parsed = parseHours(this.hoursText[code]);
        hours = this.parsedHours[code] = 'hours' in parsed ? parsed.hours : null;
      }
      memo[code] = hours !== null && isOpenAt(hours, instant) ? 1 : 2;
    }
    return memo[code] === 1;
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

  /** The area with this id, if any. */
  area(id: string): Area | undefined {
    return this.areas.get(id);
  }
}

function relatedMask(tax: Taxonomy, id: string, bit: ReadonlyMap<string, number>): number {
  let mask = 0;
  for (const d of expandTerm(tax, id)) mask |= 1 << bit.get(d)!;
  for (let at = tax.byId.get(id)!.parent; at !== null; at = tax.byId.get(at)!.parent) mask |= 1 << bit.get(at)!;
  return mask;
}

function postings(keys: readonly string[], n: number, has: (i: number, k: number) => boolean): Map<string, Uint32Array> {
  const counts = new Uint32Array(keys.length);
  for (let i = 0; i < n; i++) for (let k = 0; k < keys.length; k++) if (has(i, k)) counts[k]++;
  const lists = keys.map((_, k) => new Uint32Array(counts[k]));
  const fill = new Uint32Array(keys.length);
  for (let i = 0; i < n; i++) for (let k = 0; k < keys.length; k++) if (has(i, k)) lists[k][fill[k]++] = i;
  return new Map(keys.map((key, k) => [key, lists[k]]));
}
