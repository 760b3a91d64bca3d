import { ApiError, getJson, postJson, uuid, type Booking, type LngLat, type Resource, type Slot, type SlotPage } from './api.js';
import { h, replace } from './dom.js';
import { districtName, formatDateTime, formatDistance, formatHours, formatTime, joinList, labelled, lang, t } from './i18n.js';
import { displayName } from './list.js';
import { DOMAIN_COLOURS, domainName, type Terms } from './taxonomy.js';

/** What a card needs from the page. */
export interface CardContext {
  terms: Terms;
  origin: LngLat | null;
  booking: boolean;
  back(): void;
}

/** What a 409 `slot_full` offers instead (see openapi.yaml, createBooking). */
interface Alternatives {
  slots?: Slot[];
  resources?: { id: string; name: string | null; distance_m: number }[];
}

/** Days of slots a card lists. */
const SLOT_DAYS = 14;
/** Largest party of an individual (family) booking, as the service's booking rules allow. */
const INDIVIDUAL_MAX = 10;

/**
 * The card of one resource: its facts, upcoming slots with the places left, and a booking form that
 * books through `POST /v1/bookings` and then shows the confirmation with a link to the `.ics`.
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
  try {
    const from = new Date();
    const to = new Date(from.getTime() + SLOT_DAYS * 86_400_000);
    slots = (await getJson<SlotPage>(`/v1/resources/${encodeURIComponent(r.id)}/slots`, { from: shanghaiIso(from), to: shanghaiIso(to) })).items;
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
  replace(box, title, bookingForm(r, open));
}

/** The booking form: a slot, the party size, a contact; answers with the confirmation in place. */
function bookingForm(r: Resource, slots: Slot[]): HTMLElement {
  let key: string | null = null; // one Idempotency-Key per distinct request: a retry of the same form reuses it
  let keyFor = '';
  const error = h('p', { class: 'error', role: 'alert', id: 'booking-error' });
  const radios = slots.map((s, k) => {
    const left = s.remaining.individual;
    const input = h('input', { type: 'radio', name: 'slot', value: String(s.id), id: `slot-${s.id}`, disabled: left <= 0, checked: false });
    if (k === slots.findIndex((x) => x.remaining.individual > 0)) input.checked = true;
    return h('label', { class: `slot${left <= 0 ? ' full' : ''}`, for: `slot-${s.id}`, 'data-slot': String(s.id) },
      input,
      h('span', { class: 'slot-time' }, `${formatDateTime(s.start)}–${formatTime(s.end)}`),
      h('span', { class: 'slot-left' }, left > 0 ? `${t('remaining')} ${left} ${t('seatsUnit')}` : t('full')));
  });
  const name = h('input', { id: 'contact-name', name: 'name', type: 'text', autocomplete: 'name', required: true, maxlength: '40' });
  const phone = h('input', { id: 'contact-phone', name: 'phone', type: 'tel', inputmode: 'numeric', autocomplete: 'tel', required: true, pattern: '1[0-9]{10}', maxlength: '11' });
  const party = h('input', { id: 'party-size', name: 'party', type: 'number', min: '1', max: String(INDIVIDUAL_MAX), value: '1', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('submit'));

  const form = h('form', { class: 'booking', novalidate: true },
    h('fieldset', {}, h('legend', {}, t('chooseSlot')), h('div', { class: 'slot-list' }, radios)),
    h('div', { class: 'fields' },
      h('label', { for: 'contact-name' }, t('contactName'), name),
      h('label', { for: 'contact-phone' }, t('phone'), phone),
      h('label', { for: 'party-size' }, t('partySize'), party)),
    h('p', { class: 'muted small' }, t('privacy')),
    error,
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    for (const field of [name, phone, party]) {
      field.removeAttribute('aria-invalid');
      field.removeAttribute('aria-describedby');
    }
    const chosen = form.querySelector<HTMLInputElement>('input[name=slot]:checked');
    if (!name.value.trim()) return fail(t('nameInvalid'), name);
    if (!/^1\d{10}$/.test(phone.value.trim())) return fail(t('phoneInvalid'), phone);
    if (!chosen) return fail(t('chooseSlot'), radios[0]?.querySelector('input') ?? submit);
    const slot = slots.find((s) => String(s.id) === chosen.value)!;
    const body = {
      slot_id: slot.id, kind: 'individual', party_size: Math.max(1, Math.min(INDIVIDUAL_MAX, Number(party.value) || 1)),
      contact: { name: name.value.trim(), phone: phone.value.trim() },
    };
    const text = JSON.stringify(body);
    if (text !== keyFor) [key, keyFor] = [uuid(), text];
    submit.disabled = true;
    submit.textContent = t('submitting');
    try {
      const booking = await postJson<Booking>('/v1/bookings', body, { 'Idempotency-Key': key! });
      form.replaceWith(confirmation(r, booking, slot));
    } catch (err) {
      submit.disabled = false;
      submit.textContent = t('submit');
      if (!(err instanceof ApiError)) return fail(t('errorNetwork'), submit);
      if (err.status === 409 && err.problem.alternatives) {
        // A full slot names other slots here and the nearest places with room that day.
        const alt = err.problem.alternatives as Alternatives;
        error.replaceChildren(h('span', { class: 'line' }, t('slotFull')));
        if (alt.slots?.length) error.append(h('span', { class: 'line' }, labelled(t('otherSlots'), joinList(alt.slots.slice(0, 3).map((x) => formatDateTime(x.start))))));
        if (alt.resources?.length) {
          error.append(h('span', { class: 'line' }, labelled(t('alternatives'),
            joinList(alt.resources.slice(0, 3).map((x) => `${x.name ?? x.id} (${formatDistance(x.distance_m)})`)))));
        }
        return;
      }
      const fields = err.problem.errors?.map((x) => `${x.path}: ${x.message}`).join('；');
      fail(fields || err.message || t('errorGeneric'), submit);
    }
  });

  /** Shows the problem, marks the field at fault (screen readers read the message with it) and focuses it. */
  function fail(message: string, focus: HTMLElement | null): void {
    error.textContent = message;
    if (focus instanceof HTMLInputElement && focus.type !== 'radio') {
      focus.setAttribute('aria-invalid', 'true');
      focus.setAttribute('aria-describedby', 'booking-error');
    }
    focus?.focus();
  }
  return form;
}

