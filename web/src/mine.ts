/**
 * "My bookings" (我的预约): the bookings and waitlist entries made on this device (`device.ts`), each read
 * again from the API with its token when the panel opens — status, slot, place, the check-in code with its
 * QR code, the calendar file, cancelling (confirmed first, the API's answer shown, e.g. after the cut-off);
 * a waitlist entry with its position, and once promoted, the booking it became (moved into the bookings).
 */
import { ApiError, getJson, send, type Booking, type Resource, type WaitlistEntry } from './api.js';
import { confirmingButton } from './confirm.js';
import * as device from './device.js';
import { h, replace } from './dom.js';
import { qrImage, saveIcs } from './files.js';
import { formatDateTime, formatTime, lang, strings, t } from './i18n.js';
import { problemText } from './problems.js';

const s = strings({
  title: { zh: '我的预约', en: 'My bookings' },
  kept: {
    zh: '本设备只保存每个预约（和候补）的编号及凭证，用来查看和取消；不保存姓名、手机号或身份证号。清除浏览器的网站数据后，这里将不再显示。',
    en: 'This device keeps only each booking\'s (and waitlist entry\'s) number and token, to show and cancel it; no name, phone or ID number. Clearing the site\'s data in the browser removes them from here.',
  },
  none: { zh: '本设备上还没有预约。在资源详情中预约后会显示在这里。', en: 'No bookings on this device yet. Book from a place\'s details and it shows here.' },
  bookings: { zh: '预约', en: 'Bookings' },
  waitlist: { zh: '候补', en: 'Waitlist' },
  confirmed: { zh: '已确认', en: 'Confirmed' },
  checkedIn: { zh: '已签到', en: 'Checked in' },
  cancelled: { zh: '已取消', en: 'Cancelled' },
  cancelled_by_venue: { zh: '场馆已取消', en: 'Cancelled by the venue' },
  no_show: { zh: '未到场', en: 'Missed' },
  ended: { zh: '已结束', en: 'Over' },
  waiting: { zh: '候补中', en: 'Waiting' },
  promoted: { zh: '候补成功，已转为预约', en: 'Promoted: now a booking' },
  expired: { zh: '候补未成功', en: 'Not promoted' },
  left: { zh: '已退出候补', en: 'Left the waitlist' },
  group: { zh: '团体', en: 'group' },
  contact: { zh: '联系人', en: 'Contact' },
  code: { zh: '签到码', en: 'Check-in code' },
  codeHint: { zh: '入馆时出示二维码，或报出签到码', en: 'Show the QR code at the gate, or say the code' },
  qrAlt: { zh: '签到二维码，签到码 {code}', en: 'Check-in QR code, code {code}' },
  ics: { zh: '下载日历文件（.ics）', en: 'Download the calendar file (.ics)' },
  cancel: { zh: '取消预约', en: 'Cancel the booking' },
  confirmCancel: { zh: '确定取消 {when} 的预约吗？取消后名额会让给其他人。', en: 'Cancel the booking of {when}? Its places go to others.' },
  yesCancel: { zh: '确认取消', en: 'Yes, cancel it' },
  keep: { zh: '不取消', en: 'Keep it' },
  cancelling: { zh: '正在取消…', en: 'Cancelling…' },
  cancelledNow: { zh: '已取消，名额已释放。', en: 'Cancelled; the places are free again.' },
  cutoffPassed: { zh: '已过取消截止时间（{at}），不能在线取消。', en: 'The cancellation cut-off ({at}) has passed: it cannot be cancelled online.' },
  cancelBefore: { zh: '可在 {at} 前取消', en: 'Can be cancelled until {at}' },
  position: { zh: '候补第 {n} 位', en: 'Position {n} on the waitlist' },
  expiresAt: { zh: '{at} 前未递补则自动失效', en: 'Lapses at {at} unless promoted' },
  leave: { zh: '退出候补', en: 'Leave the waitlist' },
  confirmLeave: { zh: '确定退出 {when} 的候补吗？', en: 'Leave the waitlist of {when}?' },
  yesLeave: { zh: '确认退出', en: 'Yes, leave' },
  stay: { zh: '继续候补', en: 'Stay' },
  reason_cutoff: { zh: '已到截止时间，未能递补', en: 'The cut-off came before a place did' },
  reason_slot_closed: { zh: '场馆关闭了该时段', en: 'The venue closed the slot' },
  reason_other: { zh: '未能递补（{reason}）', en: 'Not promoted ({reason})' },
  remove: { zh: '从本设备移除', en: 'Remove from this device' },
  gone: { zh: '服务器上已找不到此记录。', en: 'The service no longer knows this one.' },
  unreachable: { zh: '暂时无法读取，请稍后再打开。', en: 'Could not be read now; open this again later.' },
  refreshed: { zh: '我的预约已更新：{n} 项', en: 'My bookings updated: {n}' },
});

/** What the panel needs from the page. */
export interface MineContext {
  back(): void;
  announce(text: string): void;
}

/** Names of resources already read (a waitlist entry names only the resource's id). */
const names = new Map<string, string>();

