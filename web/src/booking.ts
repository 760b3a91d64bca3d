/**
 * The booking form of a resource's card: the venue's rules stated first, individuals (families) or groups,
 * a slot, the contact, one resident ID per visitor where the venue books by real name, the organisation's
 * unified social credit code and the leader's ID for a group where required. The API's field errors are
 * shown beside the field they name; a full slot offers its waitlist (候补); a slot not yet released says
 * when it opens. What is booked or joined is kept on this device (`device.ts`: id and token only).
 */
import { ApiError, postJson, uuid, type Booking, type BookingRequest, type BookingRules, type Resource, type Slot, type WaitlistEntry } from './api.js';
import * as device from './device.js';
import { h, replace } from './dom.js';
import { qrImage, saveIcs } from './files.js';
import { formatDateTime, formatDistance, formatTime, joinList, labelled, lang, strings, t } from './i18n.js';
import { displayName } from './list.js';
import { opensAtMs, rulesBox } from './rules.js';

/** What the form needs from its card. */
export interface FormContext {
  resource: Resource;
  /** Upcoming slots, by start. */
  slots: Slot[];
  /** The venue's rules; null when the service cannot say (an older one). */
  rules: BookingRules | null;
  /** The service has a waitlist. */
  waitlist: boolean;
  /** Opens "my bookings". */
  openMine(): void;
}

type Kind = 'individual' | 'group';

/** Largest party of an individual (family) booking, as the service allows. */
const INDIVIDUAL_MAX = 10;

const s = strings({
  kind: { zh: '预约类型', en: 'Booking for' },
  individual: { zh: '个人/家庭', en: 'Individuals / a family' },
  group: { zh: '团体（学校、班级）', en: 'A group (a school, a class)' },
  opensAt: { zh: '{at} 开放预约', en: 'opens {at}' },
  fullWait: { zh: '已满 · 可候补', en: 'Full · waitlist' },
  partyHint: { zh: '{min}–{max} 人', en: '{min}–{max} people' },
  visitors: { zh: '参观者身份证号（每人一个）', en: 'Resident ID numbers (one per visitor)' },
  visitorsHint: { zh: '实名预约：请填写每位参观者的 18 位居民身份证号码。号码只以加密摘要保存，用于“一人一天一约”和入馆核验。', en: 'Real name: the 18-character resident ID number of each visitor. Stored only as a keyed hash, for the one-booking-a-day rule and the check at the gate.' },
  visitor: { zh: '第 {n} 位参观者', en: 'Visitor {n}' },
  orgCode: { zh: '统一社会信用代码', en: 'Unified social credit code' },
  orgHint: { zh: '18 位，见单位的营业执照或登记证书', en: '18 characters, on the organisation\'s licence or registration certificate' },
  optional: { zh: '（选填）', en: ' (optional)' },
  leader: { zh: '领队身份证号', en: 'Group leader\'s resident ID number' },
  privacy: { zh: '手机号加密保存，仅供场馆必要时联系；本设备只保存预约编号和凭证。', en: 'Your number is stored encrypted, for the venue to call if needed; this device keeps only the booking number and its token.' },
  required: { zh: '请填写此项', en: 'Please fill this in' },
  idShape: { zh: '应为 18 位：17 位数字加 1 位数字或 X', en: 'Must be 18 characters: 17 digits and a digit or X' },
  partyRange: { zh: '人数应为 {min}–{max}', en: 'The party must be {min}–{max}' },
  checkFields: { zh: '请按提示修改标出的内容', en: 'Please correct the marked fields' },
  notOpen: { zh: '该时段尚未开放，将于 {at} 开放预约', en: 'This slot is not open yet; it opens {at}' },
  banned: { zh: '因多次爽约，暂时不能在本馆预约，至 {until}', en: 'Bookings here are paused after missed bookings, until {until}' },
  waitOffer: { zh: '可以加入候补：有人取消或场馆加位时，按加入顺序自动转为预约。', en: 'You can join the waitlist: when places free up, entries become bookings in the order they joined.' },
  joinWait: { zh: '加入候补', en: 'Join the waitlist' },
  joining: { zh: '正在加入…', en: 'Joining…' },
  hasRoom: { zh: '该时段又有名额了，请直接提交预约', en: 'The slot has room again: book it directly' },
  waiting: { zh: '已加入候补', en: 'On the waitlist' },
  position: { zh: '当前排第 {n} 位', en: 'Position {n}' },
  waitingNote: { zh: '有名额时将按顺序自动转为预约；{at} 前未递补则自动失效。可在“我的预约”中查看进度或退出候补。', en: 'It becomes a booking in turn when places free up; it lapses at {at} if not. See it, or leave, under My bookings.' },
  checkinCode: { zh: '签到码', en: 'Check-in code' },
  qrAlt: { zh: '签到二维码，签到码 {code}', en: 'Check-in QR code, code {code}' },
  saved: { zh: '已保存在本设备的“我的预约”中，可随时查看或取消。', en: 'Saved under My bookings on this device: see or cancel it there any time.' },
  openMine: { zh: '查看我的预约', en: 'See my bookings' },
  busy: { zh: '上一次提交仍在处理中，请稍后再试', en: 'The last attempt is still being processed; try again shortly' },
});

