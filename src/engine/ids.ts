// Ids as snapshot parts keep them: UTF-8 joined by `\n`, sorted bytewise, `idStart[i]` the byte where id i
// begins (and `idStart[size]` past the end + 1).

/** The first index whose id is not less than `id` (bytewise), searching from `lo`. */
export function lowerBound(ids: Buffer, idStart: Uint32Array, size: number, id: Uint8Array, lo: number): number {
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids.compare(id, 0, id.length, idStart[mid], idStart[mid + 1] - 1) < 0) lo = mid + 1; // ids[mid] < id
    else hi = mid;
  }
  return lo;
}

/**
 * The index of a public id in ids sorted bytewise (the store's order: SQLite's BINARY collation,
 * PostgreSQL's "C"); -1 when absent.
 */
export function indexOfId(ids: Buffer, idStart: Uint32Array, size: number, id: string): number {
  const target = Buffer.from(id, 'utf8');
  const i = lowerBound(ids, idStart, size, target, 0);
  return i < size && ids.compare(target, 0, target.length, idStart[i], idStart[i + 1] - 1) === 0 ? i : -1;
}

/** A Buffer over the same memory as `bytes` (for its native compare and search). */
export function bytesOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
