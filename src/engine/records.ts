/**
 * Rendered records (a version's answer JSON without location) by version seq, kept compactly so that a
 * million fit in tens of MB: each text is cut at its top-level keys (learned from the first record of each
 * key order, found again with `indexOf`), and each piece kept as a code into a per-key dictionary of texts
 * that repeat (type, tags, district, hours, the batch's `updated_at` …), as nothing when it is the id or a
 * name the snapshot holds anyway, or else as UTF-8. Put back together, the pieces are the text exactly, by
 * construction, whatever it holds.
 *
 * A version never changes once written, so an entry stays right for as long as it is kept, across
 * snapshots. Two generations bound the bytes: entries go into the young one; when it is full it becomes
 * the old one (the previous old one is dropped whole), and an entry read from the old one moves to the
 * young one. Versions no longer asked for (replaced, deleted) thus go within two turns, with no scan.
 */
export class RecordCache {
  private codec: Codec;
  private young: Generation;
  private old: Generation | null = null;
  private readonly scratch = { bytes: Buffer.allocUnsafe(4096) };
  hits = 0;
  misses = 0;
  /** Times the young generation filled and became the old one. */
  turns = 0;

  /**
   * @param maxBytes what the entries, their tables and the dictionaries may hold together; a quarter at
   *   most (and 24 MB) goes to the dictionaries. Under 1 MB: none kept.
   */
  constructor(maxBytes = 120_000_000) {
    this.maxBytes = maxBytes < 1_000_000 ? 0 : maxBytes;
    this.codec = new Codec(this.dictionaryBytes());
    this.young = new Generation();
  }

  private readonly maxBytes: number;

  private dictionaryBytes(): number {
    return Math.min(MAX_DICTIONARY_BYTES, this.maxBytes / 4);
  }

  /**
   * The record of version `seq`, resource `i` of `snap` (whose id and labels it may take), without its
   * closing brace (answers add members to it); undefined when not kept.
   */
  get(seq: number, snap: Derived, i: number): string | undefined {
    const found = this.locate(seq);
    if (!found) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return this.codec.decode(found.gen.stream, found.at, snap, i);
  }

  /**
   * `get` as UTF-8 bytes: the record of version `seq` written into `out` at `at`, without its closing brace,
   * with no string made on the way (an answer goes out as bytes). Returns where it ends; -1 when it is not
   * kept (not counted as a miss: the caller then reads it, with `get` or the store, which counts it); -2
   * when `out` is too short from `at` (nothing counted: grow it and ask again).
   */
  write(seq: number, snap: Derived, i: number, out: Buffer, at: number): number {
    const found = this.locate(seq);
    if (!found) return -1;
    const end = this.codec.write(found.gen.stream, found.at, snap, i, out, at);
    if (end >= 0) this.hits++;
    return end;
  }

  /** Whether version `seq` is kept (not counted as a hit or a miss). */
  has(seq: number): boolean {
    return this.young.find(seq) >= 0 || (this.old !== null && this.old.find(seq) >= 0);
  }

  /** `has`, and an entry found in the old generation moves to the young one (as a read would move it). */
  touch(seq: number): boolean {
    return this.locate(seq) !== null;
  }

  /** Where `seq`'s entry is, moved to the young generation first when found in the old one and there is room. */
  private locate(seq: number): { gen: Generation; at: number } | null {
    const young = this.young.find(seq);
    if (young >= 0) return { gen: this.young, at: young };
    const at = this.old ? this.old.find(seq) : -1;
    if (at < 0) return null;
    const moved = this.promote(seq, this.old!, at);
    return moved >= 0 ? { gen: this.young, at: moved } : { gen: this.old!, at };
  }

