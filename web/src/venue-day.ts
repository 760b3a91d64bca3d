/**
 * A resource's day in the venue console: its slots with places taken and left per kind; each slot's roster
 * (contact name, masked phone, party, status — no-shows included — and check-in time); revealing a contact's
 * phone (each reveal audited by the API, as the console says); closing a slot (asked first), after which the
 * bookings it cancelled stay listed so that the families can be called.
 */
import { ApiError, getJson, send, type Booking, type Resource, type Slot, type SlotPage } from './api.js';
import { confirmingButton } from './confirm.js';
import { h, replace } from './dom.js';
import { formatDateTime, formatTime, strings } from './i18n.js';
import { problemCode, problemText } from './problems.js';

const s = strings({
  title: { zh: '当天时段', en: 'The day\'s slots' },
  pick: { zh: '选择场馆和日期后，这里列出当天的时段和预约名单。', en: 'Choose a place and a day: its slots and rosters show here.' },
  none: { zh: '这一天没有时段', en: 'No slots that day' },
  loading: { zh: '加载中…', en: 'Loading…' },
  refresh: { zh: '刷新', en: 'Refresh' },
  individual: { zh: '个人', en: 'Individuals' },
  group: { zh: '团体', en: 'Groups' },
  quota: { zh: '{kind}：已约 {taken} / {capacity}，余 {left}', en: '{kind}: {taken} of {capacity} taken, {left} left' },
  stats: { zh: '有效预约 {confirmed} · 已签到 {checked} · 未到场 {noShow} · 已取消 {cancelled}', en: '{confirmed} booked · {checked} checked in · {noShow} missed · {cancelled} cancelled' },
  showRoster: { zh: '查看名单', en: 'Show the roster' },
  hideRoster: { zh: '收起名单', en: 'Hide the roster' },
  rosterOf: { zh: '{slot} 的预约名单', en: 'Roster of {slot}' },
  rosterEmpty: { zh: '还没有预约', en: 'No bookings yet' },
  auditNote: {
    zh: '手机号已打码。点“显示手机号”查看完整号码以便联系；每次查看都会记入审计日志（密钥、时间、预约），请仅在需要时使用。',
    en: 'Phones are masked. "Show the phone" reveals the number to call; every reveal is in the audit log (key, time, booking): use it only when needed.',
  },
  reveal: { zh: '显示手机号', en: 'Show the phone' },
  revealed: { zh: '（已记入审计日志）', en: ' (recorded in the audit log)' },
  notRevealed: { zh: '（该预约未保存完整号码）', en: ' (no full number kept for this booking)' },
  people: { zh: '{n} 人', en: '{n} people' },
  orgCode: { zh: '统一社会信用代码 {code}', en: 'credit code {code}' },
  checkedInAt: { zh: '{at} 签到', en: 'checked in {at}' },
  confirmed: { zh: '待签到', en: 'Expected' },
  checkedIn: { zh: '已签到', en: 'Checked in' },
  cancelled: { zh: '已取消', en: 'Cancelled' },
  cancelled_by_venue: { zh: '场馆已取消', en: 'Cancelled by the venue' },
  no_show: { zh: '未到场', en: 'No-show' },
  close: { zh: '关闭时段', en: 'Close the slot' },
  closeAsk: {
    zh: '关闭 {slot} 后，它的 {n} 个有效预约将被取消（状态为“场馆已取消”），名额不再开放，候补随之结束。确定关闭吗？',
    en: 'Closing {slot} cancels its {n} confirmed bookings ("cancelled by the venue"), offers its places to nobody and ends its waitlist. Close it?',
  },
  yesClose: { zh: '确认关闭', en: 'Yes, close it' },
  keepOpen: { zh: '不关闭', en: 'Keep it open' },
  closing: { zh: '正在关闭…', en: 'Closing…' },
  closedTitle: { zh: '已关闭 {slot}', en: 'Closed {slot}' },
  closedLine: { zh: '取消了 {n} 个预约，结束了 {w} 个候补。请通知以下联系人：', en: '{n} bookings cancelled, {w} waitlist entries ended. Tell these contacts:' },
  closedNone: { zh: '没有需要通知的预约。', en: 'No bookings to tell.' },
  updated: { zh: '时段已更新', en: 'Slots updated' },
});

