import type { ChangedRows, ResourceReader } from '../store/resource-reader.js';
import type { StoreHead } from '../store/db.js';
import { bitPostings, buildParts, codePostings, kdTree, readParts, type NamesIndex, type SnapshotParts, type Vocabulary } from './parts.js';
import { shared, type TypedArrayOf } from './shared.js';
import { bytesOf, indexOfId, lowerBound } from './ids.js';

/** What `readFolded` made: a fold of the base and the changes, or (too many changes) a whole new scan. */
export interface FoldResult {
  parts: SnapshotParts;
  how: 'fold' | 'scan';
}

/**
 * A new base: `base` with every change published after it folded in, read by `reader` (the changes only:
 * no scan of the store). More than `maxChanged` changed versions, or a structure change, and it is a full
 * scan instead (`how: 'scan'`; the caller checks the structure). The parts equal a scan's of the same
 * state, array for array (the fold test checks it); only how they were made differs.
 */
export async function readFolded(reader: ResourceReader, base: SnapshotParts, vocab: Vocabulary, maxChanged: number): Promise<FoldResult> {
  const changed = await reader.changedSince(base.publishedSeq, maxChanged);
  if (!changed || changed.head.structure !== base.structure) return { parts: await readParts(reader, vocab), how: 'scan' };
  const { overlay, hidden } = changesOver(base, changed, vocab);
  return { parts: foldParts(base, overlay, hidden, changed.head, vocab), how: 'fold' };
}

/**
 * Versions changed since a base of `size` beyond which a new scan is cheaper than a fold: half the base,
 * and never fewer than `overlayMax` (what an overlay takes without a fold).
 */
export function foldLimit(size: number, overlayMax: number): number {
  return Math.max(overlayMax, Math.floor(size / 2));
}

/**
 * What `changed` makes of `base`: the newest version of each resource it wrote, as overlay parts (null when
 * none is left: all deleted), and the base indices it replaced or deleted (1 in `hidden`). What an overlay
 * view shows and what a fold merges.
 */
export function changesOver(base: SnapshotParts, changed: ChangedRows, vocab: Vocabulary): { overlay: SnapshotParts | null; hidden: Uint8Array } {
  const built = changed.scan.size ? buildParts(changed.scan, vocab) : null;
  const hidden = new Uint8Array(base.size);
  const ids = bytesOf(base.ids);
  for (const id of changed.touched) {
    const i = indexOfId(ids, base.idStart, base.size, id);
    if (i >= 0) hidden[i] = 1;
  }
  return { overlay: built?.size ? built : null, hidden };
}

/**
 * The parts of a view: `base` without the indices `hidden` marks, merged in id order with `overlay`'s
 * resources (whose ids are all hidden in the base, or new), at `head`. Columns are copied in runs (a few
 * thousand changes make a few thousand runs, so this is close to a memory copy); hours codes are renumbered
 * in order of first use, as a scan numbers them; posting lists and the kd-tree are built anew.
 */
export function foldParts(base: SnapshotParts, overlay: SnapshotParts | null, hidden: Uint8Array, head: StoreHead, vocab: Vocabulary): SnapshotParts {
  const runs = mergeRuns(base, overlay, hidden);
  const size = runs.reduce((n, r) => n + r.to - r.from, 0);
  const W = vocab.termWords;
  const from = (r: Run) => (r.overlay ? overlay! : base);
  const gather = <T extends Column>(column: (p: SnapshotParts) => T, type: TypedArrayOf<T>, width = 1): T => {
    const out = shared(type, size * width);
    let at = 0;
    for (const r of runs) {
      out.set(column(from(r)).subarray(r.from * width, r.to * width) as never, at * width);
      at += r.to - r.from;
    }
    return out;
  };
  const lng = gather((p) => p.lng, Float64Array);
  const lat = gather((p) => p.lat, Float64Array);
  const typeCode = gather((p) => p.typeCode, Uint8Array);
  const districtCode = gather((p) => p.districtCode, Uint8Array);
  const termMask = gather((p) => p.termMask, Uint32Array, W);
  const ids = foldLines(runs, (p) => ({ bytes: p.ids, start: p.idStart }), base, overlay, size);
  return {
    generation: head.generation, structure: head.structure, publishedSeq: head.publishedSeq, size,
    names: foldLines(runs, (p) => p.names, base, overlay, size), labels: foldLines(runs, (p) => p.labels, base, overlay, size),
    ids: ids.bytes, idStart: ids.start,
    lng, lat, typeCode, districtCode, termMask, ...foldHours(runs, base, overlay, size),
    seqs: gather((p) => p.seqs, Float64Array),
    stageMask: gather((p) => p.stageMask, Uint8Array),
    free: gather((p) => p.free, Int8Array),
    primaryDomain: gather((p) => p.primaryDomain, Uint8Array),
    termPostings: bitPostings(vocab.terms, termMask, W, size),
    typePostings: codePostings(vocab.types, typeCode),
    districtPostings: codePostings(vocab.districts, districtCode),
    points: kdTree(lng, lat, size),
  };
}

