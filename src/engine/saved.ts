import { closeSync, fstatSync, fsyncSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Lineage, ResourceReader } from '../store/resource-reader.js';
import type { SnapshotParts, Vocabulary } from './parts.js';
import { foldLimit, readFolded, type FoldResult } from './fold.js';
import { shared, type TypedArrayOf } from './shared.js';

/**
 * A snapshot base saved to a file, so that a restart folds the changes since into it (1.3–2.8 s at 1M
 * resources in the bench) instead of scanning the store (7–12 s). The file is the parts' arrays as they are in
 * memory, after a JSON header that says what they are and where they came from:
 *
 *   `EDUMAPSB` · header length (u32 LE) · header JSON · each array in header order; the header and each
 *   array start at an 8-byte boundary
 *
 * A file is loaded only into the store it was read from, at a state that store still leads on from: the
 * same store identity, the batch it last saw still published at that position, the same areas and calendar
 * (structure), and no purge since then of rows it did not see (the feed's horizon): purged tombstones
 * would otherwise bring deleted resources back. Anything else, and the caller scans.
 */
const MAGIC = Buffer.from('EDUMAPSB');
/** Bumped whenever the parts or this layout change: a file of another format is not read. */
export const SAVED_FORMAT = 2;

const TYPES = { Float64Array, Uint32Array, Int32Array, Uint8Array, Int8Array } as const;
type TypeName = keyof typeof TYPES;
type Column = Float64Array | Uint32Array | Int32Array | Uint8Array | Int8Array;

interface Header {
  format: number;
  /** `vocabularyKey` of the taxonomy and districts the codes and bits mean. */
  vocab: string;
  store: string;
  /** The batch published at `publishedSeq` when the base was read (null: none yet). */
  batch: { id: number; at: string } | null;
  generation: number;
  structure: number;
  publishedSeq: number;
  size: number;
  hoursText: string[];
  /** Every array: its name (a column, or `term:zhi.science` for a posting list), type and length, in file order. */
  arrays: [string, TypeName, number][];
}

/**
 * What a load made: the base folded forward (or a scan, with many changes) and the publication the file
 * was at, or why the file was not used.
 */
export type LoadResult = { loaded: FoldResult; savedSeq: number } | { refused: string };

/** What a save wrote. */
export interface SaveResult {
  bytes: number;
  ms: number;
}

const COLUMNS = ['seqs', 'lng', 'lat', 'typeCode', 'districtCode', 'stageMask', 'free', 'hoursCode', 'primaryDomain', 'termMask', 'ids', 'idStart'] as const;
/** The parts' line indexes (bytes and line starts each). */
const LINES = ['names', 'labels'] as const;

/** A hash of what codes and bits mean: a file made under another taxonomy or district list is not read. */
export function vocabularyKey(vocab: Vocabulary): string {
  const plain = {
    types: vocab.types, districts: vocab.districts, terms: vocab.terms, termWords: vocab.termWords,
    stageBit: [...vocab.stageBit], stageMasks: [...vocab.stageMasks], domainRoots: [...vocab.domainRoots],
    withAncestors: vocab.withAncestors.map((m) => Array.from(m)),
  };
  return createHash('sha256').update(JSON.stringify(plain)).digest('hex');
}

/**
 * Writes `parts` to `file`: to a temporary file beside it, flushed to disk, then renamed over it, so that a
 * crash leaves the old file or the new one, never half of one. Several processes may save at once: each
 * writes its own temporary file, and the last rename wins (either file is a valid base).
 */
export async function saveParts(reader: ResourceReader, file: string, parts: SnapshotParts, vocab: Vocabulary): Promise<SaveResult> {
  const started = performance.now();
  const lineage = await reader.lineage(parts.publishedSeq);
  const arrays: [string, Column][] = [
    ...COLUMNS.map((name) => [name, parts[name]] as [string, Column]),
    ...LINES.flatMap((k): [string, Column][] => [[`${k}.bytes`, parts[k].bytes], [`${k}.start`, parts[k].start]]),
    ...postings('term', parts.termPostings), ...postings('type', parts.typePostings), ...postings('district', parts.districtPostings),
    ['points', new Uint8Array(parts.points)],
  ];
  const header: Header = {
    format: SAVED_FORMAT, vocab: vocabularyKey(vocab), store: lineage.store, batch: lineage.batch,
    generation: parts.generation, structure: parts.structure, publishedSeq: parts.publishedSeq, size: parts.size,
    hoursText: parts.hoursText,
    arrays: arrays.map(([name, a]) => [name, typeName(a), a.length]),
  };
  const json = Buffer.from(JSON.stringify(header));
  const lead = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(lead);
  lead.writeUInt32LE(json.length, MAGIC.length);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  let at = 0;
  let end = 0;
  const write = (bytes: Uint8Array) => {
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
    end = at + bytes.length;
    at = align(end); // the next array starts at an 8-byte boundary (a hole, read as zeros)
  };
  try {
    write(lead);
    write(json);
    for (const [, a] of arrays) write(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    rmSync(temporary, { force: true });
    throw e;
  }
  return { bytes: end, ms: performance.now() - started };
}

/**
 * The base saved in `file`, checked against the store and folded forward to its head (see `readFolded`;
 * past `foldLimit` changes that is a scan), or why it was not used: no file, another format, taxonomy,
 * store or history, or a purge since. A file that cannot be read whole is refused, not thrown.
 */
export async function loadSaved(reader: ResourceReader, file: string, vocab: Vocabulary, overlayMax: number): Promise<LoadResult> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    return { refused: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no saved snapshot' : `cannot open it: ${(e as Error).message}` };
  }
  try {
    const read = readHeader(fd);
    if ('refused' in read) return read;
    const { header, dataStart } = read;
    const why = refusal(header, vocabularyKey(vocab), await reader.lineage(header.publishedSeq));
    if (why) return { refused: why };
    const base = readArrays(fd, header, dataStart);
    if ('refused' in base) return base;
    return { loaded: await readFolded(reader, base, vocab, foldLimit(base.size, overlayMax)), savedSeq: header.publishedSeq };
  } finally {
    closeSync(fd);
  }
}