/** Draws the panel into `el`, then reads every held item again from the API. */
export async function renderMine(el: HTMLElement, ctx: MineContext): Promise<void> {
  const heading = h('h2', { id: 'mine-title', tabindex: '-1' }, s('title'));
  const bookings = h('ul', { class: 'mine-list', id: 'mine-bookings', 'aria-labelledby': 'mine-bookings-title' });
  const waiting = h('ul', { class: 'mine-list', id: 'mine-waitlist', 'aria-labelledby': 'mine-waitlist-title' });
  const status = h('p', { class: 'muted', role: 'status', id: 'mine-status' }, t('loading'));
  replace(el, h('article', { class: 'card mine', 'aria-labelledby': 'mine-title' },
    h('button', { type: 'button', class: 'back', onclick: () => ctx.back() }, `← ${t('back')}`),
    heading,
    h('p', { class: 'muted small kept' }, s('kept')),
    status,
    h('section', { class: 'mine-section', 'aria-labelledby': 'mine-bookings-title' }, h('h3', { id: 'mine-bookings-title' }, s('bookings')), bookings),
    h('section', { class: 'mine-section', 'aria-labelledby': 'mine-waitlist-title' }, h('h3', { id: 'mine-waitlist-title' }, s('waitlist')), waiting)));
  heading.focus();

  const items = device.held();
  // Entries first: a promoted one becomes a booking, listed with the others.
  const read = await Promise.all(items.map(async (item) => ({ item, answer: await readItem(item) })));
  for (const { item, answer } of read) {
    if (item.kind === 'waitlist' && !(answer instanceof ApiError) && 'expires_at' in answer && answer.status === 'promoted' && answer.booking?.token) {
      device.promote(item.id, { id: answer.booking.id, token: answer.booking.token });
      bookings.append(bookingItem({ kind: 'booking', id: answer.booking.id, token: answer.booking.token, savedAt: item.savedAt }, answer.booking, true));
    } else if (item.kind === 'booking') bookings.append(bookingItem(item, answer as Booking | ApiError, false));
    else waiting.append(await entryItem(item, answer as WaitlistEntry | ApiError));
  }
  for (const [list, section] of [[bookings, bookings.parentElement!], [waiting, waiting.parentElement!]] as const) section.hidden = !list.children.length;
  status.textContent = items.length ? '' : s('none');
  ctx.announce(s('refreshed', { n: items.length }));
}

async function readItem(item: device.Held): Promise<Booking | WaitlistEntry | ApiError> {
  const path = item.kind === 'booking' ? `/v1/bookings/${encodeURIComponent(item.id)}` : `/v1/waitlist/${encodeURIComponent(item.id)}`;
  try {
    return await send<Booking | WaitlistEntry>('GET', path, { credential: item.token });
  } catch (e) {
    return e instanceof ApiError ? e : new ApiError(0, {});
  }
}

function when(slot: { start: string; end: string }): string {
  return `${formatDateTime(slot.start)}–${formatTime(slot.end)}`;
}

/** An item the API could not answer: gone (404, offered for removal) or unreachable for now. */
function unreadable(item: device.Held, err: ApiError): HTMLElement {
  const li = h('li', { class: 'mine-item', 'data-kind': item.kind, 'data-id': item.id, 'data-status': 'unknown' },
    h('p', { class: 'muted' }, err.status === 404 ? s('gone') : s('unreachable')),
    h('p', { class: 'booking-id' }, item.id));
  if (err.status === 404) li.append(removeButton(item.id, li));
  return li;
}

function removeButton(id: string, li: HTMLElement): HTMLButtonElement {
  return h('button', { type: 'button', class: 'link remove', onclick: () => {
    device.forget(id);
    const list = li.parentElement;
    const next = (li.nextElementSibling ?? li.previousElementSibling)?.querySelector<HTMLElement>('button');
    li.remove();
    (next ?? list?.closest('.card')?.querySelector<HTMLElement>('#mine-title'))?.focus();
  } }, s('remove'));
}

function bookingStatus(b: Booking): string {
  if (b.status === 'confirmed' && b.checked_in_at) return 'checked_in';
  if (b.status === 'confirmed' && Date.parse(b.slot.end) <= Date.now()) return 'ended';
  return b.status;
}

const STATUS_TEXT: Record<string, Parameters<typeof s>[0]> = {
  confirmed: 'confirmed', checked_in: 'checkedIn', cancelled: 'cancelled', cancelled_by_venue: 'cancelled_by_venue', no_show: 'no_show', ended: 'ended',
};

