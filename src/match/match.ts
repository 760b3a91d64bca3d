import { distance } from 'geokdbush';
import { invalidField } from '../errors.js';
import type { Crs, LngLat } from '../geo/crs.js';
import { search, type SearchQuery } from '../engine/search.js';
import { parseTagGroups, point, termParam } from '../engine/params.js';
import { formatShanghai } from '../time.js';
import type { Snapshot } from '../engine/snapshot.js';
import type { Ref, View } from '../engine/view.js';
import { openJudge, parseWhen, VISIT_MINUTES, type OpenVerdict, type ProposedSlot } from './open.js';

/** The body of `POST /v1/match`, shape-checked by the contract. */
export interface MatchRequest {
  /** One place, or several (home and school); coordinates in `crs`. */
  origins: { lng: number; lat: number; label?: string; weight?: number }[];
  crs?: Crs;
  needs?: {
    stage?: string;
    /** 五育 weights by root or sub-term, id or alias: `{ "ti": 2, "智育": 1 }`. */
    domains?: Record<string, number>;
    /** Terms every candidate must have (any of each `a|b`). */
    tags?: string[];
    types?: string[];
    free?: boolean;
    /** When the family wants to go: an instant, or a window (scored on whether the place is open for a visit in it). */
    time?: { at?: string; from?: string; to?: string };
    require_open?: boolean;
  };
  radius_km?: number;
  /** Only candidates inside this area (a district adcode or a school district's id). */
  area?: string;
  limit?: number;
}

/** How the score is made; also answered with every match so clients can show it. */
export const SCORING = {
  weights: { distance: 0.5, terms: 0.35, open: 0.15 },
  /** distance score = exp(-effective distance / scale). */
  distanceScaleKm: 5,
  /** Candidates gathered (nearest first, every filter applied) before ranking. */
  pool: 200,
  /** open in a window = an unbroken open stretch of this many minutes inside it (the whole window if shorter). */
  visitMinutes: VISIT_MINUTES,
} as const;

/** One ranked candidate, in WGS-84; the HTTP layer renders the resource and converts coordinates. */
export interface MatchItem {
  ref: Ref;
  score: number;
  breakdown: { distance: number; terms: number; open: number };
  /** The requested domain this pick stands for in a balanced plan (null when no domains were asked). */
  domain: string | null;
  reasons: {
    distance_m: { label: string; distance_m: number }[];
    effective_distance_m: number;
    matched_terms: string[];
    matched_domains: string[];
    /** What `open` was judged on (see `OpenVerdict`); null without a time or a proposed slot. */
    open: { at: string; open: boolean | null; judged: OpenVerdict['judged']; from?: string; to?: string } | null;
  };
}

export interface MatchResult {
  items: MatchItem[];
  /** How several origins combine. */
  combine: 'weighted_mean_distance';
}

/** Extra knowledge a caller may plug in, e.g. seat availability from the booking module. */
export interface MatchHooks {
  /** A further hard filter, over each snapshot of the view. */
  accept?: (snap: Snapshot) => (index: number) => boolean;
  /** The slot a candidate would book (with `needs.party`): its open score is judged on that slot. */
  slot?: (ref: Ref) => ProposedSlot | null | undefined;
}

/**
 * One-click match. Candidates are the resources nearest to the origins (and to their weighted centre)
 * that pass every hard filter (stage, required tags, types, free, radius, `require_open`, hooks), ranked by
 *
 *   score = 0.5 · exp(−d / 5 km) + 0.35 · (weight of requested domains covered / total weight) + 0.15 · open
 *
 * where d is the weighted mean of the great-circle distances to the origins (home and school: the place
 * that is convenient from both), and open is 1 when the opening hours say open, 0 when closed, 0.5 when
 * the hours are unknown or there is nothing to judge. Open means: at `time.at`, open at that instant; in a
 * window `time.from`–`to`, one unbroken open stretch of at least `visitMinutes` (60) inside it, or the
 * whole window when it is shorter; and when a slot is proposed (`hooks.slot`, with `needs.party`), open
 * for the whole of that slot, the time the family would come. `PH` reads the snapshot's calendar.
 * With domain weights the answer is a balanced plan: the best candidate for each requested domain comes
 * first (heaviest domain first), so every domain is represented before any repeats; the rest by score.
 */
