/**
 * A zero-filled typed array of `length` elements on a SharedArrayBuffer: posted to or from a worker thread,
 * both threads see the same memory (parts are never written after they are built).
 */
export function shared<T>(Ctor: TypedArrayOf<T>, length: number): T {
  return new Ctor(new SharedArrayBuffer(length * Ctor.BYTES_PER_ELEMENT), 0, length);
}

/** A typed array constructor (Float64Array, Uint8Array, …) making arrays of type T. */
export interface TypedArrayOf<T> {
  new (buffer: SharedArrayBuffer, byteOffset: number, length: number): T;
  BYTES_PER_ELEMENT: number;
}