/** One booking: what, when, its status, the code and QR code while it can be used, the calendar file, cancelling. */
function bookingItem(item: device.Held, b: Booking | ApiError, promoted: boolean): HTMLElement {
  if (b instanceof ApiError) return unreadable(item, b);
  const status = bookingStatus(b);
  const usable = status === 'confirmed';
  const title = b.resource.name ?? b.resource.id;
  const message = h('p', { class: 'mine-result', role: 'status' });
  const li = h('li', { class: `mine-item status-${status}`, 'data-kind': 'booking', 'data-id': b.id, 'data-status': status },
    h('h4', {}, title),
    h('p', { class: `badge status ${status}` }, s(STATUS_TEXT[status] ?? 'confirmed')),
    promoted ? h('p', { class: 'small promoted' }, s('promoted')) : null,
    h('dl', { class: 'facts' },
      fact(t('time'), when(b.slot)),
      fact(t('partySize'), `${b.party_size} ${t('people')}${b.kind === 'group' ? `（${s('group')}）` : ''}`),
      fact(s('contact'), `${b.contact.name} ${b.contact.phone}`),
      fact(t('bookingNo'), h('span', { class: 'booking-id' }, b.id))));
  if (usable) {
    const qr = h('div', { class: 'qr-box' });
    void qrImage(b.id, item.token, s('qrAlt', { code: b.checkin_code })).then((img) => qr.append(img), () => undefined);
    li.append(h('div', { class: 'code-box' },
      h('p', { class: 'code-label' }, s('code')),
      h('p', { class: 'checkin-code', lang: 'en' }, b.checkin_code),
      qr,
      h('p', { class: 'muted small' }, s('codeHint'))));
  }
  const actions = h('div', { class: 'buttons mine-actions' });
  if (status !== 'cancelled' && status !== 'cancelled_by_venue') {
    const ics = h('button', { type: 'button', class: 'secondary ics' }, s('ics'));
    ics.addEventListener('click', () => {
      saveIcs(b.id, item.token).catch((e: unknown) => {
        message.textContent = problemText(e);
      });
    });
    actions.append(ics);
  }
  if (usable && b.cancellable) {
    actions.append(confirmingButton({
      label: s('cancel'), question: s('confirmCancel', { when: when(b.slot) }), yes: s('yesCancel'), no: s('keep'), working: s('cancelling'),
      run: () => send<Booking>('DELETE', `/v1/bookings/${encodeURIComponent(b.id)}`, { credential: item.token }),
      done: (after) => li.replaceWith(withMessage(bookingItem(item, after, false), s('cancelledNow'))),
      message,
    }));
  } else if (usable) {
    li.append(h('p', { class: 'muted small' }, s('cutoffPassed', { at: formatDateTime(b.cancel_before) })));
  }
  if (usable && b.cancellable) li.append(h('p', { class: 'muted small' }, s('cancelBefore', { at: formatDateTime(b.cancel_before) })));
  if (!usable) actions.append(removeButton(item.id, li));
  li.append(actions, message);
  return li;
}

/** One waitlist entry: its position while waiting, why it ended otherwise; leaving. */
async function entryItem(item: device.Held, e: WaitlistEntry | ApiError): Promise<HTMLElement> {
  if (e instanceof ApiError) return unreadable(item, e);
  const title = await resourceName(e.slot.resource_id);
  const message = h('p', { class: 'mine-result', role: 'status' });
  const reason = e.reason === 'cutoff' ? s('reason_cutoff') : e.reason === 'slot_closed' ? s('reason_slot_closed')
    : e.reason ? s('reason_other', { reason: e.reason }) : null;
  const li = h('li', { class: `mine-item status-${e.status}`, 'data-kind': 'waitlist', 'data-id': e.id, 'data-status': e.status },
    h('h4', {}, title),
    h('p', { class: `badge status ${e.status}` }, s(e.status === 'promoted' ? 'promoted' : e.status)),
    e.status === 'waiting' ? h('p', { class: 'position' }, s('position', { n: e.position ?? '—' })) : null,
    h('dl', { class: 'facts' },
      fact(t('time'), when(e.slot)),
      fact(t('partySize'), `${e.party_size} ${t('people')}`)),
    e.status === 'waiting' ? h('p', { class: 'muted small' }, s('expiresAt', { at: formatDateTime(e.expires_at) })) : null,
    e.status === 'expired' && reason ? h('p', { class: 'small' }, reason) : null);
  const actions = h('div', { class: 'buttons mine-actions' });
  if (e.status === 'waiting') {
    actions.append(confirmingButton({
      label: s('leave'), question: s('confirmLeave', { when: when(e.slot) }), yes: s('yesLeave'), no: s('stay'), working: s('cancelling'),
      run: () => send<WaitlistEntry>('DELETE', `/v1/waitlist/${encodeURIComponent(e.id)}`, { credential: item.token }),
      done: async (after) => li.replaceWith(await entryItem(item, after)),
      message,
    }));
  } else {
    actions.append(removeButton(item.id, li));
  }
  li.append(actions, message);
  return li;
}

async function resourceName(id: string): Promise<string> {
  if (!names.has(id)) {
    try {
      const r = await getJson<Resource>(`/v1/resources/${encodeURIComponent(id)}`);
      names.set(id, (lang() === 'en' && r.name_en) || r.name);
    } catch {
      return id;
    }
  }
  return names.get(id)!;
}

function withMessage(li: HTMLElement, text: string): HTMLElement {
  const message = li.querySelector<HTMLElement>('.mine-result');
  if (message) message.textContent = text;
  setTimeout(() => li.querySelector<HTMLElement>('button')?.focus(), 0);
  return li;
}

function fact(name: string, value: Node | string): HTMLElement[] {
  return [h('dt', {}, name), h('dd', {}, value)];
}