/** One labelled input with its hint and its own error line (tied to it by `aria-describedby`). */
interface Field {
  input: HTMLInputElement;
  row: HTMLElement;
  error: HTMLElement;
  hint: HTMLElement | null;
}

function field(id: string, label: string, attrs: Record<string, string | boolean>, hint?: string): Field {
  const input = h('input', { id, name: id, ...attrs });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const row = h('div', { class: 'field-row' }, h('label', { for: id }, label), input, hintEl, error);
  return { input, row, error, hint: hintEl };
}

const ID_ATTRS = { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', maxlength: '18', inputmode: 'text' };

/** The form; it replaces itself with the confirmation (or the waitlist entry) when done. */
export function bookingForm(ctx: FormContext): HTMLElement {
  const rules = ctx.rules;
  const kinds = (['individual', 'group'] as const).filter((k) => ctx.slots.some((x) => x.capacity[k] > 0));
  let kind: Kind = kinds[0] ?? 'individual';
  /** One Idempotency-Key per distinct request: a retry of the same body reuses it (booking and waitlist apart). */
  const keys = { booking: { key: '', body: '' }, waitlist: { key: '', body: '' } };
  const keyFor = (which: 'booking' | 'waitlist', body: string) => {
    const k = keys[which];
    if (k.body !== body) [k.key, k.body] = [uuid(), body];
    return k.key;
  };

  const general = h('div', { class: 'error', role: 'alert', id: 'booking-error' });
  const offer = h('div', { class: 'waitlist-offer', hidden: true });

  const kindBox = kinds.length > 1
    ? h('fieldset', { class: 'kind' }, h('legend', {}, s('kind')), kinds.map((k) => {
      const input = h('input', { type: 'radio', name: 'kind', value: k, id: `kind-${k}`, checked: k === kind });
      input.addEventListener('change', () => {
        kind = k;
        renderSlots();
        party.input.value = String(minParty(chosenSlot()));
        sync();
      });
      return h('label', { class: 'choice', for: `kind-${k}` }, input, s(k));
    }))
    : null;

  const slotError = h('p', { class: 'field-error', id: 'slot-error' });
  const slotList = h('div', { class: 'slot-list' });
  const slotBox = h('fieldset', { class: 'slot-field', 'aria-describedby': 'slot-error' }, h('legend', {}, t('chooseSlot')), slotList, slotError);

  const name = field('contact-name', t('contactName'), { type: 'text', autocomplete: 'name', required: true, maxlength: '40' });
  const phone = field('contact-phone', t('phone'), { type: 'tel', inputmode: 'numeric', autocomplete: 'tel', required: true, maxlength: '16' });
  const party = field('party-size', t('partySize'), { type: 'number', min: '1', max: String(INDIVIDUAL_MAX), value: '1', required: true, inputmode: 'numeric' }, ' ');

  const visitorList = h('div', { class: 'visitor-list' });
  const visitorsError = h('p', { class: 'field-error', id: 'visitors-error' });
  const visitorsBox = h('fieldset', { class: 'visitors', 'aria-describedby': 'visitors-hint visitors-error' },
    h('legend', {}, s('visitors')), h('p', { class: 'hint', id: 'visitors-hint' }, s('visitorsHint')), visitorList, visitorsError);
  let visitors: Field[] = [];

  const needsOrg = !!rules && (rules.group.org_code_required || rules.real_name);
  const org = field('org-code', s('orgCode') + (needsOrg ? '' : s('optional')),
    { ...ID_ATTRS, required: needsOrg }, s('orgHint'));
  const leader = field('leader-id', s('leader'), { ...ID_ATTRS, required: true });

  const submit = h('button', { type: 'submit', class: 'primary' }, t('submit'));
  const form = h('form', { class: 'booking', novalidate: true, 'data-kind': kind },
    rules ? rulesBox(rules, kinds.includes('group')) : null,
    kindBox,
    slotBox,
    h('div', { class: 'fields' }, name.row, phone.row, party.row),
    visitorsBox,
    h('div', { class: 'fields group-fields' }, org.row, leader.row),
    h('p', { class: 'muted small' }, s('privacy')),
    general,
    offer,
    submit);

  function chosenSlot(): Slot | undefined {
    const input = form.querySelector<HTMLInputElement>('input[name=slot]:checked');
    return input ? ctx.slots.find((x) => String(x.id) === input.value) : undefined;
  }

  /** Slots offered for the kind: a full one stays choosable (its waitlist), one not yet released does not. */
  function renderSlots(): void {
    const before = chosenSlot()?.id;
    const now = Date.now();
    const list = ctx.slots.filter((x) => x.capacity[kind] > 0);
    let checked = false;
    replace(slotList, list.map((x) => {
      const left = x.remaining[kind];
      const opens = rules ? opensAtMs(rules, x) : 0;
      const closed = opens > now;
      const full = left < minParty(x);
      const input = h('input', { type: 'radio', name: 'slot', value: String(x.id), id: `slot-${x.id}`, disabled: closed });
      input.addEventListener('change', sync);
      if (!closed && !checked && (x.id === before || (before === undefined && !full))) input.checked = checked = true;
      const status = closed ? s('opensAt', { at: formatDateTime(new Date(opens).toISOString()) })
        : full ? (ctx.waitlist ? s('fullWait') : t('full')) : `${t('remaining')} ${left} ${t('seatsUnit')}`;
      return h('label', { class: `slot${full ? ' full' : ''}${closed ? ' closed' : ''}`, for: `slot-${x.id}`, 'data-slot': String(x.id) },
        input,
        h('span', { class: 'slot-time' }, `${formatDateTime(x.start)}–${formatTime(x.end)}`),
        h('span', { class: 'slot-left' }, status));
    }));
    // All full: the first still open is chosen, so that its waitlist is one submission away.
    const first = slotList.querySelector<HTMLInputElement>('input:not(:disabled)');
    if (!checked && first) first.checked = true;
  }

  /** Party limits: an individual booking up to the per-contact cap; a group within the slot's and the venue's range. */
  function minParty(x?: Slot): number {
    if (kind === 'individual') return 1;
    return Math.max(x?.group_size?.min ?? 15, rules?.group.min ?? 1);
  }
  function maxParty(x?: Slot): number {
    if (kind === 'individual') return Math.min(INDIVIDUAL_MAX, rules?.per_contact_daily ?? INDIVIDUAL_MAX);
    return Math.min(x?.group_size?.max ?? 200, rules?.group.max ?? Infinity);
  }

  /** Shows the fields the kind and the rules need, and one ID field per visitor. */
  function sync(): void {
    const slot = chosenSlot();
    const [min, max] = [minParty(slot), maxParty(slot)];
    form.dataset.kind = kind;
    party.input.min = String(min);
    party.input.max = String(max);
    if (party.hint) party.hint.textContent = s('partyHint', { min, max });
    const realName = !!rules?.real_name;
    visitorsBox.hidden = !(kind === 'individual' && realName);
    (form.querySelector('.group-fields') as HTMLElement).hidden = kind !== 'group';
    leader.row.hidden = !(kind === 'group' && realName);
    if (!visitorsBox.hidden) {
      const count = Math.max(1, Math.min(max, Math.floor(Number(party.input.value)) || 1));
      while (visitors.length < count) {
        const k = visitors.length;
        visitors.push(field(`visitor-${k}`, s('visitor', { n: k + 1 }), ID_ATTRS));
      }
      visitors = visitors.slice(0, count);
      replace(visitorList, visitors.map((v) => v.row));
    }
  }
  party.input.addEventListener('input', sync);

  /** Every field that an error path can name. */
  function fieldOf(path: string): Field | HTMLElement | null {
    const visitor = /^body\.visitor_ids\[(\d+)\]$/.exec(path);
    if (visitor) return visitors[Number(visitor[1])] ?? visitorsError;
    switch (path) {
      case 'body.contact.name': return name;
      case 'body.contact.phone': return phone;
      case 'body.party_size': return party;
      case 'body.visitor_ids': return visitorsError;
      case 'body.group': case 'body.group.org_code': return org;
      case 'body.group.leader_id': return leader;
      case 'body.slot_id': return slotError;
      default: return null;
    }
  }

  function clearErrors(): void {
    general.replaceChildren();
    offer.hidden = true;
    for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
    for (const f of [name, phone, party, org, leader, ...visitors]) {
      f.input.removeAttribute('aria-invalid');
      if (f.hint) f.input.setAttribute('aria-describedby', f.hint.id);
      else f.input.removeAttribute('aria-describedby');
    }
  }

  /** Marks fields with their messages and focuses the first; the rest goes to the general line. */
  function showFieldErrors(errors: { path: string; message: string }[], summary: string): void {
    let first: HTMLElement | null = null;
    const rest: string[] = [];
    for (const e of errors) {
      const target = fieldOf(e.path);
      if (!target) {
        rest.push(e.message);
        continue;
      }
      if (target instanceof HTMLElement) {
        target.textContent = target.textContent ? `${target.textContent}；${e.message}` : e.message;
        first ??= target.closest('fieldset')?.querySelector<HTMLElement>('input:not(:disabled)') ?? null;
        continue;
      }
      target.error.textContent = target.error.textContent ? `${target.error.textContent}；${e.message}` : e.message;
      target.input.setAttribute('aria-invalid', 'true');
      target.input.setAttribute('aria-describedby', [target.hint?.id, target.error.id].filter(Boolean).join(' '));
      first ??= target.input;
    }
    general.textContent = rest.length ? rest.join('；') : summary;
    (first ?? submit).focus();
  }

  /** The checks the page can make itself; the API checks the numbers (and says so in the page's language). */
  function localErrors(): { path: string; message: string }[] {
    const errors: { path: string; message: string }[] = [];
    const slot = chosenSlot();
    if (!slot) errors.push({ path: 'body.slot_id', message: t('chooseSlot') });
    if (!name.input.value.trim()) errors.push({ path: 'body.contact.name', message: t('nameInvalid') });
    if (!/^1\d{10}$/.test(cleanPhone(phone.input.value))) errors.push({ path: 'body.contact.phone', message: t('phoneInvalid') });
    const n = Number(party.input.value);
    const [min, max] = [minParty(slot), maxParty(slot)];
    if (!Number.isInteger(n) || n < min || n > max) errors.push({ path: 'body.party_size', message: s('partyRange', { min, max }) });
    const idPath = (k: number) => `body.visitor_ids[${k}]`;
    if (!visitorsBox.hidden) {
      visitors.forEach((v, k) => {
        const value = v.input.value.trim();
        if (!value) errors.push({ path: idPath(k), message: s('required') });
        else if (!/^\d{17}[\dXx]$/.test(value)) errors.push({ path: idPath(k), message: s('idShape') });
      });
    }
    if (kind === 'group' && needsOrg && !org.input.value.trim()) errors.push({ path: 'body.group.org_code', message: s('required') });
    if (kind === 'group' && !leader.row.hidden) {
      const value = leader.input.value.trim();
      if (!value) errors.push({ path: 'body.group.leader_id', message: s('required') });
      else if (!/^\d{17}[\dXx]$/.test(value)) errors.push({ path: 'body.group.leader_id', message: s('idShape') });
    }
    return errors;
  }

  function requestBody(slot: Slot): BookingRequest {
    const body: BookingRequest = {
      slot_id: Number(slot.id), kind, party_size: Number(party.input.value),
      contact: { name: name.input.value.trim(), phone: phone.input.value.trim() },
    };
    if (!visitorsBox.hidden) body.visitor_ids = visitors.map((v) => v.input.value.trim());
    if (kind === 'group') {
      const group: BookingRequest['group'] = {};
      if (org.input.value.trim()) group.org_code = org.input.value.trim();
      if (!leader.row.hidden && leader.input.value.trim()) group.leader_id = leader.input.value.trim();
      if (group.org_code || group.leader_id) body.group = group;
    }
    return body;
  }

  function busy(button: HTMLButtonElement, on: boolean, text: string): void {
    button.disabled = on;
    button.textContent = text;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const local = localErrors();
    if (local.length) return showFieldErrors(local, s('checkFields'));
    const slot = chosenSlot()!;
    const body = requestBody(slot);
    busy(submit, true, t('submitting'));
    try {
      const booking = await postJson<Booking>('/v1/bookings', body, { 'Idempotency-Key': keyFor('booking', JSON.stringify(body)) });
      if (booking.token) device.keep('booking', booking.id, booking.token);
      form.replaceWith(confirmation(ctx, booking));
    } catch (err) {
      busy(submit, false, t('submit'));
      failed(err, body);
    }
  });

  /** Says what went wrong, where; a full slot offers its waitlist with the same body. */
  function failed(err: unknown, body: BookingRequest): void {
    if (!(err instanceof ApiError) || err.status === 0) {
      general.textContent = t('errorNetwork');
      return submit.focus();
    }
    const p = err.problem;
    if (err.code === 'slot_full') return offerWaitlist(err, body);
    if (err.code === 'not_yet_open' && typeof p.opens_at === 'string') {
      general.textContent = s('notOpen', { at: formatDateTime(p.opens_at) });
      return submit.focus();
    }
    if (err.code === 'banned' && typeof p.until === 'string') {
      general.textContent = s('banned', { until: formatDateTime(p.until) });
      return submit.focus();
    }
    if (err.code === 'idempotency_in_progress') {
      general.textContent = s('busy');
      return submit.focus();
    }
    if (p.errors?.length) return showFieldErrors(p.errors, err.status === 400 ? s('checkFields') : p.title ?? s('checkFields'));
    general.textContent = err.message || t('errorGeneric');
    submit.focus();
  }

  function offerWaitlist(err: ApiError, body: BookingRequest): void {
    const alt = err.problem.alternatives as { slots?: Slot[]; resources?: { id: string; name: string | null; distance_m: number }[] } | undefined;
    general.replaceChildren(h('span', { class: 'line' }, t('slotFull')));
    if (alt?.slots?.length) general.append(h('span', { class: 'line' }, labelled(t('otherSlots'), joinList(alt.slots.slice(0, 3).map((x) => formatDateTime(x.start))))));
    if (alt?.resources?.length) {
      general.append(h('span', { class: 'line' }, labelled(t('alternatives'),
        joinList(alt.resources.slice(0, 3).map((x) => `${x.name ?? x.id} (${formatDistance(x.distance_m)})`)))));
    }
    if (!ctx.waitlist) return submit.focus();
    const join = h('button', { type: 'button', class: 'secondary', id: 'join-waitlist' }, s('joinWait'));
    join.addEventListener('click', async () => {
      busy(join, true, s('joining'));
      try {
        const entry = await postJson<WaitlistEntry>('/v1/waitlist', body, { 'Idempotency-Key': keyFor('waitlist', JSON.stringify(body)) });
        if (entry.token) device.keep('waitlist', entry.id, entry.token);
        form.replaceWith(waitingBox(ctx, entry));
      } catch (e) {
        busy(join, false, s('joinWait'));
        clearErrors();
        if (e instanceof ApiError && e.code === 'slot_has_room') {
          general.textContent = s('hasRoom');
          return submit.focus();
        }
        failed(e, body);
      }
    });
    replace(offer, h('p', {}, s('waitOffer')), join);
    offer.hidden = false;
    join.focus();
  }

  renderSlots();
  sync();
  return form;
}

