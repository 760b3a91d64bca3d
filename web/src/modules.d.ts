declare module 'polylabel' {
  /** The pole of inaccessibility of a polygon (rings of `[x, y]`), within `precision`; `distance` from it to the edge. */
  export default function polylabel(polygon: number[][][], precision?: number): [number, number] & { distance: number };
}
