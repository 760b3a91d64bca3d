import type { Area } from '../geo/areas.js';
import type { Snapshot } from './snapshot.js';

/** One resource of a view: a snapshot and its index there. */
export interface Ref {
  snap: Snapshot;
  i: number;
}

/** A part of a view: a snapshot, and which of its indices the view hides (replaced or deleted since). */
export interface Part {
  snap: Snapshot;
  hide: Uint8Array | null;
}

/**
 * What queries read: the store's resources as of one data generation, as a base snapshot (built in the
 * background, rarely) plus, when writes came after it, a small overlay snapshot of the resources those
 * writes changed; the base's versions of them (and of deleted ones) are hidden. A write batch becomes
 * searchable by building only the overlay; the base is rebuilt off the main thread and swapped in later.
 * Immutable: the holder makes a new view for each change.
 */
export class View {
  readonly parts: readonly Part[];
  readonly size: number;
  /** The base indices the view hides, ascending. */
  readonly hidden: Uint32Array;

  constructor(readonly base: Snapshot, readonly overlay: Snapshot | null = null, readonly shadow: Uint8Array | null = null,
    readonly generation = overlay?.generation ?? base.generation) {
    this.parts = overlay ? [{ snap: base, hide: shadow }, { snap: overlay, hide: null }] : [{ snap: base, hide: shadow }];
    const hidden: number[] = [];
    if (shadow) for (let i = 0; i < shadow.length; i++) if (shadow[i]) hidden.push(i);
    this.hidden = Uint32Array.from(hidden);
    this.size = base.size - hidden.length + (overlay?.size ?? 0);
  }

  get tax() { return this.base.tax; }
  get structure() { return this.base.structure; }
  get types() { return this.base.types; }
  get districts() { return this.base.districts; }
  get areas() { return this.base.areas; }
  get calendar() { return this.base.calendar; }
  get builtAt(): Date { return (this.overlay ?? this.base).builtAt; }
  /** Resources hidden in the base (replaced or deleted since it was built). */
  get replaced(): number { return this.hidden.length; }

  /** The area with this id, if any. */
  area(id: string): Area | undefined {
    return this.base.area(id);
  }

  /** A current resource by id, or undefined. */
  locate(id: string): Ref | undefined {
    if (this.overlay) {
      const i = this.overlay.indexOf(id);
      if (i >= 0) return { snap: this.overlay, i };
    }
    const i = this.base.indexOf(id);
    return i >= 0 && !this.shadow?.[i] ? { snap: this.base, i } : undefined;
  }

  /**
   * The records (answer JSON without location) of refs, in order: from the record cache, the rest in one
   * store read per snapshot. `open`: without their closing brace (see `Snapshot.records`).
   */
  async records(refs: readonly Ref[], open = false): Promise<string[]> {
    const out = new Array<string>(refs.length);
    for (const { snap } of this.parts) {
      const at = refs.map((r, k) => (r.snap === snap ? k : -1)).filter((k) => k >= 0);
      if (!at.length) continue;
      const docs = await snap.records(at.map((k) => refs[k].i), open);
      at.forEach((k, j) => (out[k] = docs[j]));
    }
    return out;
  }

  /** The public id of a ref. */
  static idOf(ref: Ref): string {
    return ref.snap.idOf(ref.i);
  }

  /** Resources of a district in the view. */
  districtCount(adcode: string): number {
    let n = this.base.districtPostings.get(adcode)?.length ?? 0;
    const code = this.base.districts.indexOf(adcode);
    for (const i of this.hidden) if (this.base.districtCode[i] === code) n--;
    if (this.overlay) n += this.overlay.districtPostings.get(adcode)?.length ?? 0;
    return n;
  }
}
