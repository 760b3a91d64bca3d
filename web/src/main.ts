import 'leaflet/dist/leaflet.css';
import './style.css';
import { ApiError, getJson, postJson, type AreaCollection, type ClusterPage, type LngLat, type Params, type Resource, type ResourcePage, type Taxonomy } from './api.js';
import { haversineM, renderCard, shanghaiIso } from './card.js';
import * as device from './device.js';
import { pageConfig } from './config.js';
import { featuresOf, type Features } from './contract.js';
import { fromWgs84 } from './crs.js';
import { byId, h, replace } from './dom.js';
import { districtName, formatDay, labelled, lang, savedLang, setLang, t, type Lang } from './i18n.js';
import { displayName, resultItem } from './list.js';
import { MapView } from './mapview.js';
import { renderMatch, type MatchAnswer, type MatchRequest } from './match.js';
import { renderMine } from './mine.js';
import { DOMAIN_COLOURS, DOMAINS, domainName, Terms, type Domain } from './taxonomy.js';
import { bind, refreshBound } from './texts.js';

/** Everything the user has chosen; the map, the list and the card are drawn from it. */
interface State {
  domains: Set<Domain>;
  stage: string;
  free: boolean;
  openNow: boolean;
  /** `YYYY-MM-DD`: only resources with a free seat that day. */
  date: string;
  q: string;
  /** A district's adcode: only resources inside it. */
  area: string;
  /** In the map's system (`crs`). */
  origin: LngLat | null;
  /** The list alone, for the whole city, without the map. */
  listOnly: boolean;
}

const LIST_LIMIT = 20;

/** The base map the server chose; every coordinate the page draws, keeps or sends is in `crs`. */
const config = pageConfig();
const crs = config.baseMap.crs;

/** The whole city as a `bbox` (wide enough in either system), for the counts of the list-only view. */
const CITY_BBOX = '115.3,39.35,117.6,41.15';
/** Tian'anmen: the list-only view sorts by distance from it until a starting point is set. */
const CITY_CENTRE = fromWgs84([116.3975, 39.9087], crs);

const state: State = { domains: new Set(), stage: '', free: false, openNow: false, date: '', q: '', area: '', origin: null, listOnly: false };
let terms: Terms;
let districts: AreaCollection;
let features: Features;
let map: MapView;
let listItems: Resource[] = [];
let nextCursor: string | null = null;
let viewTotal: number | null = null;
/** What the side pane shows: a resource's card, or my bookings; null while it is closed. */
type Pane = { kind: 'resource'; resource: Resource } | { kind: 'mine' };
let pane: Pane | null = null;
/** What had the focus when the pane opened: it gets it back when the pane closes. */
let paneOpener: HTMLElement | null = null;
let lastMatch: MatchAnswer | null = null;
let generation = 0;

async function main(): Promise<void> {
  setLang(savedLang());
  setLargeText(savedLargeText());
  const [tax, contract, areas] = await Promise.all([
    getJson<Taxonomy>('/v1/taxonomy'),
    fetch('/openapi.yaml').then((r) => r.text()),
    // Every district's outline in one answer, in the base map's system.
    getJson<AreaCollection>('/v1/areas', { format: 'geojson', kind: 'district', crs }),
  ]);
  terms = new Terms(tax);
  features = featuresOf(contract);
  districts = areas;
  buildChrome();
  map = new MapView(byId('map'), {
    view: () => void refresh(),
    origin: (at) => setOrigin(at),
    resource: (id) => void showResource(id),
  }, config.baseMap);
  map.setDistricts(areas);
  document.body.dataset.districts = String(areas.features.length);
  document.body.dataset.crs = crs;
  await refresh();
}

// ---------------------------------------------------------------------------------------------------------
// Controls

