import * as L from 'leaflet';
import polylabel from 'polylabel';
import type { Feature, FeatureCollection } from 'geojson';
import type { AreaCollection, AreaFeature, LngLat, Marker } from './api.js';
import type { BaseMap } from './config.js';
import { fromWgs84, toWgs84 } from './crs.js';
import { districtName, joinList, t } from './i18n.js';
import { inPolygon, leaderEnd, placeLabels, type Box, type Point } from './labels.js';
import { DOMAIN_COLOURS, DOMAINS, domainName, type Domain } from './taxonomy.js';

/** What the map tells the page. */
export interface MapEvents {
  /** The view moved or zoomed (debounced). */
  view(): void;
  /** The user clicked the map: a new starting point. */
  origin(at: LngLat): void;
  /** The user chose a single resource's marker. */
  resource(id: string): void;
}

/** Beijing's extent, `[[s, w], [n, e]]`, with a margin (wide enough for either system: they differ by ~500 m). */
const BEIJING = L.latLngBounds([[39.35, 115.3], [41.15, 117.6]]);

/** Pale fills for neighbouring districts, so borders read without a tile layer. */
const FILLS = ['#e7eef5', '#eef2e6', '#f4ede3', '#ece8f3', '#e5f1ef', '#f3e9ec'];

/** Credit of the district boundaries and of the OpenStreetMap-derived records. */
const DATA_CREDIT = 'DataV · © OpenStreetMap contributors';

/** A view in the address: `#map=zoom/lat/lng`, WGS-84 as OpenStreetMap writes it, so a link works on any base map. */
const HASH = /^#map=(\d{1,2}(?:\.\d+)?)\/(-?\d{1,2}\.\d+)\/(-?\d{1,3}\.\d+)$/;

/**
 * The Leaflet map: the operator's tiles (or, without them, the 16 districts as filled shapes: the page then
 * works offline), the districts' outlines and names, the clustered markers of the current view and the
 * starting point. Every coordinate it takes and gives is in the base map's system (`baseMap.crs`).
 */
export class MapView {
  readonly map: L.Map;
  private readonly districts = L.featureGroup();
  private readonly labels = L.layerGroup();
  private readonly markers = L.layerGroup();
  private zoomControl: L.Control.Zoom | null = null;
  private areas: AreaFeature[] = [];
  private labelMarkers: { marker: L.Marker; area: AreaFeature; layer: L.Path }[] = [];
  private originMarker: L.Marker | null = null;
  private selected: string | null = null;
  private timer = 0;

