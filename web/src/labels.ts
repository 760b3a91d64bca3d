/**
 * Where district names go on the map: each at its district's label point when that spot is free, else
 * nearby, inside the district if it can be, else just outside with a leader line back to the point —
 * never over a marker, a control or another name. Pure: pixel boxes in, positions out.
 */

/** A point in container pixels. */
export interface Point { x: number; y: number }

/** An axis-aligned box in container pixels (`x`, `y`: its top-left corner). */
export interface Box { x: number; y: number; w: number; h: number }

/** One name to place: its size, the point it belongs to, and whether a point lies in its district. */
export interface LabelInput {
  anchor: Point;
  w: number;
  h: number;
  inside(p: Point): boolean;
}

/** Where a name went: the centre of its box, and whether it needs a leader line to its anchor. */
export interface Placement { x: number; y: number; leader: boolean }

/** Tuning, in pixels. */
export const LABEL_OPTIONS = {
  /** Space kept between a name and anything else. */
  gap: 2,
  /** Distance between the rings of candidate positions around the anchor. */
  step: 8,
  /** Farthest a name may sit from its anchor while still inside its district. */
  insideRadius: 120,
  /** Farthest a name may sit from its anchor outside its district (with a leader line). */
  leaderRadius: 96,
  /** Margin kept free at the edges of the view. */
  margin: 4,
};

/** Directions tried on each ring, in order: east, west, north, south, then the diagonals and between. */
const ANGLES = [0, 180, 270, 90, 315, 225, 45, 135, 337.5, 202.5, 292.5, 247.5, 22.5, 157.5, 67.5, 112.5].map((d) => (d * Math.PI) / 180);

/**
 * Places the names in the order given (put the hardest first: the districts smallest on screen), each at
 * the first free candidate: the anchor, then rings around it inside the district, then rings outside it.
 * A name that finds no room is `null` (hidden). `obstacles` are markers and controls; `view` the map size.
 */
export function placeLabels(labels: LabelInput[], obstacles: Box[], view: { w: number; h: number }, options = LABEL_OPTIONS): (Placement | null)[] {
  const taken: Box[] = obstacles.map((b) => grow(b, options.gap));
  const free = (box: Box) => box.x >= options.margin && box.y >= options.margin && box.x + box.w <= view.w - options.margin
    && box.y + box.h <= view.h - options.margin && !taken.some((t) => overlaps(t, box));
  return labels.map((label) => {
    const at = (c: Point): Box => ({ x: c.x - label.w / 2, y: c.y - label.h / 2, w: label.w, h: label.h });
    let found: Placement | null = null;
    for (const c of candidates(label.anchor, options.insideRadius, options.step)) {
      if (label.inside(c) && free(at(c))) {
        found = { ...c, leader: false };
        break;
      }
    }
    if (!found) {
      for (const c of candidates(label.anchor, options.leaderRadius, options.step)) {
        if (free(at(c))) {
          found = { ...c, leader: !contains(at(c), label.anchor) };
          break;
        }
      }
    }
    if (found) taken.push(grow(at(found), options.gap));
    return found;
  });
}

/** The anchor, then points on rings `step` apart out to `radius`, nearest first. */
function* candidates(anchor: Point, radius: number, step: number): Generator<Point> {
  yield anchor;
  for (let r = step; r <= radius; r += step) {
    for (const a of ANGLES) yield { x: anchor.x + r * Math.cos(a), y: anchor.y + r * Math.sin(a) };
  }
}

/** The end of a leader line: the point of `box`'s edge nearest to `anchor`. */
export function leaderEnd(box: Box, anchor: Point): Point {
  return { x: Math.min(Math.max(anchor.x, box.x), box.x + box.w), y: Math.min(Math.max(anchor.y, box.y), box.y + box.h) };
}

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function contains(b: Box, p: Point): boolean {
  return p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h;
}

function grow(b: Box, by: number): Box {
  return { x: b.x - by, y: b.y - by, w: b.w + 2 * by, h: b.h + 2 * by };
}

/** Whether `[x, y]` lies inside a polygon given as rings (outer first, then holes), by ray casting. */
export function inPolygon(x: number, y: number, rings: number[][][]): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}
