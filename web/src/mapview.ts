import * as L from 'leaflet';
import polylabel from 'polylabel';
import type { Feature } from 'geojson';
import type { AreaFeature, LngLat, Marker } from './api.js';
import { districtName, joinList, t } from './i18n.js';
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

/** Beijing's extent, WGS-84 `[[s, w], [n, e]]`, with a margin. */
const BEIJING: L.LatLngBoundsExpression = [[39.35, 115.3], [41.15, 117.6]];

/** Pale fills for neighbouring districts, so borders read without a tile layer. */
const FILLS = ['#e7eef5', '#eef2e6', '#f4ede3', '#ece8f3', '#e5f1ef', '#f3e9ec'];

/**
 * The Leaflet map: the 16 districts as the base layer (no tiles: the page works offline), their names,
 * the clustered markers of the current view and the starting point.
 */
export class MapView {
  readonly map: L.Map;
  private readonly districts = L.layerGroup();
  private readonly labels = L.layerGroup();
  private readonly markers = L.layerGroup();
  private areas: AreaFeature[] = [];
  private labelMarkers: { marker: L.Marker; layer: L.GeoJSON }[] = [];
  private originMarker: L.Marker | null = null;
  private selected: string | null = null;
  private timer = 0;

  constructor(el: HTMLElement, private readonly events: MapEvents) {
    this.map = L.map(el, {
      zoomSnap: 0.25, zoomDelta: 1, wheelPxPerZoomLevel: 120, minZoom: 8, maxZoom: 18, maxBounds: BEIJING, maxBoundsViscosity: 0.8,
      attributionControl: true, zoomControl: false, keyboard: true,
    });
    L.control.zoom({ position: 'topright' }).addTo(this.map);
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution('DataV · © OpenStreetMap contributors');
    this.map.fitBounds([[39.44, 115.42], [41.06, 117.51]], { padding: [8, 8] });
    this.districts.addTo(this.map);
    this.labels.addTo(this.map);
    this.markers.addTo(this.map);
    this.map.on('moveend', () => {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.events.view(), 120);
    });
    this.map.on('zoomend', () => this.fitLabels());
    this.map.on('click', (e: L.LeafletMouseEvent) => this.events.origin([round(e.latlng.lng), round(e.latlng.lat)]));
  }

  /** Draws the district polygons with their names. */
  setDistricts(areas: AreaFeature[]): void {
    this.areas = areas;
    this.districts.clearLayers();
    areas.forEach((area, k) => {
      const layer = L.geoJSON(area as unknown as Feature, {
        interactive: false,
        style: { color: '#ffffff', weight: 2, opacity: 1, fillColor: FILLS[k % FILLS.length], fillOpacity: 1 },
      });
      layer.getLayers().forEach((l) => (l as L.Path).getElement?.()?.setAttribute('data-district', area.id));
      this.districts.addLayer(layer);
    });
    this.districts.eachLayer((l) => (l as L.GeoJSON).eachLayer((p) => {
      const el = (p as L.Path).getElement?.();
      if (el) el.classList.add('district');
    }));
    this.drawLabels();
  }

  /** Redraws the texts that depend on the language. */
  relabel(): void {
    this.drawLabels();
  }

  private drawLabels(): void {
    this.labels.clearLayers();
    this.labelMarkers = [];
    this.districts.getLayers().forEach((layer, k) => {
      const area = this.areas[k];
      const [lng, lat] = labelPoint(area);
      const marker = L.marker([lat, lng], {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'district-label', html: textSpan(districtName(area.id, area.properties.name)), iconSize: undefined }),
      });
      this.labels.addLayer(marker);
      this.labelMarkers.push({ marker, layer: layer as L.GeoJSON });
    });
    this.fitLabels();
  }

  /** Hides a district's name when the district is drawn too small to hold it. */
  private fitLabels(): void {
    for (const { marker, layer } of this.labelMarkers) {
      const b = layer.getBounds();
      const width = this.map.latLngToContainerPoint(b.getNorthEast()).x - this.map.latLngToContainerPoint(b.getSouthWest()).x;
      marker.getElement()?.classList.toggle('hidden', width < 64);
    }
  }

  /**
   * The view as the API's `bbox` (WGS-84 `w,s,e,n`) and integer zoom: the map zooms in quarter steps to fit
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
    marker.on('click', () => this.map.flyTo([m.lat, m.lng], Math.min(m.expansion_zoom ?? this.map.getZoom() + 2, 18), { duration: 0.5 }));
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
    marker.on('click', () => this.events.resource(m.id));
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