function buildChrome(): void {
  bind(byId('title'), 'title');
  bind(byId('tagline'), 'tagline');
  bind(byId('skip'), 'skip');
  bind(byId('footer'), 'footer');
  const langButton = byId<HTMLButtonElement>('lang');
  bind(langButton, 'switchLang');
  bind(langButton, 'switchLangLabel', 'aria-label');
  langButton.addEventListener('click', () => switchLang(lang() === 'zh' ? 'en' : 'zh'));
  const large = bind(byId<HTMLButtonElement>('large-text'), 'largeText');
  large.addEventListener('click', () => {
    setLargeText(!document.documentElement.classList.contains('large-text'));
    map.resize();
  });
  const listOnly = bind(byId<HTMLButtonElement>('list-only'), 'listOnly');
  listOnly.addEventListener('click', () => setListOnly(!state.listOnly));
  bind(byId('map'), 'mapLabel', 'aria-label');
  bind(byId('map-keys'), 'mapKeys');
  bind(byId('results'), 'resultsLabel', 'aria-label');
  bind(byId('controls'), 'controlsLabel', 'aria-label');
  const mine = byId<HTMLButtonElement>('mine');
  mine.hidden = !features.booking;
  mine.addEventListener('click', () => void showMine());
  renderMineButton();
  device.onChange(renderMineButton);

  const chips = DOMAINS.map((d) => {
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    dot.style.background = DOMAIN_COLOURS[d];
    const label = h('span', {}, domainName(d));
    const chip = h('button', { type: 'button', class: `chip chip-${d}`, 'data-domain': d, 'aria-pressed': 'false' }, dot, label);
    chip.addEventListener('click', () => {
      if (state.domains.has(d)) state.domains.delete(d);
      else state.domains.add(d);
      chip.setAttribute('aria-pressed', String(state.domains.has(d)));
      void refresh();
    });
    chipLabels.push([label, d]);
    return chip;
  });

  const stage = h('select', { id: 'f-stage' });
  const stageOptions = () => replace(stage,
    h('option', { value: '' }, t('allStages')),
    terms.roots('stage').map((s) => h('option', { value: s.id, selected: s.id === state.stage }, s.label[lang()])));
  stageOptions();
  relabelers.push(stageOptions);
  stage.addEventListener('change', () => {
    state.stage = stage.value;
    void refresh();
  });

  const check = (id: string, key: 'free' | 'openNow') => {
    const box = h('input', { type: 'checkbox', id });
    box.addEventListener('change', () => {
      state[key] = box.checked;
      void refresh();
    });
    return h('label', { class: 'check', for: id }, box, bind(h('span', {}), key));
  };

  const date = h('select', { id: 'f-date', disabled: !features.availabilitySearch });
  const dateOptions = () => {
    const today = Date.parse(`${shanghaiIso(new Date()).slice(0, 10)}T00:00:00+08:00`);
    const days = Array.from({ length: 14 }, (_, k) => shanghaiIso(new Date(today + k * 86_400_000)).slice(0, 10));
    replace(date, h('option', { value: '' }, t('anyDay')),
      days.map((d, k) => h('option', { value: d, selected: d === state.date }, formatDay(d, k))));
  };
  dateOptions();
  relabelers.push(dateOptions);
  date.addEventListener('change', () => {
    state.date = date.value;
    void refresh();
  });

  const area = h('select', { id: 'f-area' });
  const areaOptions = () => replace(area,
    h('option', { value: '' }, t('allDistricts')),
    districts.features.map((f) => h('option', { value: f.id, selected: f.id === state.area }, districtName(f.id, f.properties.name))));
  areaOptions();
  relabelers.push(areaOptions);
  area.addEventListener('change', () => {
    state.area = area.value;
    const bounds = state.area ? map.districtBounds(state.area) : null;
    // Show the district chosen (the move refreshes); the whole city again refreshes in place.
    if (bounds && !state.listOnly) map.fit(bounds);
    else void refresh();
  });

  const search = h('input', { type: 'search', id: 'f-q', maxlength: '100', autocomplete: 'off' });
  bind(search, 'searchPlaceholder', 'placeholder');
  let typing = 0;
  search.addEventListener('input', () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => {
      state.q = search.value.trim();
      void refresh();
    }, 250);
  });

  const originText = h('p', { class: 'origin-text', id: 'origin-text', role: 'status' });
  const locate = bind(h('button', { type: 'button', class: 'secondary', id: 'locate' }), 'useLocation');
  locate.addEventListener('click', () => locateMe(originText));
  const centre = bind(h('button', { type: 'button', class: 'secondary', id: 'use-centre' }), 'useCentre');
  centre.addEventListener('click', () => setOrigin(map.centre()));
  const clearOrigin = bind(h('button', { type: 'button', class: 'link', id: 'clear-origin', hidden: true }), 'clear');
  clearOrigin.addEventListener('click', () => setOrigin(null));
  const match = bind(h('button', { type: 'button', class: 'primary', id: 'match' }), 'match');
  bind(match, 'matchHint', 'title');
  match.addEventListener('click', () => void runMatch());

  replace(byId('controls'),
    h('div', { class: 'group' },
      bind(h('h2', { class: 'group-title', id: 'scenarios-title' }), 'scenarios'),
      h('div', { class: 'chips', role: 'group', 'aria-labelledby': 'scenarios-title' }, chips)),
    h('div', { class: 'group filters', role: 'group', 'aria-labelledby': 'filters-title' },
      bind(h('h2', { class: 'group-title visually-hidden', id: 'filters-title' }), 'filters'),
      h('label', { class: 'field', for: 'f-stage' }, bind(h('span', {}), 'stage'), stage),
      h('label', { class: 'field', for: 'f-area' }, bind(h('span', {}), 'area'), area),
      h('label', { class: 'field', for: 'f-date' },
        bind(h('span', {}), 'seatsOn'), date,
        features.availabilitySearch ? null : bind(h('span', { class: 'muted small' }), 'seatsUnavailable')),
      h('label', { class: 'field', for: 'f-q' }, bind(h('span', {}), 'search'), search),
      h('div', { class: 'checks' }, check('f-free', 'free'), check('f-open', 'openNow'))),
    h('div', { class: 'group origin' },
      h('div', { class: 'origin-row' }, bind(h('span', { class: 'origin-label' }), 'origin'), originText, clearOrigin),
      h('div', { class: 'buttons' }, locate, centre, match)));
  renderOriginText();
  renderLegend();
}