/** A mobile number as the page checks it: without spaces, hyphens or +86. */
function cleanPhone(text: string): string {
  return text.replace(/[\s-]/g, '').replace(/^\+?86(?=1\d{10}$)/, '');
}

/** The booking's confirmation: number, time, party, place, the check-in code and its QR code, the calendar file. */
function confirmation(ctx: FormContext, b: Booking): HTMLElement {
  const ics = `/v1/bookings/${encodeURIComponent(b.id)}.ics`;
  const link = h('a', { class: 'ics', href: ics, download: `${b.id}.ics` }, t('ics'));
  link.addEventListener('click', (e) => {
    e.preventDefault();
    if (b.token) void saveIcs(b.id, b.token).catch(() => undefined);
  });
  const qr = h('div', { class: 'qr-box' });
  if (b.token) void qrImage(b.id, b.token, s('qrAlt', { code: b.checkin_code })).then((img) => qr.append(img), () => undefined);
  const heading = h('h3', { tabindex: '-1' }, `✓ ${t('booked')}`);
  const place = [displayName(ctx.resource, lang() === 'en'), ctx.resource.address].filter(Boolean).join(lang() === 'zh' ? '，' : ', ');
  const box = h('section', { class: 'confirmation', 'data-booking': b.id, 'data-status': b.status },
    h('div', { role: 'status' }, heading),
    h('dl', { class: 'facts' },
      fact(t('bookingNo'), h('span', { class: 'booking-id' }, b.id)),
      fact(t('time'), `${formatDateTime(b.slot.start)}–${formatTime(b.slot.end)}`),
      fact(t('partySize'), `${b.party_size} ${t('people')}`),
      fact(t('address'), place),
      fact(s('checkinCode'), h('strong', { class: 'checkin-code' }, b.checkin_code))),
    qr,
    h('p', {}, link),
    h('p', { class: 'muted small' }, s('saved')),
    h('button', { type: 'button', class: 'secondary', onclick: () => ctx.openMine() }, s('openMine')));
  setTimeout(() => heading.focus(), 0);
  return box;
}

/** The waitlist entry just joined: its position and when it lapses. */
function waitingBox(ctx: FormContext, e: WaitlistEntry): HTMLElement {
  const heading = h('h3', { tabindex: '-1' }, s('waiting'));
  const box = h('section', { class: 'confirmation waiting', 'data-entry': e.id, 'data-status': e.status },
    h('div', { role: 'status' }, heading, h('p', { class: 'position' }, s('position', { n: e.position ?? '—' }))),
    h('dl', { class: 'facts' },
      fact(t('time'), `${formatDateTime(e.slot.start)}–${formatTime(e.slot.end)}`),
      fact(t('partySize'), `${e.party_size} ${t('people')}`)),
    h('p', { class: 'small' }, s('waitingNote', { at: formatDateTime(e.expires_at) })),
    h('button', { type: 'button', class: 'secondary', onclick: () => ctx.openMine() }, s('openMine')));
  setTimeout(() => heading.focus(), 0);
  return box;
}

function fact(name: string, value: Node | string): HTMLElement[] {
  return [h('dt', {}, name), h('dd', {}, value)];
}