  constructor(el: HTMLElement, private readonly events: MapEvents, private readonly baseMap: BaseMap) {
    this.map = L.map(el, {
      zoomSnap: 0.25, zoomDelta: 1, wheelPxPerZoomLevel: 120, minZoom: 8, maxZoom: 18, maxBounds: BEIJING, maxBoundsViscosity: 0.8,
      attributionControl: true, zoomControl: false, keyboard: true,
    });
    this.addZoomControl();
    el.classList.toggle('with-tiles', baseMap.layers.length > 0);
    for (const layer of baseMap.layers) {
      L.tileLayer(layer.url, {
        subdomains: layer.subdomains, maxZoom: 18, maxNativeZoom: layer.maxZoom, referrerPolicy: layer.referrerPolicy ?? false,
      }).addTo(this.map);
    }
    this.map.attributionControl.setPrefix(false);
    const credits = [baseMap.attribution, baseMap.reviewNo ? `审图号：${baseMap.reviewNo}` : '', DATA_CREDIT].filter(Boolean);
    this.map.attributionControl.addAttribution(credits.map(escapeHtml).join(' · '));
    if (!this.fromHash()) this.map.fitBounds([[39.44, 115.42], [41.06, 117.51]], { padding: [8, 8] });
    this.districts.addTo(this.map);
    this.labels.addTo(this.map);
    this.markers.addTo(this.map);
    this.map.on('moveend', () => {
      this.toHash();
      this.placeLabels();
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.events.view(), 120);
    });
    this.map.on('resize', () => this.placeLabels());
    this.map.on('click', (e: L.LeafletMouseEvent) => this.events.origin([round(e.latlng.lng), round(e.latlng.lat)]));
    window.addEventListener('hashchange', () => this.fromHash());
  }

  private addZoomControl(): void {
    this.zoomControl?.remove();
    this.zoomControl = L.control.zoom({ position: 'topright', zoomInTitle: t('zoomIn'), zoomOutTitle: t('zoomOut') }).addTo(this.map);
  }

  /** Shows the view named in the address, if it names one inside Beijing. */
  private fromHash(): boolean {
    const m = HASH.exec(location.hash);
    if (!m) return false;
    const [lng, lat] = fromWgs84([Number(m[3]), Number(m[2])], this.baseMap.crs);
    if (!BEIJING.contains([lat, lng])) return false;
    this.map.setView([lat, lng], Math.min(18, Math.max(8, Number(m[1]))));
    return true;
  }

  /** Writes the view into the address (replacing, so Back still leaves the page). */
  private toHash(): void {
    const c = this.map.getCenter();
    const [lng, lat] = toWgs84([c.lng, c.lat], this.baseMap.crs);
    history.replaceState(history.state, '', `#map=${+this.map.getZoom().toFixed(2)}/${lat.toFixed(5)}/${lng.toFixed(5)}`);
  }

  /** Draws the district outlines (filled when there are no tiles) with their names. */
  setDistricts(collection: AreaCollection): void {
    this.areas = collection.features;
    this.districts.clearLayers();
    const tiles = this.baseMap.layers.length > 0;
    const layer = L.geoJSON(collection as unknown as FeatureCollection, {
      interactive: false,
      style: (f) => {
        const k = this.areas.findIndex((a) => a.id === (f as unknown as AreaFeature).id);
        return tiles
          ? { className: 'district', color: '#34495e', weight: 1.5, opacity: 0.75, dashArray: '6 4', fill: false }
          : { className: 'district', color: '#ffffff', weight: 2, opacity: 1, fillColor: FILLS[k % FILLS.length], fillOpacity: 1 };
      },
    });
    layer.eachLayer((l) => {
      this.districts.addLayer(l);
      (l as L.Path).getElement?.()?.setAttribute('data-district', String(((l as L.GeoJSON).feature as Feature).id));
    });
    this.drawLabels();
  }

  /** The bounds of a district, in the map's system. */
  districtBounds(id: string): L.LatLngBounds | null {
    const entry = this.labelMarkers.find((m) => m.area.id === id);
    return entry ? (entry.layer as L.Polygon).getBounds() : null;
  }

  /** Redraws the texts that depend on the language. */
  relabel(): void {
    this.addZoomControl();
    this.drawLabels();
  }

  /** Tells the map its box changed (a panel opened, the text grew, the map came back into view). */
  resize(): void {
    this.map.invalidateSize();
    this.placeLabels();
  }

  private drawLabels(): void {
    this.labels.clearLayers();
    this.labelMarkers = [];
    this.districts.eachLayer((layer) => {
      const area = ((layer as L.GeoJSON).feature as unknown) as AreaFeature;
      const [lng, lat] = labelPoint(area);
      const el = document.createElement('div');
      el.className = 'district-name';
      el.append(document.createElement('i'), textSpan(districtName(area.id, area.properties.name)));
      const marker = L.marker([lat, lng], {
        interactive: false, keyboard: false, zIndexOffset: -1000,
        icon: L.divIcon({ className: 'district-label', html: el, iconSize: [0, 0], iconAnchor: [0, 0] }),
      });
      this.labels.addLayer(marker);
      marker.getElement()?.setAttribute('data-district', area.id);
      this.labelMarkers.push({ marker, area, layer: layer as L.Path });
    });
    this.placeLabels();
  }

  /**
   * Puts each district's name where it reads: on its district if there is room, else beside it with a
   * leader line, never over a marker, a control or another name (see labels.ts); hidden if nowhere fits.
   */
  private placeLabels(): void {
    if (!this.labelMarkers.length) return;
    const size = this.map.getSize();
    const frame = this.map.getContainer().getBoundingClientRect();
    const boxOf = (el: Element): Box => {
      const r = el.getBoundingClientRect();
      return { x: r.left - frame.left, y: r.top - frame.top, w: r.width, h: r.height };
    };
    const obstacles: Box[] = [];
    this.map.getPane('markerPane')?.querySelectorAll('.marker-host').forEach((el) => obstacles.push(boxOf(el)));
    this.map.getContainer().querySelectorAll('.leaflet-control').forEach((el) => obstacles.push(boxOf(el)));
    const legend = document.getElementById('legend');
    if (legend && !legend.hidden) obstacles.push(boxOf(legend));

    const items = this.labelMarkers.map(({ marker, area, layer }) => {
      const span = marker.getElement()!.querySelector('span')!;
      const anchor = this.map.latLngToContainerPoint(marker.getLatLng());
      const b = (layer as L.Polygon).getBounds();
      const sw = this.map.latLngToContainerPoint(b.getSouthWest());
      const ne = this.map.latLngToContainerPoint(b.getNorthEast());
      const polygons = (area.geometry.type === 'Polygon' ? [area.geometry.coordinates] : area.geometry.coordinates) as number[][][][];
      return {
        marker, span, screenArea: Math.abs((ne.x - sw.x) * (ne.y - sw.y)),
        input: {
          anchor: { x: anchor.x, y: anchor.y }, w: span.offsetWidth, h: span.offsetHeight,
          inside: (p: Point) => {
            const ll = this.map.containerPointToLatLng([p.x, p.y]);
            return polygons.some((rings) => inPolygon(ll.lng, ll.lat, rings));
          },
        },
      };
    }).sort((a, b) => a.screenArea - b.screenArea);
    const placed = placeLabels(items.map((i) => i.input), obstacles, { w: size.x, h: size.y });
    items.forEach(({ marker, span, input }, k) => {
      const p = placed[k];
      const el = marker.getElement()!;
      el.classList.toggle('hidden', !p);
      if (!p) return;
      const box = { x: p.x - input.w / 2, y: p.y - input.h / 2, w: input.w, h: input.h };
      span.style.transform = `translate(${(box.x - input.anchor.x).toFixed(1)}px, ${(box.y - input.anchor.y).toFixed(1)}px)`;
      const leader = el.querySelector('i')!;
      leader.hidden = !p.leader;
      if (p.leader) {
        const end = leaderEnd(box, input.anchor);
        const [dx, dy] = [end.x - input.anchor.x, end.y - input.anchor.y];
        leader.style.width = `${Math.hypot(dx, dy).toFixed(1)}px`;
        leader.style.transform = `rotate(${Math.atan2(dy, dx).toFixed(4)}rad)`;
      }
      el.classList.toggle('with-leader', p.leader);
    });
  }

  /**
   * The view as the API's `bbox` (`w,s,e,n` in the map's system) and integer zoom: the map zooms in quarter steps to fit
   * Beijing well; clusters are asked for at the whole zoom below, so they are at most 1.7× their radius apart.
   */
  view(): { bbox: string; zoom: number; centre: LngLat } {
    const b = this.map.getBounds();
    const c = this.map.getCenter();
    return {
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(','),
      zoom: Math.floor(this.map.getZoom() + 1e-9),
      centre: [round(c.lng), round(c.lat)],
    };
  }

  /** Replaces the markers: clusters zoom in when chosen, single resources open their card. */
  setMarkers(items: Marker[], names: (m: Marker) => string): void {
    this.markers.clearLayers();
    for (const m of items) {
      const marker = m.kind === 'cluster' ? this.clusterMarker(m) : this.resourceMarker(m, names(m));
      this.markers.addLayer(marker);
    }
    this.placeLabels();
  }

  private clusterMarker(m: Marker): L.Marker {
    const size = Math.round(34 + Math.min(26, Math.log2(m.count) * 4));
    const el = document.createElement('div');
    el.className = 'cluster';
    el.dataset.kind = 'cluster';
    el.dataset.count = String(m.count);
    el.style.width = el.style.height = `${size}px`;
    el.style.background = ring(m.domains ?? {});
    const inner = document.createElement('span');
    inner.textContent = String(m.count);
    el.appendChild(inner);
    const parts = joinList(DOMAINS.filter((d) => m.domains?.[d]).map((d) => `${domainName(d)} ${m.domains![d]}`));
    const label = `${m.count} ${t('clusterOf')}${parts ? ` (${parts})` : ''}`;
    const marker = L.marker([m.lat, m.lng], {
      icon: L.divIcon({ className: 'marker-host', html: el, iconSize: [size, size], iconAnchor: [size / 2, size / 2] }),
      title: label, keyboard: true, riseOnHover: true,
    });
    onActivate(marker, () => this.map.flyTo([m.lat, m.lng], Math.min(m.expansion_zoom ?? this.map.getZoom() + 2, 18), { duration: 0.5 }));
    marker.on('add', () => marker.getElement()?.setAttribute('aria-label', label));
    return marker;
  }

  private resourceMarker(m: Marker, name: string): L.Marker {
    const domain = (m.domain ?? 'none') as Domain | 'none';
    const el = document.createElement('div');
    el.className = 'pin';
    el.dataset.kind = 'resource';
    el.dataset.id = m.id;
    el.dataset.domain = domain;
    el.style.background = DOMAIN_COLOURS[domain] ?? DOMAIN_COLOURS.none;
    if (m.id === this.selected) el.classList.add('selected');
    const marker = L.marker([m.lat, m.lng], {
      icon: L.divIcon({ className: 'marker-host', html: el, iconSize: [22, 22], iconAnchor: [11, 11] }),
      title: name, keyboard: true, riseOnHover: true, zIndexOffset: m.id === this.selected ? 3000 : 0,
    });
    onActivate(marker, () => this.events.resource(m.id));
    marker.on('add', () => marker.getElement()?.setAttribute('aria-label', `${name} (${domainName(domain)})`));
    return marker;
  }

  /**
   * Marks one resource as chosen (its pin is ringed and on top) and, unless it is already in sight, shows it
   * at street level in the part of the map not covered by a panel `coveredLeftPx` wide over the left edge.
   */
  select(id: string | null, at?: LngLat, coveredLeftPx = 0): void {
    this.selected = id;
    this.markers.eachLayer((l) => {
      const marker = l as L.Marker;
      const el = marker.getElement()?.querySelector<HTMLElement>('.pin');
      if (!el) return;
      el.classList.toggle('selected', el.dataset.id === id);
      marker.setZIndexOffset(el.dataset.id === id ? 3000 : 0);
    });
    if (!at) return;
    // Bring it into the uncovered part of the map, close enough to stand out of its cluster.
    const latlng = L.latLng(at[1], at[0]);
    const size = this.map.getSize();
    const p = this.map.latLngToContainerPoint(latlng);
    const visible = p.x >= coveredLeftPx + 32 && p.x <= size.x - 32 && p.y >= 32 && p.y <= size.y - 32;
    if (visible && this.map.getZoom() >= 12) return;
    const zoom = Math.max(this.map.getZoom(), 12);
    const centre = this.map.project(latlng, zoom).subtract([coveredLeftPx / 2, 0]);
    this.map.setView(this.map.unproject(centre, zoom), zoom);
  }

  /** Shows (or removes, with null) the starting point. */
  setOrigin(at: LngLat | null): void {
    this.originMarker?.remove();
    this.originMarker = null;
    if (!at) return;
    const el = document.createElement('div');
    el.className = 'origin-dot';
    el.dataset.kind = 'origin';
    this.originMarker = L.marker([at[1], at[0]], {
      icon: L.divIcon({ className: 'marker-host', html: el, iconSize: [24, 24], iconAnchor: [12, 12] }),
      interactive: false, keyboard: false, zIndexOffset: 2000,
    }).addTo(this.map);
    this.placeLabels();
  }

  /** The centre of the view (where the crosshair is while the map has the keyboard's focus). */
  centre(): LngLat {
    const c = this.map.getCenter();
    return [round(c.lng), round(c.lat)];
  }

  /** Shows a whole area. */
  fit(bounds: L.LatLngBounds): void {
    this.map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
  }

  /** Centres the map on a point, zooming in to at least `zoom`. */
  focus(at: LngLat, zoom = 13): void {
    this.map.setView([at[1], at[0]], Math.max(zoom, this.map.getZoom()));
  }
}