/** Larger text (适老化): the whole page scales, since every size is in rem. Remembered like the language. */
function setLargeText(on: boolean): void {
  document.documentElement.classList.toggle('large-text', on);
  document.getElementById('large-text')?.setAttribute('aria-pressed', String(on));
  try {
    localStorage.setItem('edumap.largeText', on ? '1' : '0');
  } catch {
    // storage may be off; the choice then lasts for this page only
  }
}

function savedLargeText(): boolean {
  try {
    return localStorage.getItem('edumap.largeText') === '1';
  } catch {
    return false;
  }
}

/** The list alone (for the whole city, or the district chosen), or the list beside the map. */
function setListOnly(on: boolean): void {
  state.listOnly = on;
  document.body.classList.toggle('list-only', on);
  byId('list-only').setAttribute('aria-pressed', String(on));
  if (!on) map.resize();
  void refresh();
}

const chipLabels: [HTMLElement, Domain][] = [];
const relabelers: (() => void)[] = [];

function renderLegend(): void {
  replace(byId('legend'),
    h('p', { class: 'legend-title' }, t('legend')),
    h('ul', {}, [...DOMAINS, 'none' as const].map((d) => {
      const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
      dot.style.background = DOMAIN_COLOURS[d];
      return h('li', { 'data-domain': d }, dot, domainName(d));
    })));
}

function switchLang(next: Lang): void {
  setLang(next);
  refreshBound();
  for (const [el, d] of chipLabels) el.textContent = domainName(d);
  for (const f of relabelers) f();
  renderOriginText();
  renderLegend();
  map.relabel();
  void refresh();
  if (lastMatch) showMatch(lastMatch);
  renderMineButton();
  if (pane?.kind === 'resource') void showResource(pane.resource.id, pane.resource.distance_m);
  if (pane?.kind === 'mine') void showMine();
}

