/**
 * The venue console at `/venue` (场馆工作台): the staff pastes a venue key (kept in sessionStorage only: it
 * goes when the tab closes), picks a resource of the key (by id, or searched by name) and a day, and runs the
 * day — check-in by code or QR (`venue-checkin.ts`), the slots with their rosters, no-shows, closing a slot
 * and revealing a contact's phone (`venue-day.ts`). Phone-first, Chinese with an English switch.
 */
import './style.css';
import './venue.css';
import { ApiError, getJson, send, type BookingRules, type Resource, type ResourcePage } from './api.js';
import { byId, h, replace } from './dom.js';
import { districtName, formatDay, lang, savedLang, setLang, strings } from './i18n.js';
import { problemCode, problemText } from './problems.js';
import { renderCheckin } from './venue-checkin.js';
import { DayView } from './venue-day.js';

const s = strings({
  title: { zh: '场馆工作台', en: 'Venue console' },
  tagline: { zh: '预约名单 · 签到核销 · 时段管理', en: 'Rosters · check-in · slots' },
  skip: { zh: '跳到签到核销', en: 'Skip to check-in' },
  switchLang: { zh: 'English', en: '中文' },
  switchLangLabel: { zh: 'Switch to English', en: '切换到中文' },
  largeText: { zh: '大字', en: 'Larger text' },
  footer: { zh: 'edumap 场馆工作台 · 每次签到、关闭时段和查看手机号都记入审计日志', en: 'edumap venue console · every check-in, closing and phone reveal is in the audit log' },
  keyTitle: { zh: '场馆密钥', en: 'Venue key' },
  keyLabel: { zh: '粘贴场馆密钥', en: 'Paste the venue key' },
  keyHint: {
    zh: '由管理员创建（形如 edumap_k_…）。密钥只保存在本标签页，关闭标签页即清除；请勿在公用电脑上离开时不退出。',
    en: 'Made by your administrator (edumap_k_…). It is kept in this tab only and goes when the tab closes; sign out before leaving a shared computer.',
  },
  useKey: { zh: '使用此密钥', en: 'Use this key' },
  keyEmpty: { zh: '请先粘贴密钥', en: 'Paste the key first' },
  keyInUse: { zh: '正在使用密钥 {key}（只在本标签页）', en: 'Using key {key} (this tab only)' },
  forget: { zh: '退出并清除密钥', en: 'Sign out and forget the key' },
  placeTitle: { zh: '场馆与日期', en: 'Place and day' },
  resourceId: { zh: '资源编号', en: 'Resource id' },
  resourceHint: { zh: '本密钥所管场馆的编号，如 palace-museum；不知道编号可按名称搜索', en: 'The id of a place this key runs, e.g. palace-museum; or search by name' },
  search: { zh: '按名称搜索', en: 'Search by name' },
  searchButton: { zh: '搜索', en: 'Search' },
  searchNone: { zh: '没有找到名称包含“{q}”的资源', en: 'No place whose name contains "{q}"' },
  searchFound: { zh: '找到 {n} 个，选择一个：', en: '{n} found; choose one:' },
  day: { zh: '日期', en: 'Day' },
  show: { zh: '查看当天', en: 'Show the day' },
  needKey: { zh: '请先在上方输入场馆密钥', en: 'Enter the venue key above first' },
  needResource: { zh: '请填写资源编号，或按名称搜索后选择', en: 'Give a resource id, or search by name and choose one' },
  needDay: { zh: '请选择日期', en: 'Choose a day' },
  current: { zh: '当前：{name}（{id}）· {day}', en: 'Now: {name} ({id}) · {day}' },
  realName: { zh: '实名预约', en: 'real name' },
  noRules: { zh: '未设置预约规则（使用默认规则，不统计爽约）', en: 'no rules of its own (the defaults; no-shows not counted)' },
  rulesLine: { zh: '规则：{parts}', en: 'Rules: {parts}' },
  release: { zh: '提前 {days} 天 {time} 放号', en: 'released {days} days ahead at {time}' },
  cutoff: { zh: '开始前 {hours} 小时截止取消', en: 'cancel until {hours} h before' },
  perContact: { zh: '每个手机号每天 {n} 人', en: '{n} people per phone a day' },
  noShow: { zh: '{days} 天内爽约 {limit} 次暂停 {ban} 天', en: '{limit} no-shows in {days} days: {ban}-day pause' },
  notFound: { zh: '没有编号为“{id}”的资源', en: 'No resource with the id "{id}"' },
});

/** Where the key and the view are kept: this tab only (sessionStorage), never on the device for longer. */
const KEY_ITEM = 'edumap.venue.key';
const VIEW_ITEM = 'edumap.venue.view';

interface View { resourceId: string; day: string }

