/**
 * Rendered records (a version's answer JSON without location) by version seq, least recently used out
 * once they hold `maxChars` characters. A version never changes once written, so an entry stays right for
 * as long as it is kept, across snapshots; answers then read the store only for records not asked lately.
 */
export class RecordCache {
  private readonly bySeq = new Map<number, string>();
  private held = 0;
  hits = 0;
  misses = 0;

  /** @param maxChars ≈ half the bytes held (V8 keeps one-byte strings for ASCII, two bytes otherwise). */
  constructor(private readonly maxChars = 24_000_000) {}

  get(seq: number): string | undefined {
    const doc = this.bySeq.get(seq);
    if (doc === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Map order is insertion order: re-inserting makes this the most recent.
    this.bySeq.delete(seq);
    this.bySeq.set(seq, doc);
    return doc;
  }

  set(seq: number, doc: string): void {
    if (this.maxChars <= 0 || this.bySeq.has(seq)) return;
    this.bySeq.set(seq, doc);
    this.held += doc.length;
    while (this.held > this.maxChars) {
      const [oldest, text] = this.bySeq.entries().next().value!;
      this.bySeq.delete(oldest);
      this.held -= text.length;
    }
  }

  /** Forgets everything (a full rebuild after records were changed underneath, as tests do). */
  clear(): void {
    this.bySeq.clear();
    this.held = 0;
  }

  /** Characters held (what `maxChars` bounds). */
  get chars(): number {
    return this.held;
  }

  get size(): number {
    return this.bySeq.size;
  }
}