// ---------------------------------------------------------------------------------------------------------
// Starting point

function setOrigin(at: LngLat | null): void {
  state.origin = at;
  map.setOrigin(at);
  renderOriginText();
  void refresh();
}

function renderOriginText(): void {
  const text = document.getElementById('origin-text');
  const clear = document.getElementById('clear-origin');
  if (!text || !clear) return;
  text.textContent = state.origin ? `${t('originSet')} (${state.origin[0].toFixed(4)}, ${state.origin[1].toFixed(4)})` : t('originHint');
  clear.hidden = !state.origin;
}

function locateMe(status: HTMLElement): void {
  if (!('geolocation' in navigator)) {
    status.textContent = t('locationDenied');
    return;
  }
  status.textContent = t('locating');
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      // The browser answers in WGS-84; the map, the list and the API calls are in the base map's system.
      const at = fromWgs84([Math.round(pos.coords.longitude * 1e6) / 1e6, Math.round(pos.coords.latitude * 1e6) / 1e6], crs);
      setOrigin(at);
      map.focus(at, 13);
    },
    () => {
      status.textContent = t('locationDenied');
    },
    { enableHighAccuracy: false, timeout: 10_000, maximumAge: 60_000 },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Map and list, always from the same filters

/** The filters as API parameters, shared by `/v1/clusters`, `/v1/resources` and matching. */
function filterParams(forClusters: boolean): Params {
  const p: Params = {
    tag: state.domains.size ? [[...state.domains].join('|')] : undefined,
    stage: state.stage || undefined,
    free: state.free ? 'true' : undefined,
    open_at: state.openNow ? shanghaiIso(new Date()) : undefined,
    q: state.q || undefined,
    area: state.area || undefined,
    crs,
  };
  if (state.date && (forClusters ? features.availabilityClusters : features.availabilitySearch)) {
    const window = dayWindow(state.date);
    p.available_from = window.from;
    p.available_to = window.to;
    p.seats = 1;
  }
  return p;
}

/** A Beijing calendar day as a window `[from, to)` of ISO instants. */
function dayWindow(day: string): { from: string; to: string } {
  const next = new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000);
  return { from: `${day}T00:00+08:00`, to: `${shanghaiIso(next).slice(0, 10)}T00:00+08:00` };
}

/** Redraws the markers and the list for the current view and filters; older answers are dropped. */
async function refresh(): Promise<void> {
  const mine = ++generation;
  const view = state.listOnly ? { bbox: CITY_BBOX, zoom: 8, centre: CITY_CENTRE } : map.view();
  document.body.dataset.loading = 'true';
  const listStatus = document.getElementById('list-status');
  if (listStatus && !pane && !lastMatch) listStatus.textContent = t('loading');
  try {
    const [clusters, page] = await Promise.all([
      getJson<ClusterPage>('/v1/clusters', { bbox: view.bbox, zoom: view.zoom, ...filterParams(true) }),
      getJson<ResourcePage>('/v1/resources', listParams(view)),
    ]);
    if (mine !== generation) return;
    if (!state.listOnly) map.setMarkers(clusters.items, (m) => displayName({ id: m.id, name: m.name, name_en: m.name_en }, lang() === 'en'));
    viewTotal = clusters.total;
    listItems = page.items;
    nextCursor = page.next_cursor;
    document.body.dataset.markers = String(clusters.items.length);
    // While a card is open the list keeps what the user chose from; it shows the new view on the way back.
    if (!lastMatch && !pane) {
      renderList();
      announce(`${t('updated')}: ${listHeading()}`);
    }
  } catch (e) {
    if (mine !== generation) return;
    showError(e);
  } finally {
    if (mine === generation) document.body.dataset.loading = 'false';
  }
}