type Column = Float64Array | Uint32Array | Int32Array | Uint8Array | Int8Array;

/** Consecutive indices [from, to) of the base (kept) or of the overlay, in the merged (id) order. */
interface Run { overlay: boolean; from: number; to: number }

/** The merged order as runs: kept base indices, each overlay resource placed where its id sorts. */
function mergeRuns(base: SnapshotParts, overlay: SnapshotParts | null, hidden: Uint8Array): Run[] {
  const runs: Run[] = [];
  const keep = (from: number, to: number) => {
    for (let i = from; i < to;) {
      while (i < to && hidden[i]) i++;
      let end = i;
      while (end < to && !hidden[end]) end++;
      if (end > i) runs.push({ overlay: false, from: i, to: end });
      i = end;
    }
  };
  let at = 0;
  const ids = bytesOf(base.ids);
  const theirs = bytesOf(overlay?.ids ?? new Uint8Array(0));
  for (let o = 0; o < (overlay?.size ?? 0); o++) {
    const id = theirs.subarray(overlay!.idStart[o], overlay!.idStart[o + 1] - 1);
    const place = lowerBound(ids, base.idStart, base.size, id, at);
    keep(at, place);
    at = place;
    const last = runs[runs.length - 1];
    if (last?.overlay && last.to === o) last.to++;
    else runs.push({ overlay: true, from: o, to: o + 1 });
  }
  keep(at, base.size);
  return runs;
}

/** Hours codes renumbered in order of first use over the merged order, and their texts. */
function foldHours(runs: readonly Run[], base: SnapshotParts, overlay: SnapshotParts | null, size: number) {
  const hoursCode = shared(Int32Array, size);
  const hoursText: string[] = [];
  const codeOf = new Map<string, number>(); // base and overlay may each have a text
  const renumber = [new Int32Array(base.hoursText.length).fill(-1), new Int32Array(overlay?.hoursText.length ?? 0).fill(-1)];
  let at = 0;
  for (const r of runs) {
    const p = r.overlay ? overlay! : base;
    const map = renumber[r.overlay ? 1 : 0];
    for (let i = r.from; i < r.to; i++, at++) {
      const code = p.hoursCode[i];
      if (code < 0) hoursCode[at] = -1;
      else {
        if (map[code] < 0) {
          const text = p.hoursText[code];
          let k = codeOf.get(text);
          if (k === undefined) codeOf.set(text, (k = hoursText.push(text) - 1));
          map[code] = k;
        }
        hoursCode[at] = map[code];
      }
    }
  }
  return { hoursCode, hoursText };
}

/** `\n`-joined lines (ids, names) of the merged order, with where each starts (as `lineStarts` gives them). */
function foldLines(runs: readonly Run[], lines: (p: SnapshotParts) => NamesIndex, base: SnapshotParts, overlay: SnapshotParts | null, size: number): NamesIndex {
  const span = (p: NamesIndex, r: Run) => p.start[r.to] - 1 - p.start[r.from]; // the run's lines and the newlines between
  const of = (r: Run) => lines(r.overlay ? overlay! : base);
  const total = runs.reduce((n, r) => n + span(of(r), r), 0) + Math.max(0, runs.length - 1);
  const bytes = shared(Uint8Array, total);
  const start = shared(Uint32Array, size + 1);
  let at = 0;
  let k = 0;
  for (const [n, r] of runs.entries()) {
    const p = of(r);
    if (n > 0) bytes[at++] = 10;
    bytes.set(p.bytes.subarray(p.start[r.from], p.start[r.to] - 1), at);
    for (let i = r.from; i < r.to; i++) start[k++] = at + p.start[i] - p.start[r.from];
    at += span(p, r);
  }
  if (size > 0) start[size] = total + 1;
  return { bytes, start };
}
