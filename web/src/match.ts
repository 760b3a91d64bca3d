import type { Resource } from './api.js';
import { h, replace } from './dom.js';
import { formatDateTime, formatDistance, formatTime, labelled, lang, t } from './i18n.js';
import { displayName } from './list.js';
import { DOMAIN_COLOURS, domainName, type Domain, type Terms } from './taxonomy.js';

/** One ranked candidate of `POST /v1/match` (see openapi.yaml, MatchAnswer). */
export interface MatchItem {
  rank: number;
  resource: Resource;
  score: number;
  /** Each part in [0, 1], before the weights of `scoring`. */
  breakdown: { distance: number; terms: number; open: number };
  /** The requested domain this pick stands for in a balanced plan. */
  domain: string | null;
  reasons: {
    distance_m?: { label: string; distance_m: number }[];
    effective_distance_m?: number;
    matched_terms?: string[];
    matched_domains?: string[];
    open?: { at: string; open: boolean | null } | null;
  };
  /** With `needs.party`: the earliest slot with room this pick would book. */
  slot?: { id: number; start: string; end: string; remaining: { individual: number; group: number } } | null;
}

export interface MatchAnswer {
  count: number;
  items: MatchItem[];
}

/** The request the page sends: the starting point, the chosen domains with equal weights, the filters. */
export interface MatchRequest {
  origins: { lng: number; lat: number; label?: string }[];
  /** System of the origins, and of the answer's locations. */
  crs?: 'wgs84' | 'gcj02';
  needs: {
    domains?: Record<string, number>;
    stage?: string;
    free?: boolean;
    time?: { at?: string; from?: string; to?: string };
    require_open?: boolean;
    party?: { seats: number; kind?: 'individual' | 'group' };
  };
  limit: number;
}

export interface MatchContext {
  terms: Terms;
  open(id: string, distanceM?: number): void;
  close(): void;
}

/** The best plan: candidates in rank order, each with the domain it stands for, its reasons and score parts. */
export function renderMatch(el: HTMLElement, answer: MatchAnswer, ctx: MatchContext): void {
  const english = lang() === 'en';
  const heading = h('h2', { id: 'match-title', tabindex: '-1' }, t('matchTitle'));
  replace(el,
    h('button', { type: 'button', class: 'back', onclick: () => ctx.close() }, `← ${t('back')}`),
    heading,
    answer.items.length ? h('p', { class: 'muted small' }, t('matchHint')) : h('p', { class: 'muted', role: 'status' }, t('matchNone')),
    h('ol', { class: 'match-list', id: 'match-list', 'aria-labelledby': 'match-title' }, answer.items.map((c) => {
      const r = c.resource;
      const domain = (c.domain && ctx.terms.root(c.domain)) as Domain | null;
      const colour = ctx.terms.primaryDomain(r.tags);
      const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
      dot.style.background = DOMAIN_COLOURS[domain ?? colour] ?? DOMAIN_COLOURS.none;
      const distance = c.reasons.effective_distance_m ?? c.reasons.distance_m?.[0]?.distance_m;
      return h('li', { class: 'match', 'data-id': r.id, 'data-rank': String(c.rank) },
        h('button', { type: 'button', class: 'result', 'data-id': r.id, 'data-domain': domain ?? colour, 'data-tags': r.tags.join(' '),
          onclick: () => ctx.open(r.id, distance) },
        h('span', { class: 'rank' }, String(c.rank)),
        dot,
        h('span', { class: 'result-main' },
          h('span', { class: 'result-name' }, displayName(r, english)),
          h('span', { class: 'result-meta' }, [
            domain ? `${t('standsFor')}${domainName(domain)}` : null,
            ctx.terms.label(r.type),
            distance !== undefined ? formatDistance(distance) : null,
          ].filter(Boolean).join(' · '))),
        h('span', { class: 'score' }, `${t('score')} ${c.score.toFixed(2)}`)),
        h('ul', { class: 'reasons' }, reasonLines(c, ctx.terms).map((line) => h('li', {}, line))));
    })));
  heading.focus();
}

/** The reasons as sentences: distance from the starting point, matched terms, open at the time asked. */
function reasonLines(c: MatchItem, terms: Terms): string[] {
  const lines: string[] = [];
  for (const d of c.reasons.distance_m ?? []) lines.push(`${t('distanceFrom')} ${formatDistance(d.distance_m)}`);
  const matched = c.reasons.matched_terms ?? [];
  if (matched.length) lines.push(`${t('matched')}${matched.map((id) => terms.label(id)).join(lang() === 'zh' ? '、' : ', ')}`);
  const open = c.reasons.open;
  if (c.slot) lines.push(labelled(t('bookable'), `${formatDateTime(c.slot.start)}–${formatTime(c.slot.end)}, ${t('remaining')} ${c.slot.remaining.individual} ${t('seatsUnit')}`.trim()));
  if (open) lines.push(open.open === true ? t('openThen') : open.open === false ? t('closedThen') : t('hoursUnknownShort'));
  lines.push(`${t('scoreParts')} ${t('distance')} ${c.breakdown.distance.toFixed(2)} · ${t('terms')} ${c.breakdown.terms.toFixed(2)} · ${t('hours')} ${c.breakdown.open.toFixed(2)}`);
  return lines;
}
