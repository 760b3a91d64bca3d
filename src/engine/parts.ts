import KDBush from 'kdbush';
import type { Taxonomy } from '../taxonomy/taxonomy.js';
import { expandTerm, rootOf, termsOfFacet } from '../taxonomy/taxonomy.js';
import type { ResourceReader, ScanText } from '../store/resource-reader.js';
import { decodeColumns, type Columns } from './columns.js';
import { shared } from './shared.js';
import { bytesOf } from './ids.js';

/** The 五育 roots in `primaryDomain` order. */
export const DOMAIN_ROOTS = ['de', 'zhi', 'ti', 'mei', 'lao'] as const;

/**
 * Everything a snapshot holds, as plain data: typed arrays on shared memory, maps of them (and a few short
 * strings), so that a worker thread builds them and the main thread reads the same memory, and a later fold
 * hands them back to a worker, all without a copy (`shared`). Ids and names are UTF-8 bytes with offsets: a
 * million separate strings would cost the receiving thread a quarter second, and even one large string is
 * copied on arrival (1M names and ids posted as strings held the receiving event loop 99 ms in a test
 * script; as transferred bytes, 6 ms).
 */
export interface SnapshotParts extends Pick<Columns, 'size' | 'seqs' | 'lng' | 'lat' | 'typeCode' | 'districtCode' | 'stageMask' | 'free'
  | 'hoursCode' | 'hoursText' | 'primaryDomain'> {
  generation: number;
  /** The structure counter the scan saw (areas and calendar: see `StoreHead`). */
  structure: number;
  /** The last batch publication the scan saw: changes after it are what an overlay adds. */
  publishedSeq: number;
  /** Ids as UTF-8 joined by `\n`, in index (= id) order; `idStart[i]` is the byte where id i begins (and `idStart[size]` past the end + 1). */
  ids: Uint8Array;
  idStart: Uint32Array;
  /** Tagged terms and all their ancestors, `termWords` words per resource. */
  termMask: Uint32Array;
  termPostings: Map<string, Uint32Array>;
  typePostings: Map<string, Uint32Array>;
  districtPostings: Map<string, Uint32Array>;
  /** kdbush's own buffer (`KDBush.from` rebuilds the index over it). */
  points: ArrayBufferLike;
  /** Lower-cased `name U+0001 name_en` per resource joined by `\n`, as UTF-8, with the byte where each starts. */
  names: NamesIndex;
  /**
   * The same lines as stored, not lower-cased: the names an answer shows without reading the record (the
   * map's markers, thousands per view).
   */
  labels: NamesIndex;
}

/** Names as UTF-8 (`name U+0001 name_en` per line), and the byte where each line starts. */
export interface NamesIndex {
  bytes: Uint8Array;
  start: Uint32Array;
}

/** How a taxonomy and the district list map to codes and bits: what every snapshot of them shares. */
export interface Vocabulary {
  types: string[];
  districts: string[];
  stageBit: Map<string, number>;
  stageMasks: Map<string, number>;
  /** Taggable term ids, in bit order. */
  terms: string[];
  termBit: Map<string, number>;
  termWords: number;
  /** Each taggable term's own bit and its ancestors' bits. */
  withAncestors: Uint32Array[];
  domainRoots: Map<string, number>;
}

/** The vocabulary of a taxonomy and district list. */
export function vocabulary(tax: Taxonomy, districts: readonly string[]): Vocabulary {
  const types = termsOfFacet(tax, 'type');
  const stages = termsOfFacet(tax, 'stage');
  const stageBit = new Map(stages.map((s, i) => [s, i]));
  const terms = tax.terms.filter((t) => tax.facets[t.facet].taggable).map((t) => t.id);
  const termBit = new Map(terms.map((t, i) => [t, i]));
  const termWords = Math.max(1, Math.ceil(terms.length / 32));
  const withAncestors = terms.map((id) => {
    const mask = new Uint32Array(termWords);
    for (let at: string | null = id; at !== null; at = tax.byId.get(at)!.parent) {
      const b = termBit.get(at)!;
      mask[b >>> 5] |= 1 << (b & 31);
    }
    return mask;
  });
  return {
    types, districts: [...districts], stageBit, termBit, terms, termWords, withAncestors,
    stageMasks: new Map(stages.map((s) => [s, relatedMask(tax, s, stageBit)])),
    domainRoots: new Map(tax.terms.filter((t) => t.facet === 'domain')
      .map((t) => [t.id, (DOMAIN_ROOTS as readonly string[]).indexOf(rootOf(tax, t.id))])),
  };
}

/** Reads every current resource from the store and builds a snapshot's parts: what a build worker does (or the main thread, for a small store). */
export async function readParts(reader: ResourceReader, vocab: Vocabulary): Promise<SnapshotParts> {
  return buildParts(await reader.scan(), vocab);
}