/** The list: nearest the starting point; else the view's, from its centre; the list alone covers the city. */
function listParams(view: { bbox: string; centre: LngLat }, cursor?: string): Params {
  if (state.origin) return { near: state.origin.join(','), limit: LIST_LIMIT, cursor, ...filterParams(false) };
  if (state.listOnly) return { near: CITY_CENTRE.join(','), limit: LIST_LIMIT, cursor, ...filterParams(false) };
  return { near: view.centre.join(','), bbox: view.bbox, limit: LIST_LIMIT, cursor, ...filterParams(false) };
}

function listHeading(): string {
  if (state.origin) return t('nearest');
  const where = state.listOnly ? (state.area ? areaName(state.area) : t('wholeCity')) : t('inView');
  return `${where} · ${viewTotal ?? listItems.length} ${t('places')}`;
}

function areaName(id: string): string {
  const f = districts.features.find((x) => x.id === id);
  return f ? districtName(f.id, f.properties.name) : id;
}

/** Says a change out loud to screen readers (a polite live region that stays in the page). */
function announce(text: string): void {
  const live = byId('live');
  if (live.textContent !== text) live.textContent = text;
}

/** Draws the list; `focusIndex` moves the focus to that item (the first of a page just loaded). */
function renderList(focusIndex?: number): void {
  const results = byId('results');
  const active = document.activeElement as HTMLElement | null;
  const hadFocus = active !== null && results.contains(active);
  const focusedId = hadFocus ? active.dataset.id ?? null : null;
  const english = lang() === 'en';
  const heading = listHeading();
  const more = h('button', { type: 'button', class: 'secondary more', hidden: !nextCursor }, t('more'));
  more.addEventListener('click', async () => {
    const view = state.listOnly ? { bbox: CITY_BBOX, centre: CITY_CENTRE } : map.view();
    const page = await getJson<ResourcePage>('/v1/resources', listParams(view, nextCursor!));
    const first = listItems.length;
    listItems = listItems.concat(page.items);
    nextCursor = page.next_cursor;
    renderList(first);
  });
  replace(results,
    h('div', { class: 'results-head' },
      h('h2', { id: 'results-title' }, heading),
      h('p', { class: 'muted small', id: 'list-status', role: 'status' }, listItems.length ? '' : t('none'))),
    h('ol', { class: 'result-list', id: 'result-list', 'aria-labelledby': 'results-title', 'data-count': String(listItems.length) },
      listItems.map((r) => resultItem(r, terms, english, state.origin !== null,
        (x) => void showResource(x.id, state.origin ? x.distance_m : undefined)))),
    more);
  // A redraw must not lose the keyboard's place: the same item keeps the focus, else the list itself has it.
  const items = results.querySelectorAll<HTMLElement>('.result');
  const next = focusIndex !== undefined ? items[focusIndex]
    : focusedId ? [...items].find((el) => el.dataset.id === focusedId) : undefined;
  if (next) next.focus();
  else if (hadFocus || focusIndex !== undefined) results.focus();
}

function showError(e: unknown): void {
  const message = e instanceof ApiError ? e.message : t('errorNetwork');
  const status = document.getElementById('list-status');
  if (status) status.textContent = labelled(t('errorGeneric'), message);
}

// ---------------------------------------------------------------------------------------------------------
// Card and matching

async function showResource(id: string, distanceM?: number): Promise<void> {
  const r = await getJson<Resource>(`/v1/resources/${encodeURIComponent(id)}`, { crs });
  if (distanceM !== undefined) r.distance_m = distanceM;
  else if (state.origin) r.distance_m = Math.round(haversineM(state.origin, [r.location.lng, r.location.lat]));
  await openPane({ kind: 'resource', resource: r }, t('cardLabel'), (el, back) => renderCard(el, r, {
    terms, origin: state.origin, booking: features.booking, rules: features.rules, waitlist: features.waitlist, back, openMine: () => void showMine(),
  }));
}