/** A conic gradient with one arc per domain, in proportion to the cluster's resources of each. */
function ring(domains: Record<string, number>): string {
  const keys = [...DOMAINS, 'none'] as const;
  const total = keys.reduce((a, k) => a + (domains[k] ?? 0), 0) || 1;
  let at = 0;
  const stops: string[] = [];
  for (const k of keys) {
    const n = domains[k] ?? 0;
    if (!n) continue;
    const next = at + (n / total) * 360;
    stops.push(`${DOMAIN_COLOURS[k]} ${at.toFixed(1)}deg ${next.toFixed(1)}deg`);
    at = next;
  }
  return `conic-gradient(${stops.join(', ')})`;
}

/**
 * Runs `act` when a marker is clicked, or pressed with Enter or Space while it has the focus: Leaflet gives
 * marker icons role=button and a tab stop, but Enter only opens popups, which these markers do not have.
 */
function onActivate(marker: L.Marker, act: () => void): void {
  marker.on('click', act);
  marker.on('keydown', (e) => {
    const key = (e as L.LeafletKeyboardEvent).originalEvent.key;
    if (key !== 'Enter' && key !== ' ') return;
    (e as L.LeafletKeyboardEvent).originalEvent.preventDefault();
    act();
  });
}

/** Text made safe for Leaflet's attribution control, which writes HTML. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function textSpan(text: string): HTMLElement {
  const span = document.createElement('span');
  span.textContent = text;
  return span;
}

/** The point inside a district farthest from its edge (its largest polygon), where its name reads best. */
function labelPoint(area: AreaFeature): LngLat {
  const polygons = (area.geometry.type === 'Polygon' ? [area.geometry.coordinates] : area.geometry.coordinates) as number[][][][];
  let best = polygons[0];
  let bestArea = -1;
  for (const p of polygons) {
    const a = Math.abs(ringArea(p[0]));
    if (a > bestArea) [best, bestArea] = [p, a];
  }
  const [lng, lat] = polylabel(best, 0.002);
  return [lng, lat];
}

function ringArea(ring: number[][]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return a / 2;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