  /**
   * Keeps the record (a JSON object's text) of version `seq`, resource `i` of `snap`. With `turn` false (a
   * warm-up), a full young generation refuses it rather than turning over. Returns whether it is kept.
   */
  set(seq: number, doc: string, snap: Derived, i: number, turn = true): boolean {
    if (this.maxBytes <= 0 || seq > 0xffffffff || seq < 1 || !doc.endsWith('}') || this.has(seq)) return false;
    const bytes = this.codec.encode(doc.slice(0, -1), snap, i, this.scratch);
    if (!this.young.fits(bytes.length, this.generationBytes())) {
      if (!turn) return false;
      this.turn();
      if (!this.young.fits(bytes.length, this.generationBytes())) return false;
    }
    this.young.insert(seq, bytes, this.generationBytes());
    return true;
  }

  /** Forgets everything (records were changed underneath, as a structure change or a test does). */
  clear(): void {
    this.codec = new Codec(this.dictionaryBytes());
    this.young = new Generation();
    this.old = null;
  }

  /** Bytes held: entries, their hash tables and the dictionaries. */
  get bytes(): number {
    return this.young.bytes + (this.old?.bytes ?? 0) + this.codec.bytes;
  }

  /** Entries held (an entry moved to the young generation may be counted in both until the old one goes). */
  get size(): number {
    return this.young.count + (this.old?.count ?? 0);
  }

  /** Whether the young generation is full (a warm-up stops there). */
  get full(): boolean {
    return !this.young.fits(512, this.generationBytes());
  }

  /** What one generation may hold: half of what is left beside the dictionaries' share. */
  private generationBytes(): number {
    return (this.maxBytes - this.dictionaryBytes()) / 2;
  }

  private turn(): void {
    this.turns++;
    this.old = this.young;
    this.young = new Generation();
  }

  /** Copies an entry of the old generation into the young one; its offset there, or -1 (no room). */
  private promote(seq: number, from: Generation, at: number): number {
    const bytes = from.entry(at);
    if (!this.young.fits(bytes.length, this.generationBytes())) return -1;
    return this.young.insert(seq, bytes, this.generationBytes());
  }
}

/** What a record may take from a snapshot instead of keeping it: its id and labels (`Snapshot` has both). */
export interface Derived {
  idOf(i: number): string;
  labelOf(i: number): { name: string; nameEn: string | null };
  /**
   * Where resource i's id (`what` 0), name (1) or English name (2) is as UTF-8: the buffer, with the span's
   * start and end put in `span`; null when it has no English name.
   */
  spanOf(i: number, what: 0 | 1 | 2, span: Int32Array): Buffer | null;
}

/**
 * Warms `cache` with the records of every resource of `snap` it lacks, reading `chunk` versions at a time
 * (the event loop is yielded between reads), until all are in, the cache is full, or `stop()` says the
 * snapshot left service. Resolves true when every record of `snap` is in.
 */