const session = {
  get(name: string): string | null {
    try {
      return sessionStorage.getItem(name);
    } catch {
      return null;
    }
  },
  set(name: string, value: string | null): void {
    try {
      if (value === null) sessionStorage.removeItem(name);
      else sessionStorage.setItem(name, value);
    } catch {
      // storage off: the key lasts as long as this page
    }
  },
};

let key: string | null = session.get(KEY_ITEM);
let view: View | null = readView();
let place: { resource: Resource; rules: BookingRules } | null = null;
const day = new DayView(byId('day-section'), { key: () => key, announce });

function readView(): View | null {
  try {
    const v = JSON.parse(session.get(VIEW_ITEM) ?? 'null') as View | null;
    return v && typeof v.resourceId === 'string' && /^\d{4}-\d\d-\d\d$/.test(v.day) ? v : null;
  } catch {
    return null;
  }
}

/** Today in Beijing, `YYYY-MM-DD`. */
function today(): string {
  return new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
}

function announce(text: string): void {
  const live = byId('live');
  live.textContent = live.textContent === text ? `${text} ` : text;
}

// ---------------------------------------------------------------------------------------------------------

function renderChrome(): void {
  byId('title').textContent = s('title');
  byId('tagline').textContent = s('tagline');
  byId('skip').textContent = s('skip');
  byId('footer').textContent = s('footer');
  document.title = `${s('title')} · edumap`;
  const langButton = byId('lang');
  langButton.textContent = s('switchLang');
  langButton.setAttribute('aria-label', s('switchLangLabel'));
  byId('large-text').textContent = s('largeText');
}

function renderKey(): void {
  const section = byId('key-section');
  const heading = h('h2', { id: 'key-title' }, s('keyTitle'));
  if (key) {
    const shown = `${key.slice(0, 14)}…`;
    replace(section, heading,
      h('p', { class: 'key-in-use', id: 'key-in-use' }, s('keyInUse', { key: shown })),
      h('button', { type: 'button', class: 'secondary', id: 'forget-key', onclick: () => {
        key = null;
        session.set(KEY_ITEM, null);
        place = null;
        renderAll();
        byId('venue-key').focus();
        announce(s('forget'));
      } }, s('forget')));
    return;
  }
  const input = h('input', { id: 'venue-key', name: 'venue-key', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'venue-key-hint venue-key-error' });
  const error = h('p', { class: 'field-error', id: 'venue-key-error' });
  const form = h('form', { class: 'key-form', novalidate: true },
    h('div', { class: 'field-row' }, h('label', { for: 'venue-key' }, s('keyLabel')), input,
      h('p', { class: 'hint', id: 'venue-key-hint' }, s('keyHint')), error),
    h('button', { type: 'submit', class: 'primary' }, s('useKey')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) {
      error.textContent = s('keyEmpty');
      input.setAttribute('aria-invalid', 'true');
      return input.focus();
    }
    key = value;
    session.set(KEY_ITEM, key);
    renderKey();
    if (view) void load(view);
    else byId('resource-id').focus();
  });
  replace(section, heading, form);
}

function renderPlace(): void {
  const section = byId('place-section');
  const id = h('input', { id: 'resource-id', name: 'resource-id', type: 'text', autocomplete: 'off', spellcheck: 'false', value: view?.resourceId ?? '', 'aria-describedby': 'resource-id-hint' });
  const q = h('input', { id: 'resource-q', name: 'resource-q', type: 'search', autocomplete: 'off', maxlength: '100' });
  const searchButton = h('button', { type: 'button', class: 'secondary', id: 'resource-search' }, s('searchButton'));
  const results = h('div', { id: 'resource-results', class: 'picks', role: 'status' });
  const dayInput = h('input', { id: 'day', name: 'day', type: 'date', value: view?.day ?? today() });
  const message = h('p', { class: 'error', id: 'place-message', role: 'alert' });
  const summary = h('p', { class: 'place-summary', id: 'place-summary' });
  const form = h('form', { class: 'place-form', novalidate: true },
    h('div', { class: 'field-row' }, h('label', { for: 'resource-id' }, s('resourceId')), id, h('p', { class: 'hint', id: 'resource-id-hint' }, s('resourceHint'))),
    h('div', { class: 'field-row' }, h('label', { for: 'resource-q' }, s('search')), h('div', { class: 'inline' }, q, searchButton)),
    results,
    h('div', { class: 'field-row' }, h('label', { for: 'day' }, s('day')), dayInput),
    message,
    h('button', { type: 'submit', class: 'primary' }, s('show')));

  const search = async () => {
    const text = q.value.trim();
    if (!text) return;
    try {
      const page = await getJson<ResourcePage>('/v1/resources', { q: text, limit: 10 });
      if (!page.items.length) return replace(results, h('p', { class: 'muted' }, s('searchNone', { q: text })));
      replace(results, h('p', { class: 'muted small' }, s('searchFound', { n: page.items.length })),
        h('ul', { class: 'pick-list' }, page.items.map((r) => h('li', {},
          h('button', { type: 'button', class: 'pick', 'data-id': r.id, onclick: () => {
            id.value = r.id;
            replace(results);
            dayInput.focus();
          } }, `${(lang() === 'en' && r.name_en) || r.name} · ${districtName(r.district.code, r.district.name)} · ${r.id}`)))));
    } catch (e) {
      replace(results, h('p', { class: 'error' }, problemText(e)));
    }
  };
  searchButton.addEventListener('click', () => void search());
  q.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void search();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    message.textContent = '';
    if (!key) {
      message.textContent = s('needKey');
      return document.getElementById('venue-key')?.focus();
    }
    if (!id.value.trim()) {
      message.textContent = s('needResource');
      return id.focus();
    }
    if (!/^\d{4}-\d\d-\d\d$/.test(dayInput.value)) {
      message.textContent = s('needDay');
      return dayInput.focus();
    }
    void load({ resourceId: id.value.trim(), day: dayInput.value });
  });
  replace(section, h('h2', { id: 'place-title' }, s('placeTitle')), form, summary);
  if (place && view) showSummary();
}