export function match(view: View, req: MatchRequest, hooks: MatchHooks = {}): MatchResult {
  const crs = req.crs ?? 'wgs84';
  const limit = req.limit ?? 5;
  if (!req.origins.length) throw invalidField('body.origins', 'needs at least one origin');
  const origins = req.origins.map((o, k) => ({
    point: point(o.lng, o.lat, crs, `body.origins[${k}].lng`, `body.origins[${k}].lat`),
    label: o.label ?? (k === 0 ? 'origin' : `origin ${k + 1}`),
    weight: o.weight ?? 1,
  }));
  const totalWeight = origins.reduce((s, o) => s + o.weight, 0);
  const needs = req.needs ?? {};

  const domainWeights = Object.entries(needs.domains ?? {}).map(([name, weight]) => {
    if (!(weight > 0)) throw invalidField(`body.needs.domains.${name}`, 'must be a positive weight');
    const id = termParam(view.tax, name, ['domain'], `body.needs.domains.${name}`);
    return { id, weight };
  });
  const domainTotal = domainWeights.reduce((s, d) => s + d.weight, 0);
  const when = parseWhen(needs.time);

  const query: SearchQuery = { limit: SCORING.pool, radiusKm: req.radius_km };
  if (req.area !== undefined) {
    query.area = view.area(req.area);
    if (!query.area) throw invalidField('body.area', `no area '${req.area}'; see GET /v1/areas`);
  }
  if (needs.stage) query.stages = [termParam(view.tax, needs.stage, ['stage'], 'body.needs.stage')];
  if (needs.types?.length) query.types = needs.types.map((t, k) => termParam(view.tax, t, ['type'], `body.needs.types[${k}]`));
  if (needs.free !== undefined) query.free = needs.free;
  const required = parseTagGroups(view.tax, needs.tags ?? [], (k) => `body.needs.tags[${k}]`);
  // Candidates must offer at least one requested domain, and every required tag.
  query.tags = domainWeights.length ? [...required, domainWeights.map((d) => d.id)] : required;
  // Opening hours are judged per snapshot (each has its own hours codes), each verdict once.
  const judges = new Map<Snapshot, (i: number) => OpenVerdict | null>();
  const verdicts = new Map<Snapshot, Map<number, OpenVerdict | null>>();
  const verdictOf = (snap: Snapshot, i: number) => {
    let judge = judges.get(snap);
    if (!judge) {
      judges.set(snap, (judge = openJudge(snap, when, hooks.slot && ((j) => hooks.slot!({ snap, i: j })))));
      verdicts.set(snap, new Map());
    }
    const memo = verdicts.get(snap)!;
    let v = memo.get(i);
    if (v === undefined) memo.set(i, (v = judge(i)));
    return v;
  };
  if (needs.require_open && !when && !hooks.slot) throw invalidField('body.needs.require_open', 'needs body.needs.time (or body.needs.party)');
  if (hooks.accept || needs.require_open) {
    query.accept = (snap) => {
      const seats = hooks.accept?.(snap);
      const open = needs.require_open ? (i: number) => verdictOf(snap, i)?.open === true : undefined;
      return (i) => (!seats || seats(i)) && (!open || open(i));
    };
  }

  // Gather around each origin and around their weighted centre, so a place between home and school is seen.
  const centre: LngLat = [
    origins.reduce((s, o) => s + o.point[0] * o.weight, 0) / totalWeight,
    origins.reduce((s, o) => s + o.point[1] * o.weight, 0) / totalWeight,
  ];
  const pool = new Map<string, Ref>();
  for (const near of origins.length > 1 ? [centre, ...origins.map((o) => o.point)] : [origins[0].point]) {
    for (const ref of search(view, { ...query, near }).refs) pool.set(ref.snap.idOf(ref.i), ref);
  }

  const scored = [...pool].map(([id, ref]) => {
    const { snap, i } = ref;
    const W = snap.termWords;
    const perOrigin = origins.map((o) => ({ label: o.label, km: distance(o.point[0], o.point[1], snap.lng[i], snap.lat[i]) }));
    const effectiveKm = origins.reduce((s, o, k) => s + o.weight * perOrigin[k].km, 0) / totalWeight;
    const tagged = (id: string) => {
      const b = snap.termBit.get(id);
      return b !== undefined && (snap.termMask[i * W + (b >>> 5)] & (1 << (b & 31))) !== 0;
    };
    const matchedDomains = domainWeights.filter((d) => tagged(d.id)).map((d) => d.id);
    const covered = domainWeights.filter((d) => tagged(d.id)).reduce((s, d) => s + d.weight, 0);
    const verdict = verdictOf(snap, i);
    const breakdown = {
      distance: round(Math.exp(-effectiveKm / SCORING.distanceScaleKm)),
      terms: domainTotal ? round(covered / domainTotal) : 1,
      open: verdict === null || verdict.open === null ? 0.5 : verdict.open ? 1 : 0,
    };
    const score = round(SCORING.weights.distance * breakdown.distance + SCORING.weights.terms * breakdown.terms
      + SCORING.weights.open * breakdown.open);
    const matchedTerms = [...domainWeights.map((d) => d.id), ...required.flat()].filter(tagged);
    return {
      id, ref, score, breakdown, domain: null,
      reasons: {
        distance_m: perOrigin.map((p) => ({ label: p.label, distance_m: Math.round(p.km * 1000) })),
        effective_distance_m: Math.round(effectiveKm * 1000),
        matched_terms: [...new Set(matchedTerms)],
        matched_domains: matchedDomains,
        open: verdict && {
          at: formatShanghai(verdict.at), open: verdict.open, judged: verdict.judged,
          ...(verdict.from && { from: formatShanghai(verdict.from), to: formatShanghai(verdict.to!) }),
        },
      },
    };
  });
  // Score, then nearer, then id: a total order, so equal requests get equal answers.
  scored.sort((a, b) => b.score - a.score || a.reasons.effective_distance_m - b.reasons.effective_distance_m
    || (a.id < b.id ? -1 : 1));

  const picked: MatchItem[] = [];
  const taken = new Set<string>();
  const pick = ({ id, ...item }: (typeof scored)[number], domain: string | null) => {
    taken.add(id);
    picked.push({ ...item, domain });
  };
  for (const d of [...domainWeights].sort((a, b) => b.weight - a.weight || a.id.localeCompare(b.id))) {
    if (picked.length >= limit) break;
    const best = scored.find((c) => !taken.has(c.id) && c.reasons.matched_domains.includes(d.id));
    if (best) pick(best, d.id);
  }
  for (const c of scored) {
    if (picked.length >= limit) break;
    if (!taken.has(c.id)) pick(c, c.reasons.matched_domains[0] ?? null);
  }
  return { items: picked, combine: 'weighted_mean_distance' };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