function readHeader(fd: number): { header: Header; dataStart: number } | { refused: string } {
  const lead = Buffer.alloc(MAGIC.length + 4);
  if (readSync(fd, lead, 0, lead.length, 0) < lead.length || !lead.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { refused: 'not a saved snapshot' };
  }
  const length = lead.readUInt32LE(MAGIC.length);
  const json = Buffer.alloc(length);
  if (readSync(fd, json, 0, length, align(lead.length)) < length) return { refused: 'cut short (its header)' };
  let header: Header;
  try {
    header = JSON.parse(json.toString('utf8')) as Header;
  } catch {
    return { refused: 'its header is not JSON' };
  }
  return { header, dataStart: align(lead.length) + length };
}

/** Why a saved base may not be folded into this store's state (undefined: it may). */
function refusal(header: Header, vocab: string, lineage: Lineage): string | undefined {
  if (header.format !== SAVED_FORMAT) return `format ${header.format}, this version reads ${SAVED_FORMAT}`;
  if (header.vocab !== vocab) return 'made under another taxonomy or district list';
  if (!lineage.store || header.store !== lineage.store) return 'made from another store';
  if (header.publishedSeq > lineage.head.publishedSeq) return `ahead of the store (publication ${header.publishedSeq}, the store is at ${lineage.head.publishedSeq}): restored from a backup?`;
  if (JSON.stringify(header.batch) !== JSON.stringify(lineage.batch)) return `publication ${header.publishedSeq} is another batch in the store now`;
  if (header.structure !== lineage.head.structure) return 'areas or the calendar changed since';
  if (header.publishedSeq + 1 < lineage.horizon) return 'older than the change retention: rows written since were purged';
  return undefined;
}

function readArrays(fd: number, header: Header, dataStart: number): SnapshotParts | { refused: string } {
  const expected = header.arrays.reduce((at, [, type, length]) => align(at) + length * TYPES[type].BYTES_PER_ELEMENT, align(dataStart));
  if (fstatSync(fd).size < expected) return { refused: 'cut short' };
  const arrays = new Map<string, Column>();
  let at = align(dataStart);
  for (const [name, type, length] of header.arrays) {
    const a = shared(TYPES[type] as unknown as TypedArrayOf<Column>, length);
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let done = 0; done < bytes.length;) {
      const n = readSync(fd, bytes, done, bytes.length - done, at + done);
      if (n === 0) return { refused: 'cut short' };
      done += n;
    }
    arrays.set(name, a);
    at = align(at + bytes.length);
  }
  const missing = [...COLUMNS, ...LINES.flatMap((k) => [`${k}.bytes`, `${k}.start`]), 'points'].find((name) => !arrays.has(name));
  if (missing) return { refused: `it lacks ${missing}` };
  const column = <T extends Column>(name: string) => arrays.get(name) as T;
  const lines = (k: (typeof LINES)[number]) => ({ bytes: column<Uint8Array>(`${k}.bytes`), start: column<Uint32Array>(`${k}.start`) });
  const lists = (kind: string) => new Map([...arrays].filter(([name]) => name.startsWith(`${kind}:`))
    .map(([name, a]) => [name.slice(kind.length + 1), a as Uint32Array]));
  return {
    generation: header.generation, structure: header.structure, publishedSeq: header.publishedSeq, size: header.size,
    hoursText: header.hoursText,
    seqs: column('seqs'), lng: column('lng'), lat: column('lat'), typeCode: column('typeCode'), districtCode: column('districtCode'),
    stageMask: column('stageMask'), free: column('free'), hoursCode: column('hoursCode'), primaryDomain: column('primaryDomain'),
    termMask: column('termMask'), ids: column('ids'), idStart: column('idStart'),
    names: lines('names'), labels: lines('labels'),
    termPostings: lists('term'), typePostings: lists('type'), districtPostings: lists('district'),
    points: column<Uint8Array>('points').buffer,
  };
}

/**
 * Deletes temporary files of saves into `file` left by processes that are gone (killed mid-save). A
 * process still running keeps its own.
 */
export function removeStaleTemporaries(file: string): void {
  const dir = dirname(file);
  const name = basename(file);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = entry.startsWith(`${name}.`) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(entry.slice(name.length + 1)) : null;
    if (m && !alive(Number(m[1]))) rmSync(join(dir, entry), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A kind's posting lists as named arrays (`term:zhi.science`). */
function postings(kind: string, lists: ReadonlyMap<string, Uint32Array>): [string, Column][] {
  return [...lists].map(([key, a]) => [`${kind}:${key}`, a]);
}

function typeName(a: Column): TypeName {
  const name = a.constructor.name as TypeName;
  if (!(name in TYPES)) throw new Error(`saveParts: no layout for ${name}`);
  return name;
}

function align(at: number): number {
  return at % 8 ? at + 8 - (at % 8) : at;
}