/** Builds a snapshot's parts from a store scan: columns, term masks with ancestors, posting lists, the kd-tree, ids and names. */
export function buildParts(scan: ScanText, vocab: Vocabulary): SnapshotParts {
  const cols = decodeColumns(scan, vocab);
  const n = cols.size;
  const W = vocab.termWords;
  // A tag sets its own bit and its ancestors' bits, so a filter on 'zhi' finds 'zhi.science'.
  const termMask = shared(Uint32Array, n * W);
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < W; w++) {
      for (let bits = cols.termBits[i * W + w]; bits !== 0; bits &= bits - 1) {
        const mask = vocab.withAncestors[w * 32 + 31 - Math.clz32(bits & -bits)];
        for (let v = 0; v < W; v++) termMask[i * W + v] |= mask[v];
      }
    }
  }
  const ids = utf8(cols.ids.join('\n'));
  return {
    generation: scan.generation, structure: scan.structure, publishedSeq: scan.publishedSeq, size: n, names: namesIndex(cols.names, n), labels: linesIndex(cols.names, n),
    ids, idStart: lineStarts(ids, n),
    seqs: cols.seqs, lng: cols.lng, lat: cols.lat, typeCode: cols.typeCode, districtCode: cols.districtCode, stageMask: cols.stageMask,
    free: cols.free, hoursCode: cols.hoursCode, hoursText: cols.hoursText, termMask, primaryDomain: cols.primaryDomain,
    termPostings: bitPostings(vocab.terms, termMask, W, n),
    typePostings: codePostings(vocab.types, cols.typeCode),
    districtPostings: codePostings(vocab.districts, cols.districtCode),
    points: kdTree(cols.lng, cols.lat, n),
  };
}

/** A kd-tree of n points, as kdbush's buffer (shared memory). */
export function kdTree(lng: Float64Array, lat: Float64Array, n: number): ArrayBufferLike {
  const points = new KDBush(n, 64, Float64Array, SharedArrayBuffer);
  for (let i = 0; i < n; i++) points.add(lng[i], lat[i]);
  points.finish();
  return points.data;
}

/** Lower-cased names (`name U+0001 name_en` per line) as UTF-8, with the start of each line. */
export function namesIndex(names: string, size: number): NamesIndex {
  return linesIndex(names.toLowerCase(), size);
}

/** `size` lines joined by `\n` as UTF-8, with the start of each line. */
function linesIndex(text: string, size: number): NamesIndex {
  const bytes = utf8(text);
  return { bytes, start: lineStarts(bytes, size) };
}

/**
 * `text` as UTF-8 in an array of its own: a buffer from Node's shared pool could not be transferred. A
 * UTF-8 needle matches only at character boundaries, so byte search finds what string search finds.
 */
function utf8(text: string): Uint8Array {
  const bytes = shared(Uint8Array, Buffer.byteLength(text));
  bytesOf(bytes).write(text);
  return bytes;
}

/** Where each of `size` `\n`-separated lines of `bytes` starts; entry `size` is past the end + 1. */
function lineStarts(bytes: Uint8Array, size: number): Uint32Array {
  const start = shared(Uint32Array, size + 1);
  const buf = bytesOf(bytes);
  for (let i = 1, at = -1; i <= size; i++) {
    at = buf.indexOf(10, at + 1);
    start[i] = at < 0 ? bytes.length + 1 : at + 1;
  }
  return start;
}

function relatedMask(tax: Taxonomy, id: string, bit: ReadonlyMap<string, number>): number {
  let mask = 0;
  for (const d of expandTerm(tax, id)) mask |= 1 << bit.get(d)!;
  for (let at = tax.byId.get(id)!.parent; at !== null; at = tax.byId.get(at)!.parent) mask |= 1 << bit.get(at)!;
  return mask;
}

/** Sorted indices per key, for a code column (code k means keys[k]). */
export function codePostings(keys: readonly string[], codes: Uint8Array): Map<string, Uint32Array> {
  const counts = new Uint32Array(256);
  for (let i = 0; i < codes.length; i++) counts[codes[i]]++;
  const lists = keys.map((_, k) => shared(Uint32Array, counts[k]));
  const fill = new Uint32Array(256);
  for (let i = 0; i < codes.length; i++) {
    const k = codes[i];
    if (k < keys.length) lists[k][fill[k]++] = i;
  }
  return new Map(keys.map((key, k) => [key, lists[k]]));
}

/** Sorted indices per key, for a bit-mask column of `words` 32-bit words (key k is bit k). */
export function bitPostings(keys: readonly string[], masks: Uint32Array, words: number, n: number): Map<string, Uint32Array> {
  const counts = new Uint32Array(keys.length);
  const each = (visit: (i: number, k: number) => void) => {
    for (let i = 0; i < n; i++) {
      for (let w = 0; w < words; w++) {
        for (let bits = masks[i * words + w]; bits !== 0; bits &= bits - 1) visit(i, w * 32 + 31 - Math.clz32(bits & -bits));
      }
    }
  };
  each((_, k) => counts[k]++);
  const lists = keys.map((_, k) => shared(Uint32Array, counts[k]));
  const fill = new Uint32Array(keys.length);
  each((i, k) => (lists[k][fill[k]++] = i));
  return new Map(keys.map((key, k) => [key, lists[k]]));
}