/** One line of a roster (`GET /v1/slots/{id}/roster`). */
interface RosterLine {
  id: string;
  status: Booking['status'];
  kind: 'individual' | 'group';
  party_size: number;
  contact: { name: string; phone: string };
  org_code: string | null;
  checked_in_at: string | null;
}
interface Roster { slot: Slot; count: number; items: RosterLine[] }
interface Closed { slot: Slot; cancelled: Booking[]; waitlist_ended: number }

/** What the day needs from the console. */
export interface DayContext {
  key(): string | null;
  announce(text: string): void;
}

const when = (x: { start: string; end: string }) => `${formatTime(x.start)}–${formatTime(x.end)}`;

/** The day's slots and rosters, kept between redraws (a language switch redraws from what was read). */
export class DayView {
  private resource: Resource | null = null;
  private day = '';
  private slots: Slot[] | null = null;
  private error: unknown = null;
  private readonly rosters = new Map<number, Roster | ApiError>();
  private readonly open = new Set<number>();
  private readonly closed: Closed[] = [];
  /** Phones revealed, by booking id (kept for redraws; gone with the page). */
  private readonly phones = new Map<string, { phone: string; revealed: boolean }>();

  constructor(private readonly el: HTMLElement, private readonly ctx: DayContext) {}

  /** Reads the slots of `day` (`YYYY-MM-DD`, Beijing) and the rosters already open. */
  async show(resource: Resource, day: string): Promise<void> {
    if (this.resource?.id !== resource.id || this.day !== day) {
      this.open.clear();
      this.rosters.clear();
      this.closed.length = 0;
    }
    this.resource = resource;
    this.day = day;
    this.slots = null;
    this.render();
    const next = new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 10);
    try {
      this.slots = (await getJson<SlotPage>(`/v1/resources/${encodeURIComponent(resource.id)}/slots`, { from: `${day}T00:00+08:00`, to: `${next}T00:00+08:00` })).items;
      this.error = null;
      await Promise.all(this.slots.map((x) => this.loadRoster(x.id)));
    } catch (e) {
      this.error = e;
    }
    this.render();
    this.ctx.announce(s('updated'));
  }

  clear(): void {
    this.resource = null;
    this.slots = null;
    this.render();
  }

  /** After a check-in: the slot's places and roster read again. */
  async refreshSlot(slotId: number): Promise<void> {
    if (!this.resource || !this.slots?.some((x) => x.id === slotId)) return;
    await this.loadRoster(slotId);
    this.render();
  }

  private async loadRoster(slotId: number): Promise<void> {
    try {
      const roster = await send<Roster>('GET', `/v1/slots/${slotId}/roster`, { credential: this.ctx.key() ?? undefined });
      this.rosters.set(slotId, roster);
      this.slots = this.slots?.map((x) => (x.id === slotId ? { ...x, ...roster.slot } : x)) ?? null;
    } catch (e) {
      this.rosters.set(slotId, e instanceof ApiError ? e : new ApiError(0, {}));
    }
  }

  /** Redraws everything from what was read; the focus stays on the control that had it. */
  render(): void {
    const focusedId = document.activeElement?.id;
    const refresh = h('button', { type: 'button', class: 'secondary small-button', id: 'day-refresh', disabled: !this.resource },
      s('refresh'));
    refresh.addEventListener('click', () => {
      if (this.resource) void this.show(this.resource, this.day);
    });
    const body: (HTMLElement | null)[] = [];
    if (!this.resource) body.push(h('p', { class: 'muted' }, s('pick')));
    else if (this.error) body.push(h('p', { class: 'error', role: 'alert' }, problemText(this.error), ' ', h('span', { class: 'code' }, problemCode(this.error))));
    else if (!this.slots) body.push(h('p', { class: 'muted', role: 'status' }, s('loading')));
    else if (!this.slots.length) body.push(h('p', { class: 'muted', id: 'no-slots' }, s('none')));
    body.push(...this.closed.map((c) => this.closedBox(c)));
    if (this.slots?.length) body.push(h('ul', { class: 'slot-items', id: 'slot-list' }, this.slots.map((x) => this.slotItem(x))));
    replace(this.el, h('div', { class: 'panel-head' }, h('h2', { id: 'day-title' }, s('title')), refresh), body);
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  private slotItem(x: Slot): HTMLElement {
    const roster = this.rosters.get(x.id);
    const isOpen = this.open.has(x.id);
    const quotas = (['individual', 'group'] as const).filter((k) => x.capacity[k] > 0).map((k) => h('p', { class: 'quota', 'data-kind': k },
      s('quota', { kind: s(k), taken: x.capacity[k] - x.remaining[k], capacity: x.capacity[k], left: x.remaining[k] })));
    const lines = roster instanceof ApiError || !roster ? [] : roster.items;
    const count = (f: (l: RosterLine) => boolean) => lines.filter(f).length;
    const stats = roster && !(roster instanceof ApiError) ? h('p', { class: 'stats' }, s('stats', {
      confirmed: count((l) => l.status === 'confirmed'), checked: count((l) => l.checked_in_at !== null),
      noShow: count((l) => l.status === 'no_show'), cancelled: count((l) => l.status === 'cancelled' || l.status === 'cancelled_by_venue'),
    })) : null;
    const toggle = h('button', { type: 'button', class: 'secondary', id: `roster-toggle-${x.id}`, 'aria-expanded': String(isOpen), 'aria-controls': `roster-${x.id}` },
      isOpen ? s('hideRoster') : s('showRoster'));
    toggle.addEventListener('click', () => {
      if (this.open.has(x.id)) this.open.delete(x.id);
      else this.open.add(x.id);
      this.render();
    });
    const panel = h('div', { class: 'roster', id: `roster-${x.id}`, hidden: !isOpen, role: 'region', 'aria-label': s('rosterOf', { slot: when(x) }) },
      roster instanceof ApiError ? h('p', { class: 'error', role: 'alert' }, problemText(roster), ' ', h('span', { class: 'code' }, problemCode(roster))) : null,
      roster && !(roster instanceof ApiError) ? [
        h('p', { class: 'muted small audit-note' }, s('auditNote')),
        lines.length ? h('ul', { class: 'roster-list' }, lines.map((l) => this.rosterItem(l))) : h('p', { class: 'muted' }, s('rosterEmpty')),
      ] : null);
    const confirmedCount = count((l) => l.status === 'confirmed');
    return h('li', { class: 'slot-item', 'data-slot': String(x.id) },
      h('h3', {}, when(x)),
      quotas, stats,
      h('div', { class: 'buttons' }, toggle, Date.parse(x.end) > Date.now() ? this.closeControl(x, confirmedCount) : null),
      panel);
  }

  private rosterItem(l: RosterLine): HTMLElement {
    const status = l.status === 'confirmed' && l.checked_in_at ? 'checked_in' : l.status;
    const label = status === 'checked_in' ? s('checkedIn') : s(status as 'confirmed');
    const known = this.phones.get(l.id);
    return h('li', { class: `roster-item status-${status}`, 'data-booking': l.id, 'data-status': status },
      h('p', { class: 'who' }, h('strong', {}, l.contact.name), ' ', h('span', { class: `badge status ${status}` }, label)),
      h('p', { class: 'small' },
        s('people', { n: l.party_size }),
        l.kind === 'group' ? ` · ${s('group')}${l.org_code ? ` · ${s('orgCode', { code: l.org_code })}` : ''}` : '',
        l.checked_in_at ? ` · ${s('checkedInAt', { at: formatTime(l.checked_in_at) })}` : ''),
      this.phoneLine(l.id, l.contact.phone, known));
  }

  /** A masked phone with its reveal button, or the number revealed (a `tel:` link) with the audit note. */
  private phoneLine(bookingId: string, masked: string, known?: { phone: string; revealed: boolean }): HTMLElement {
    if (known) {
      return h('p', { class: 'phone revealed' }, h('a', { href: `tel:${known.phone}` }, known.phone),
        h('span', { class: 'muted small' }, known.revealed ? s('revealed') : s('notRevealed')));
    }
    const button = h('button', { type: 'button', class: 'link reveal', id: `reveal-${bookingId}` }, s('reveal'));
    const line = h('p', { class: 'phone' }, h('span', { class: 'masked' }, masked), ' ', button);
    button.addEventListener('click', async () => {
      try {
        const c = await send<{ phone: string; revealed: boolean }>('GET', `/v1/bookings/${encodeURIComponent(bookingId)}/contact`, { credential: this.ctx.key() ?? undefined });
        this.phones.set(bookingId, { phone: c.phone, revealed: c.revealed });
        const next = this.phoneLine(bookingId, masked, this.phones.get(bookingId));
        line.replaceWith(next);
        next.querySelector('a')?.focus();
      } catch (e) {
        line.append(h('span', { class: 'error', role: 'alert' }, ` ${problemText(e)}`));
      }
    });
    return line;
  }

  /** Closing a slot: asked first, in place; then the cancelled bookings listed, to call. A refusal shows its code, to quote. */
  private closeControl(x: Slot, confirmed: number): HTMLElement[] {
    const message = h('p', { class: 'error', role: 'alert' });
    return [confirmingButton({
      label: s('close'), question: s('closeAsk', { slot: when(x), n: confirmed }), yes: s('yesClose'), no: s('keepOpen'), working: s('closing'),
      ids: { ask: `close-${x.id}`, yes: `close-yes-${x.id}` },
      run: () => send<Closed>('DELETE', `/v1/slots/${x.id}`, { credential: this.ctx.key() ?? undefined }),
      done: (closed) => {
        this.closed.unshift(closed);
        this.slots = this.slots?.filter((y) => y.id !== x.id) ?? null;
        this.render();
        document.getElementById(`closed-${x.id}`)?.focus();
        this.ctx.announce(s('closedTitle', { slot: when(x) }));
      },
      message,
      describe: (e) => `${problemText(e)} ${problemCode(e)}`,
    }), message];
  }

  private closedBox(c: Closed): HTMLElement {
    return h('section', { class: 'closed-box', id: `closed-${c.slot.id}`, tabindex: '-1', 'aria-labelledby': `closed-title-${c.slot.id}`, 'data-slot': String(c.slot.id) },
      h('h3', { id: `closed-title-${c.slot.id}` }, s('closedTitle', { slot: `${formatDateTime(c.slot.start)}–${formatTime(c.slot.end)}` })),
      h('p', {}, c.cancelled.length ? s('closedLine', { n: c.cancelled.length, w: c.waitlist_ended }) : s('closedNone')),
      c.cancelled.length ? h('ul', { class: 'roster-list' }, c.cancelled.map((b) => h('li', { class: 'roster-item', 'data-booking': b.id, 'data-status': b.status },
        h('p', { class: 'who' }, h('strong', {}, b.contact.name), ' ', h('span', { class: 'badge status cancelled_by_venue' }, s('cancelled_by_venue'))),
        h('p', { class: 'small' }, s('people', { n: b.party_size })),
        this.phoneLine(b.id, b.contact.phone, this.phones.get(b.id))))) : null);
  }
}