export async function warmRecords(cache: RecordCache, snap: Derived & { size: number; seqs: Float64Array },
  read: (seqs: number[]) => Promise<(string | undefined)[]>, stop: () => boolean, chunk = 256): Promise<boolean> {
  for (let from = 0; from < snap.size; from += chunk) {
    if (stop()) return false;
    const wanted: number[] = [];
    for (let i = from; i < Math.min(snap.size, from + chunk); i++) if (!cache.touch(snap.seqs[i])) wanted.push(i);
    if (wanted.length) {
      const docs = await read(wanted.map((i) => snap.seqs[i]));
      for (let k = 0; k < wanted.length; k++) {
        const i = wanted[k];
        const doc = docs[k];
        if (doc !== undefined && !cache.set(snap.seqs[i], doc, snap, i, false) && cache.full) return false;
      }
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return true;
}

/**
 * Entries of one generation: an open-addressing hash of seq → offset, each slot's key and offset side by
 * side (one cache line read per look-up, not two: at 1M entries every look-up misses the cache), and the
 * encoded entries in one buffer.
 */
class Generation {
  /** Per slot: the key, then its entry's offset + 1 (0: an empty slot). */
  private slots = new Uint32Array(2048);
  stream = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  count = 0;

  /** Bytes allocated: the hash table and the buffer. */
  get bytes(): number {
    return this.slots.byteLength + this.stream.length;
  }

  /** The offset of `seq`'s entry, or -1. */
  find(seq: number): number {
    const { slots } = this;
    const mask = slots.length / 2 - 1;
    for (let slot = hash(seq) & mask; ; slot = (slot + 1) & mask) {
      const at = slots[2 * slot + 1];
      if (at === 0) return -1;
      if (slots[2 * slot] === seq) return at - 1;
    }
  }

  /** Whether an entry of `length` bytes fits in `limit` bytes, the tables grown as they would be. */
  fits(length: number, limit: number): boolean {
    return this.slotsAfter() * 8 + Math.max(this.stream.length, this.used + length + 5) <= limit;
  }

  /** The hash table's slots once one more key is in. */
  private slotsAfter(): number {
    const n = this.slots.length / 2;
    return this.count + 1 > n * 0.7 ? n * 2 : n;
  }

  /** Appends an entry (its length, then its bytes) and returns its offset; the buffer grows by half, to `limit` at most. */
  insert(seq: number, bytes: Uint8Array, limit: number): number {
    if (this.count + 1 > (this.slots.length / 2) * 0.7) this.grow();
    const need = this.used + bytes.length + 5;
    if (need > this.stream.length) {
      const room = limit - this.slots.byteLength;
      const next = Buffer.allocUnsafe(Math.max(need, Math.min(Math.ceil(this.stream.length * 1.5), room)));
      this.stream.copy(next, 0, 0, this.used);
      this.stream = next;
    }
    const at = this.used;
    this.used = writeVarint(this.stream, at, bytes.length);
    this.stream.set(bytes, this.used);
    this.used += bytes.length;
    this.place(seq, at);
    this.count++;
    return at;
  }

  /** The bytes of the entry at `at` (its length left out). */
  entry(at: number): Uint8Array {
    let p = at;
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.stream[p++];
      length += (b & 127) * 2 ** shift;
      if (b < 128) break;
    }
    return this.stream.subarray(p, p + length);
  }

  private place(seq: number, at: number): void {
    const { slots } = this;
    const mask = slots.length / 2 - 1;
    let slot = hash(seq) & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = seq;
    slots[2 * slot + 1] = at + 1;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let slot = 0; slot < old.length / 2; slot++) if (old[2 * slot + 1] !== 0) this.place(old[2 * slot], old[2 * slot + 1] - 1);
  }
}