/** My bookings, in the pane: read again from the API each time it opens. */
function showMine(): Promise<void> {
  return openPane({ kind: 'mine' }, t('mine'), (el, back) => renderMine(el, { back, announce }));
}

/** The number of items kept on this device, on the header's button. */
function renderMineButton(): void {
  const n = device.held().length;
  replace(byId('mine'), t('mine'), n ? h('span', { class: 'count' }, String(n)) : null);
}

/**
 * Opens the side pane (over the map's left edge; in place of the list on a phone) with `render`'s content.
 * Escape or its back button closes it and gives the focus back to what opened it.
 */
async function openPane(next: Pane, label: string, render: (el: HTMLElement, back: () => void) => Promise<void>): Promise<void> {
  if (!pane) paneOpener = document.activeElement as HTMLElement | null;
  pane = next;
  const el = byId('card');
  el.hidden = false;
  el.setAttribute('aria-label', label);
  document.body.classList.add('card-open');
  const phone = window.matchMedia('(max-width: 47.5rem)').matches;
  if (!state.listOnly) {
    if (next.kind === 'resource') map.select(next.resource.id, [next.resource.location.lng, next.resource.location.lat], phone ? 0 : el.offsetWidth);
    else map.select(null);
  }
  el.onkeydown = (e) => {
    if (e.key === 'Escape') closePane();
  };
  const drawn = render(el, closePane);
  el.scrollTop = 0;
  if (phone) el.scrollIntoView({ block: 'start', behavior: 'smooth' });
  await drawn;
}

function closePane(): void {
  pane = null;
  map.select(null);
  const el = byId('card');
  el.hidden = true;
  el.onkeydown = null;
  replace(el);
  document.body.classList.remove('card-open');
  if (!lastMatch) renderList();
  (paneOpener?.isConnected ? paneOpener : byId('results').querySelector<HTMLElement>('.result'))?.focus();
  paneOpener = null;
}

async function runMatch(): Promise<void> {
  const results = byId('results');
  if (!features.match) {
    replace(results, h('p', { class: 'notice', role: 'status' }, t('matchUnavailable')));
    return;
  }
  if (!state.origin) {
    replace(results, h('p', { class: 'notice', role: 'status' }, t('matchNeedsOrigin')));
    return;
  }
  replace(results, h('p', { class: 'muted', role: 'status' }, t('loading')));
  try {
    lastMatch = await postJson<MatchAnswer>('/v1/match', matchRequest());
    showMatch(lastMatch);
  } catch (e) {
    replace(results, h('p', { class: 'error', role: 'alert' }, e instanceof ApiError ? e.message : t('errorNetwork')));
  }
}

/** The one-click request: the starting point, the chosen domains (equal weights) and the filters. */
function matchRequest(): MatchRequest {
  const needs: MatchRequest['needs'] = {};
  if (state.domains.size) needs.domains = Object.fromEntries([...state.domains].map((d) => [d, 1]));
  if (state.stage) needs.stage = state.stage;
  if (state.free) needs.free = true;
  if (state.date && features.availabilitySearch) {
    // Free seats that day: the plan then names the slot each place would book.
    const window = dayWindow(state.date);
    needs.time = { from: window.from, to: window.to };
    needs.party = { seats: 1 };
  } else if (state.openNow) {
    needs.time = { at: shanghaiIso(new Date()) };
    needs.require_open = true;
  }
  return { origins: [{ lng: state.origin![0], lat: state.origin![1], label: t('origin') }], crs, needs, limit: 5 };
}

function showMatch(answer: MatchAnswer): void {
  renderMatch(byId('results'), answer, {
    terms,
    open: (id, distanceM) => void showResource(id, distanceM),
    close: () => {
      lastMatch = null;
      renderList();
    },
  });
}


main().catch((e) => {
  document.body.dataset.error = 'true';
  const results = document.getElementById('results');
  if (results) replace(results, h('p', { class: 'error', role: 'alert' }, labelled(t('errorGeneric'), e instanceof Error ? e.message : String(e))));
});
