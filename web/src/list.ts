import type { Resource } from './api.js';
import { h } from './dom.js';
import { districtName, formatDistance, t } from './i18n.js';
import { DOMAIN_COLOURS, domainName, type Terms } from './taxonomy.js';

/** A resource's name in the current language (the Chinese name when it has no English one). */
export function displayName(r: { name?: string; name_en?: string | null; id: string }, english: boolean): string {
  return (english && r.name_en) || r.name || r.id;
}

/**
 * One result row: a button carrying the resource's id, primary domain and tags as data attributes (the
 * end-to-end test reads them), its name, type, district, badges and (from a starting point) distance.
 */
export function resultItem(r: Resource, terms: Terms, english: boolean, showDistance: boolean, onOpen: (r: Resource) => void): HTMLLIElement {
  const domain = terms.primaryDomain(r.tags);
  const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
  dot.style.background = DOMAIN_COLOURS[domain];
  const badges = [
    r.free === true ? h('span', { class: 'badge free' }, t('isFree')) : null,
    r.booking_required ? h('span', { class: 'badge' }, t('bookingRequired')) : null,
  ];
  return h('li', {},
    h('button', {
      type: 'button', class: 'result', 'data-id': r.id, 'data-domain': domain, 'data-tags': r.tags.join(' '),
      onclick: () => onOpen(r),
    },
    dot,
    h('span', { class: 'result-main' },
      h('span', { class: 'result-name' }, displayName(r, english)),
      h('span', { class: 'result-meta' },
        `${terms.label(r.type)} · ${districtName(r.district.code, r.district.name)} · ${domainName(domain)}`),
      h('span', { class: 'badges' }, badges)),
    showDistance && r.distance_m !== undefined ? h('span', { class: 'result-distance' }, formatDistance(r.distance_m)) : null));
}
