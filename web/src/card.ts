import { ApiError, getJson, type BookingRules, type LngLat, type Resource, type Slot, type SlotPage } from './api.js';
import { bookingForm } from './booking.js';
import { h, replace } from './dom.js';
import { districtName, formatDistance, formatHours, joinList, labelled, lang, t } from './i18n.js';
import { displayName } from './list.js';
import { DOMAIN_COLOURS, domainName, type Terms } from './taxonomy.js';

/** What a card needs from the page. */
export interface CardContext {
  terms: Terms;
  origin: LngLat | null;
  /** The service books slots; reads booking rules; has a waitlist. */
  booking: boolean;
  rules: boolean;
  waitlist: boolean;
  back(): void;
  openMine(): void;
}

/** Days of slots a card lists. */
const SLOT_DAYS = 14;

/**
 * The card of one resource: its facts, upcoming slots with the places left, and the booking form
 * (`booking.ts`), which states the venue's rules before anything is booked.
 */
export async function renderCard(el: HTMLElement, r: Resource, ctx: CardContext): Promise<void> {
  const english = lang() === 'en';
  const domain = ctx.terms.primaryDomain(r.tags);
  const distanceM = r.distance_m ?? (ctx.origin ? haversineM(ctx.origin, [r.location.lng, r.location.lat]) : undefined);
  const stripe = h('div', { class: 'card-stripe', 'aria-hidden': 'true' });
  stripe.style.background = DOMAIN_COLOURS[domain];
  const heading = h('h2', { id: 'card-title', tabindex: '-1' }, displayName(r, english));
  const domainLine = h('p', { class: 'card-domain' }, domainName(domain));
  domainLine.style.color = DOMAIN_COLOURS[domain];
  const terms = r.tags.filter((id) => !['de', 'zhi', 'ti', 'mei', 'lao'].includes(id) || !r.tags.some((x) => x.startsWith(`${id}.`)));
  const hours = r.opening_hours ? formatHours(r.opening_hours) : null;

  const slotsBox = h('section', { class: 'slots', 'aria-labelledby': 'slots-title' }, h('h3', { id: 'slots-title' }, t('slots')));
  replace(el,
    h('article', { class: 'card', 'data-id': r.id, 'aria-labelledby': 'card-title' },
      h('button', { type: 'button', class: 'back', onclick: () => ctx.back() }, `← ${t('back')}`),
      stripe,
      domainLine,
      heading,
      english || !r.name_en ? null : h('p', { class: 'card-en', lang: 'en' }, r.name_en),
      h('dl', { class: 'facts' },
        fact(t('type'), ctx.terms.label(r.type)),
        fact(t('district'), districtName(r.district.code, r.district.name)),
        r.address ? fact(t('address'), r.address) : null,
        fact(t('hours'), hours ? h('span', { title: r.opening_hours! }, hours.map((line) => h('span', { class: 'line' }, line))) : t('hoursUnknown')),
        distanceM !== undefined ? fact(t('distance'), formatDistance(distanceM)) : null,
        fact(t('price'), r.free === true ? t('isFree') : r.free === false ? t('notFree') : t('unknown')),
        r.stages.length ? fact(t('stages'), joinList(r.stages.map((s) => ctx.terms.label(s)))) : null,
        fact(t('terms'), h('span', { class: 'terms' }, terms.map((id) => h('span', { class: 'term', 'data-term': id }, ctx.terms.label(id)))))),
      slotsBox,
      r.source ? h('p', { class: 'source' }, labelled(t('source'), r.source)) : null));
  heading.focus();
  await renderSlots(slotsBox, r, ctx);
}

function fact(name: string, value: Node | string): HTMLElement[] {
  return [h('dt', {}, name), h('dd', {}, value)];
}

async function renderSlots(box: HTMLElement, r: Resource, ctx: CardContext): Promise<void> {
  const title = box.firstElementChild!;
  if (!ctx.booking) {
    box.append(h('p', { class: 'muted' }, t('slotsUnavailable')));
    return;
  }
  const status = h('p', { class: 'muted', role: 'status' }, t('loading'));
  box.append(status);
  let slots: Slot[];
  let rules: BookingRules | null = null;
  try {
    const from = new Date();
    const to = new Date(from.getTime() + SLOT_DAYS * 86_400_000);
    const path = `/v1/resources/${encodeURIComponent(r.id)}`;
    // The rules first: the form states them before anything can be booked.
    [slots, rules] = await Promise.all([
      getJson<SlotPage>(`${path}/slots`, { from: shanghaiIso(from), to: shanghaiIso(to) }).then((p) => p.items),
      // Without them (an older service) the form still books; the API then names what the venue needs.
      ctx.rules ? getJson<BookingRules>(`${path}/booking-rules`).catch(() => null) : Promise.resolve(null),
    ]);
  } catch (e) {
    status.textContent = e instanceof ApiError && e.status === 404 ? t('slotsUnavailable') : t('errorGeneric');
    return;
  }
  const open = slots.filter((s) => new Date(s.start).getTime() > Date.now());
  if (!open.length) {
    status.textContent = t('slotsNone');
    return;
  }
  status.remove();
  replace(box, title, bookingForm({ resource: r, slots: open, rules, waitlist: ctx.waitlist, openMine: ctx.openMine }));
}

/** Now (or any instant) as ISO 8601 in Beijing time, to the minute: `2026-12-05T09:30+08:00`. */
export function shanghaiIso(at: Date): string {
  return `${new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 16)}+08:00`;
}

/** Great-circle distance in metres. */
export function haversineM([lng1, lat1]: LngLat, [lng2, lat2]: LngLat): number {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lng2 - lng1) * rad) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(a));
}