/** The booking's confirmation: number, time, party, and the calendar file. */
function confirmation(r: Resource, b: Booking, chosen: Slot): HTMLElement {
  const slot = b.slot ?? chosen;
  const ics = `/v1/bookings/${encodeURIComponent(b.id)}.ics`;
  const link = h('a', { class: 'ics', href: ics, download: `${b.id}.ics` }, t('ics'));
  // The calendar file is the booking holder's: fetch it with the booking's token, then save it.
  link.addEventListener('click', async (e) => {
    e.preventDefault();
    const res = await fetch(ics, { headers: { Authorization: `Bearer ${b.token}` } });
    if (!res.ok) return;
    const url = URL.createObjectURL(await res.blob());
    const save = h('a', { href: url, download: `${b.id}.ics` });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  const heading = h('h3', { tabindex: '-1' }, `✓ ${t('booked')}`);
  const box = h('section', { class: 'confirmation', role: 'status', 'data-booking': b.id, 'data-status': b.status },
    heading,
    h('dl', { class: 'facts' },
      fact(t('bookingNo'), h('span', { class: 'booking-id' }, b.id)),
      fact(t('time'), `${formatDateTime(slot.start)}–${formatTime(slot.end)}`),
      fact(t('partySize'), `${b.party_size} ${t('people')}`),
      fact(t('address'), [displayName(r, lang() === 'en'), r.address].filter(Boolean).join(lang() === 'zh' ? '，' : ', '))),
    h('p', {}, link),
    h('p', { class: 'muted small' }, t('keepToken')));
  setTimeout(() => heading.focus(), 0);
  return box;
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
