import type { ScanText } from '../store/resource-reader.js';
import { shared } from './shared.js';

/** How a snapshot encodes categorical fields as small integers. */
export interface ColumnCodes {
  /** Resource types in code order. */
  types: readonly string[];
  /** District adcodes in code order. */
  districts: readonly string[];
  /** Stage id → bit mask the stage sets (the snapshot decides which relatives it includes). */
  stageMasks: ReadonlyMap<string, number>;
  /** Taggable term ids in bit order: term k is bit k%32 of word k>>5. */
  terms: readonly string[];
  /** Domain-facet term id → the index of its 五育 root; the first such tag is a resource's primary domain. */
  domainRoots: ReadonlyMap<string, number>;
}

/** Every current resource as parallel columns, in id order (the typed arrays on shared memory, as parts keep them). */
export interface Columns {
  size: number;
  ids: string[];
  seqs: Float64Array;
  lng: Float64Array;
  lat: Float64Array;
  /** Index into `ColumnCodes.types`; 255 for a type the taxonomy no longer has. */
  typeCode: Uint8Array;
  /** Index into `ColumnCodes.districts`; 255 for none. */
  districtCode: Uint8Array;
  stageMask: Uint8Array;
  /** 1 free, 0 not, -1 unknown. */
  free: Int8Array;
  /** Index into `hoursText`, -1 for none. */
  hoursCode: Int32Array;
  hoursText: string[];
  /** Explicitly tagged term bits, `ceil(terms/32)` words per resource. */
  termBits: Uint32Array;
  /** Root index (see `ColumnCodes.domainRoots`) of each resource's first domain tag; 255 when none. */
  primaryDomain: Uint8Array;
  /** `name U+0001 name_en` per resource, joined by `\n`. */
  names: string;
}

/**
 * Decodes a store scan (see `ScanText`) into columns: one pass over one string, categorical fields mapped
 * to codes through small maps, so 1M resources create almost no short-lived objects. Throws when the scan
 * and its id list disagree (the store changed mid-read).
 */
export function decodeColumns(scan: ScanText, codes: ColumnCodes): Columns {
  const { text } = scan;
  if (scan.ids.length !== scan.size) throw new Error('resources changed during a snapshot read; read inside one transaction');
  const keep = scan.versions ? winners(scan.ids, scan.versions) : null;
  const ids = keep ? scan.ids.filter((_, k) => keep[k] === 1) : scan.ids;
  const size = ids.length;
  const seqs = shared(Float64Array, size);
  const lng = shared(Float64Array, size);
  const lat = shared(Float64Array, size);
  const typeCode = shared(Uint8Array, size);
  const districtCode = shared(Uint8Array, size);
  const stageMask = shared(Uint8Array, size);
  const free = shared(Int8Array, size);
  const hoursCode = shared(Int32Array, size);
  const hoursText: string[] = [];
  const hoursIndex = new Map<string, number>();
  const typeOf = new Map(codes.types.map((t, k) => [t, k]));
  const districtOf = new Map(codes.districts.map((d, k) => [d, k]));
  const bitOf = new Map(codes.terms.map((t, k) => [t, k]));
  const stagesMemo = new Map<string, number>();
  const words = Math.max(1, Math.ceil(codes.terms.length / 32));
  const termBits = new Uint32Array(size * words);
  const primaryDomain = shared(Uint8Array, size).fill(255);

  // f[k] is the position of the tab before field k (f[0] the one before the line).
  const f = new Int32Array(9);
  const field = (k: number) => text.slice(f[k] + 1, f[k + 1]);
  let i = 0;
  for (let at = 0, line = 0; at < text.length; line++) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (keep && keep[line] === 0) {
      at = end + 1;
      continue;
    }
    f[0] = at - 1;
    for (let k = 1; k <= 8; k++) f[k] = text.indexOf('\t', f[k - 1] + 1);
    seqs[i] = Number(field(0));
    lng[i] = Number(field(1)) / 1e7;
    lat[i] = Number(field(2)) / 1e7;
    typeCode[i] = typeOf.get(field(3)) ?? 255;
    districtCode[i] = districtOf.get(field(4)) ?? 255;
    const stages = field(5);
    let mask = stagesMemo.get(stages);
    if (mask === undefined) {
      mask = 0;
      for (const s of stages ? stages.split('|') : []) mask |= codes.stageMasks.get(s) ?? 0;
      stagesMemo.set(stages, mask);
    }
    stageMask[i] = mask;
    free[i] = Number(field(6));
    for (let t = f[7] + 1, e = f[8]; t < e;) {
      let bar = text.indexOf('|', t);
      if (bar < 0 || bar > e) bar = e;
      const term = text.slice(t, bar);
      const k = bitOf.get(term);
      if (k !== undefined) termBits[i * words + (k >>> 5)] |= 1 << (k & 31);
      if (primaryDomain[i] === 255) primaryDomain[i] = codes.domainRoots.get(term) ?? 255;
      t = bar + 1;
    }
    if (f[8] + 1 >= end) hoursCode[i] = -1;
    else {
      const hours = text.slice(f[8] + 1, end);
      let k = hoursIndex.get(hours);
      if (k === undefined) hoursIndex.set(hours, (k = hoursText.push(hours) - 1));
      hoursCode[i] = k;
    }
    at = end + 1;
    i++;
  }
  if (i !== size) throw new Error('resources changed during a snapshot read; read inside one transaction');
  const names = keep ? keptLines(scan.names, keep) : scan.names;
  return { size, ids, seqs, lng, lat, typeCode, districtCode, stageMask, free, hoursCode, hoursText, termBits, primaryDomain, names };
}

/** The lines of `text` (joined by `\n`) whose `keep` entry is 1, joined again. */
function keptLines(text: string, keep: Uint8Array): string {
  const out: string[] = [];
  for (let at = 0, line = 0; line < keep.length; line++) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (keep[line] === 1) out.push(text.slice(at, end));
    at = end + 1;
  }
  return out.join('\n');
}

/**
 * Which lines of a scan are current resources: of consecutive lines of one id, the one whose batch has the
 * largest precedence (a batch not in the map counts 0), unless that one is a tombstone.
 */
function winners(ids: readonly string[], v: NonNullable<ScanText['versions']>): Uint8Array {
  const keep = new Uint8Array(ids.length);
  for (let k = 0; k < ids.length;) {
    let best = k;
    let end = k + 1;
    for (; end < ids.length && ids[end] === ids[k]; end++) {
      if ((v.precedence.get(v.batches[end]) ?? 0) > (v.precedence.get(v.batches[best]) ?? 0)) best = end;
    }
    if (!v.deleted[best]) keep[best] = 1;
    k = end;
  }
  return keep;
}