/**
 * Loads a resource and a day: the resource (public), its rules with the key — which also proves that the
 * key runs it (a 403 otherwise) — then the day's slots.
 */
async function load(next: View): Promise<void> {
  const message = byId('place-message');
  message.textContent = '';
  view = next;
  session.set(VIEW_ITEM, JSON.stringify(view));
  try {
    const path = `/v1/resources/${encodeURIComponent(next.resourceId)}`;
    const [resource, rules] = await Promise.all([
      getJson<Resource>(path),
      send<BookingRules>('GET', `${path}/booking-rules`, { credential: key ?? undefined }),
    ]);
    place = { resource, rules };
  } catch (e) {
    place = null;
    day.clear();
    replace(byId('place-summary'));
    message.replaceChildren(
      h('span', { class: 'line' }, e instanceof ApiError && e.code === 'not_found' ? s('notFound', { id: next.resourceId }) : problemText(e)),
      h('span', { class: 'line code' }, problemCode(e)));
    return;
  }
  showSummary();
  await day.show(place.resource, next.day);
}

function showSummary(): void {
  if (!place || !view) return;
  const r = place.resource;
  const rules = place.rules;
  const parts = rules.stored ? [
    s('release', { days: rules.window_days, time: rules.release_time }), s('cutoff', { hours: rules.cancel_cutoff_hours }),
    rules.real_name ? s('realName') : null, rules.per_contact_daily !== null ? s('perContact', { n: rules.per_contact_daily }) : null,
    rules.no_show ? s('noShow', { days: rules.no_show.within_days, limit: rules.no_show.limit, ban: rules.no_show.ban_days }) : null,
  ].filter((x): x is string => x !== null).join(lang() === 'zh' ? '；' : '; ') : s('noRules');
  const offset = Math.round((Date.parse(`${view.day}T00:00:00+08:00`) - Date.parse(`${today()}T00:00:00+08:00`)) / 86_400_000);
  replace(byId('place-summary'),
    h('strong', {}, s('current', { name: (lang() === 'en' && r.name_en) || r.name, id: r.id, day: formatDay(view.day, offset) })),
    h('span', { class: 'line muted small' }, rules.stored ? s('rulesLine', { parts }) : parts));
}

function renderAll(): void {
  renderChrome();
  renderKey();
  renderPlace();
  renderCheckin(byId('checkin'), { key: () => key, announce, checkedIn: (b) => void day.refreshSlot(b.slot.id) });
  day.render();
}

function setLargeText(on: boolean): void {
  document.documentElement.classList.toggle('large-text', on);
  byId('large-text').setAttribute('aria-pressed', String(on));
  try {
    localStorage.setItem('edumap.largeText', on ? '1' : '0');
  } catch {
    // the choice then lasts for this page only
  }
}

function start(): void {
  setLang(savedLang());
  let large = false;
  try {
    large = localStorage.getItem('edumap.largeText') === '1';
  } catch {
    // storage off
  }
  setLargeText(large);
  byId('lang').addEventListener('click', () => {
    setLang(lang() === 'zh' ? 'en' : 'zh');
    renderAll();
  });
  byId('large-text').addEventListener('click', () => setLargeText(!document.documentElement.classList.contains('large-text')));
  renderAll();
  document.body.dataset.ready = 'true';
  if (key && view) void load(view);
}

start();