/** murmur3's finaliser: every bit of `seq` moves the low bits the table is indexed by (seqs often step by 2 or more). */
function hash(seq: number): number {
  let h = seq | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Where a piece may come from besides the entry: the snapshot's id, name or English name. */
const enum From { Entry, Id, Name, NameEn }

/**
 * One order of top-level keys, and the pieces its records are kept as: at first one per key's value; once
 * `GROUP_AFTER` records have shown which keys take only a few values, a successor of the same keys keeps
 * each run of such neighbours as one piece (`,"opening_hours":…,"updated_at":…` is a few dozen texts), so a
 * record is put back from a third as many pieces.
 */
interface Shape {
  /** `{"id":`, `,"name":` …: what precedes each key's value, found in order to cut a record; raw: one empty. */
  keys: string[];
  /** Per piece: its first and last key (it runs from the first's value to the end of the last's). */
  first: number[];
  last: number[];
  from: From[];
  codes: Map<string, number>[];
  values: string[][];
  /** `keys` as UTF-8. */
  keyBytes: Buffer[];
  /** Per piece: its dictionary's texts as UTF-8, one after another, and where each ends. */
  valueBytes: { bytes: Buffer; ends: number[] }[];
  /** Per piece: values found in its dictionary. */
  uses: number[];
  /** Records cut by this shape. */
  count: number;
  /** Whether its pieces have been looked at for grouping (a successor, if any, then takes its records). */
  grouped: boolean;
  retired: boolean;
}

/** Shapes past this many go raw (one piece per record); dictionaries stop taking texts past these. */
const MAX_SHAPES = 32;
const MAX_CODES = 65_536;
const MAX_CODED_CHARS = 1024;
const MAX_DICTIONARY_BYTES = 24_000_000;
/** Records of a shape read before its small keys are grouped; a key is small with at most this many values. */
const GROUP_AFTER = 4096;
const SMALL_KEY_VALUES = 64;

function shapeOfKeys(keys: string[], first: number[], last: number[]): Shape {
  const from = first.map((j, q) => {
    if (j !== last[q]) return From.Entry;
    const key = keys[j];
    return key === ',"name":' ? From.Name : key === ',"name_en":' ? From.NameEn : key === '{"id":' || key === ',"id":' ? From.Id : From.Entry;
  });
  return { keys, first, last, from, codes: first.map(() => new Map()), values: first.map(() => []), uses: first.map(() => 0),
    keyBytes: keys.map((k) => Buffer.from(k)), valueBytes: first.map(() => ({ bytes: Buffer.allocUnsafe(256), ends: [] })),
    count: 0, grouped: false, retired: false };
}

/**
 * Cuts records into pieces and puts them back. An entry is: the shape's number, then per piece one varint
 * v and what it says: 0, the value is the snapshot's (id, name, name_en); odd, dictionary code (v − 1) / 2;
 * even, a literal of v / 2 − 1 UTF-8 bytes, which follow.
 */
class Codec {
  private readonly shapes: Shape[] = [{ ...shapeOfKeys([''], [0], [0]), grouped: true }];
  /** A bit per hash of the texts seen once (see `codeOf`): 8M bits, fewer for a small budget. */
  private readonly seen: Uint8Array;
  private last = 0;
  /** Where each key's value ends in the record last cut. */
  private readonly ends = new Int32Array(256);
  /** Estimated bytes of the dictionaries (two per character, and the map's and array's slots) and `seen`. */
  bytes: number;

  /** @param maxBytes what the dictionaries and `seen` may hold (`bytes` stays below it). */
  constructor(private readonly maxBytes: number) {
    let seen = 1 << 20;
    while (seen > maxBytes / 4) seen /= 2;
    this.seen = new Uint8Array(seen);
    this.bytes = seen;
  }

  encode(doc: string, snap: Derived, i: number, scratch: { bytes: Buffer }): Uint8Array {
    const s = this.shapeOf(doc);
    const shape = this.shapes[s];
    const pieces = shape.first.length;
    if (scratch.bytes.length < doc.length * 3 + pieces * 5 + 10) scratch.bytes = Buffer.allocUnsafe(doc.length * 6 + pieces * 10 + 10);
    const out = scratch.bytes;
    let p = writeVarint(out, 0, s);
    let label: { name: string; nameEn: string | null } | null = null;
    for (let q = 0; q < pieces; q++) {
      const j = shape.first[q];
      const value = doc.slice((j === 0 ? 0 : this.ends[j - 1]) + shape.keys[j].length, this.ends[shape.last[q]]);
      const from = shape.from[q];
      if (from !== From.Entry) {
        if (from !== From.Id && !label) label = snap.labelOf(i);
        const own = from === From.Id ? snap.idOf(i) : from === From.Name ? label!.name : label!.nameEn;
        // Only a text JSON leaves as it is (no quote, backslash or control character in it): decoding then
        // needs no JSON.stringify.
        if (own === null ? value === 'null' : value.length === own.length + 2 && value === `"${own}"`) {
          p = writeVarint(out, p, 0);
          continue;
        }
      }
      const code = this.codeOf(shape, q, value);
      if (code >= 0) {
        p = writeVarint(out, p, code * 2 + 1);
        continue;
      }
      const length = Buffer.byteLength(value, 'utf8');
      p = writeVarint(out, p, (length + 1) * 2);
      p += out.write(value, p, 'utf8');
    }
    if (++shape.count >= GROUP_AFTER && !shape.grouped) this.group(s);
    return out.subarray(0, p);
  }

  decode(stream: Buffer, at: number, snap: Derived, i: number): string {
    let p = at;
    while (stream[p] >= 128) p++; // the entry's length
    p++;
    let s = 0;
    for (let shift = 0; ; shift += 7) {
      const b = stream[p++];
      s += (b & 127) << shift;
      if (b < 128) break;
    }
    const shape = this.shapes[s];
    let out = '';
    let label: { name: string; nameEn: string | null } | null = null;
    for (let q = 0; q < shape.first.length; q++) {
      let v = 0;
      for (let shift = 0; ; shift += 7) {
        const b = stream[p++];
        v += (b & 127) * 2 ** shift;
        if (b < 128) break;
      }
      out += shape.keys[shape.first[q]];
      if (v === 0) {
        const from = shape.from[q];
        if (from === From.Id) out += `"${snap.idOf(i)}"`;
        else {
          label ??= snap.labelOf(i);
          const own = from === From.Name ? label.name : label.nameEn;
          out += own === null ? 'null' : `"${own}"`;
        }
      } else if (v & 1) {
        out += shape.values[q][(v - 1) / 2];
      } else {
        const length = v / 2 - 1;
        out += stream.toString('utf8', p, p + length);
        p += length;
      }
    }
    return out;
  }

  /** `decode` into `out` at `at` as UTF-8 (see `RecordCache.write`): where it ends, or -2 when `out` is too short. */
  write(stream: Buffer, at: number, snap: Derived, i: number, out: Buffer, o: number): number {
    let p = at;
    while (stream[p] >= 128) p++; // the entry's length
    p++;
    let s = stream[p++];
    if (s >= 128) {
      s &= 127;
      for (let shift = 7; ; shift += 7) {
        const b = stream[p++];
        s += (b & 127) << shift;
        if (b < 128) break;
      }
    }
    const shape = this.shapes[s];
    const { first, from, keyBytes, valueBytes } = shape;
    const span = this.span;
    for (let q = 0; q < first.length; q++) {
      let v = stream[p++];
      if (v >= 128) {
        v &= 127;
        for (let scale = 128; ; scale *= 128) {
          const b = stream[p++];
          v += (b & 127) * scale;
          if (b < 128) break;
        }
      }
      const key = keyBytes[first[q]];
      if (o + key.length > out.length) return -2;
      for (let k = 0; k < key.length; k++) out[o++] = key[k];
      if (v === 0) {
        const what = from[q];
        const bytes = snap.spanOf(i, what === From.Id ? 0 : what === From.Name ? 1 : 2, span);
        if (bytes === null) {
          if (o + 4 > out.length) return -2;
          out[o++] = 0x6e; // null
          out[o++] = 0x75;
          out[o++] = 0x6c;
          out[o++] = 0x6c;
          continue;
        }
        if (o + span[1] - span[0] + 2 > out.length) return -2;
        out[o++] = 0x22;
        o = copy(bytes, span[0], span[1], out, o);
        out[o++] = 0x22;
      } else if (v & 1) {
        const dict = valueBytes[q];
        const code = (v - 1) >>> 1;
        const start = code ? dict.ends[code - 1] : 0;
        const end = dict.ends[code];
        if (o + end - start > out.length) return -2;
        o = copy(dict.bytes, start, end, out, o);
      } else {
        const length = v / 2 - 1;
        if (o + length > out.length) return -2;
        o = copy(stream, p, p + length, out, o);
        p += length;
      }
    }
    return o;
  }

  /** Scratch of `write`: the span `Derived.spanOf` finds. */
  private readonly span = new Int32Array(2);

  /** The shape `doc` is cut by (its values' ends in `ends`): the last one used, another known one, a new one, or raw. */
  private shapeOf(doc: string): number {
    if (this.last !== 0 && this.cut(doc, this.last)) return this.last;
    for (let s = 1; s < this.shapes.length; s++) if (s !== this.last && !this.shapes[s].retired && this.cut(doc, s)) return (this.last = s);
    if (this.shapes.length < MAX_SHAPES) {
      const keys = topLevelKeys(`${doc}}`); // `doc` is a record without its closing brace
      if (keys && keys.length > 0 && keys.length <= this.ends.length) {
        const s = this.shapes.length;
        const each = keys.map((_, j) => j);
        this.shapes.push(shapeOfKeys(keys.map((k, j) => `${j ? ',' : '{'}${JSON.stringify(k)}:`), each, each));
        if (this.cut(doc, s)) return (this.last = s);
        this.shapes.pop();
      }
    }
    this.cut(doc, 0);
    return 0;
  }

  /** Finds each key of shape `s` in order; true when all are there (a raw shape always cuts). */
  private cut(doc: string, s: number): boolean {
    const { keys } = this.shapes[s];
    if (!doc.startsWith(keys[0])) return false;
    let at = keys[0].length;
    for (let j = 1; j < keys.length; j++) {
      const next = doc.indexOf(keys[j], at);
      if (next < 0) return false;
      this.ends[j - 1] = next;
      at = next + keys[j].length;
    }
    this.ends[keys.length - 1] = doc.length;
    return true;
  }

  /** Groups each run of neighbouring small keys of shape `s` into one piece of a successor shape, if there is a run. */
  private group(s: number): void {
    const shape = this.shapes[s];
    shape.grouped = true;
    const small = (q: number) => shape.from[q] === From.Entry && shape.values[q].length <= SMALL_KEY_VALUES && shape.uses[q] >= shape.count * 0.9;
    const first: number[] = [];
    const last: number[] = [];
    for (let q = 0; q < shape.first.length; q++) {
      const run = first.length > 0 && small(q) && small(q - 1);
      if (run) last[last.length - 1] = shape.last[q];
      else {
        first.push(shape.first[q]);
        last.push(shape.last[q]);
      }
    }
    if (first.length === shape.first.length || this.shapes.length >= MAX_SHAPES) return;
    this.shapes.push({ ...shapeOfKeys(shape.keys, first, last), grouped: true });
    shape.retired = true;
    if (this.last === s) this.last = this.shapes.length - 1;
  }

  /**
   * The dictionary code of a value, or -1: a text goes into the dictionary the second time it is seen (by a
   * bit per hash, so a unique text rarely does), and a key whose dictionary is seldom used (ids, names,
   * addresses of real data) stops taking texts.
   */
  private codeOf(shape: Shape, j: number, value: string): number {
    const codes = shape.codes[j];
    const known = codes.get(value);
    if (known !== undefined) {
      shape.uses[j]++;
      return known;
    }
    const size = shape.values[j].length;
    if (value.length > MAX_CODED_CHARS || size >= MAX_CODES || this.bytes + value.length * 5 + 72 > this.maxBytes || shape === this.shapes[0]
      || (size >= 4096 && shape.uses[j] < size)) return -1;
    const h = hashText(value, j) & (this.seen.length * 8 - 1);
    if ((this.seen[h >>> 3] & (1 << (h & 7))) === 0) {
      this.seen[h >>> 3] |= 1 << (h & 7);
      return -1;
    }
    const code = shape.values[j].push(value) - 1;
    codes.set(value, code);
    const dict = shape.valueBytes[j];
    const from = code ? dict.ends[code - 1] : 0;
    const length = Buffer.byteLength(value);
    if (from + length > dict.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(from + length, dict.bytes.length * 2));
      dict.bytes.copy(grown, 0, 0, from);
      this.bytes += grown.length - dict.bytes.length;
      dict.bytes = grown;
    }
    dict.ends.push(from + dict.bytes.write(value, from, 'utf8'));
    this.bytes += value.length * 2 + 64 + 8;
    return code;
  }
}

/** The keys of a JSON object text, in order; null when it is not one. */
function topLevelKeys(doc: string): string[] | null {
  try {
    const value: unknown = JSON.parse(doc);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : null;
  } catch {
    return null;
  }
}

/** FNV-1a over the UTF-16 units of `text`, seeded by the key's position. */
function hashText(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return h >>> 0;
}

/**
 * Copies `from[start, end)` into `to` at `at`; returns where the copy ends. Byte by byte for the short
 * pieces records are made of: `Buffer.copy` makes a view of its source per call, costlier than a few
 * dozen byte moves.
 */
function copy(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  if (end - start > 64) return at + from.copy(to, at, start, end);
  let o = at;
  for (let k = start; k < end; k++) to[o++] = from[k];
  return o;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let p = at;
  let v = value;
  while (v >= 128) {
    out[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  return p;
}
