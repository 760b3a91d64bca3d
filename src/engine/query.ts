import type { Crs } from '../geo/crs.js';
import { fromWgs84, roundCoord } from '../geo/crs.js';
import { AppError } from '../errors.js';
import { match, SCORING, type MatchRequest } from '../match/match.js';
import type { SnapshotHolder } from './holder.js';
import type { Snapshot } from './snapshot.js';
import { View, type Ref } from './view.js';
import { search } from './search.js';
import { compileSearch } from './compile.js';
import { clusters, DOMAINS, primaryDomainsOf } from './clusters.js';
import { encodeCursor, matchNeed, parseNeed, type Kind, type Need, type SearchParams } from './params.js';
import { answerBytes, resourceFeatures, resourcesJson, type FreeSlot } from './render.js';
import { csvExport, geojsonExport, scoped, type ExportStream } from '../export/export.js';
import type { Principal } from '../access/keys.js';

/** Free places of future slots, as the booking module keeps them (see `booking/availability.ts`). */
export interface SeatIndex {
  /** Brings the index up to date with the store; call before `acceptFor` / `firstFit`. */
  refresh(): Promise<void>;
  /** A test of a snapshot's index i: whether that resource has a slot meeting `need`. */
  acceptFor(snap: Snapshot, need: Need): (i: number) => boolean;
  /** The earliest slot of a resource meeting `need`. */
  firstFit(resourceId: string, need: Need): FreeSlot | undefined;
}

/** An answer ready to send: its media type and its body. */
export interface Answer {
  type: string;
  /** The answer's text, or its UTF-8 bytes. */
  body: string | Buffer;
}

/** Search parameters with the answer format. */
export type SearchRequest = SearchParams & { format?: 'json' | 'geojson' | 'csv' };
/** Cluster parameters: a search's filters plus the view. */
export type ClusterRequest = SearchParams & { zoom: number; bbox: string };
/** The match body, with the party that must find seats. */
export type MatchBody = MatchRequest & { needs?: MatchRequest['needs'] & { party?: { seats: number; kind?: Kind } } };

/**
 * The one query path of the service: validated parameters in, the answer out. Search, clusters and match
 * share the compile (coordinates, terms, area), the availability test inside the kNN scan, and rendering;
 * each takes the snapshot in service once, so an answer is whole from one snapshot.
 */
export class Queries {
  constructor(private readonly holder: SnapshotHolder, private readonly seats: SeatIndex, private readonly clock: () => number = Date.now) {}

  /** `GET /v1/resources`: filtered, nearest first (or by id), paged by cursor; JSON or GeoJSON. */
  async search(p: SearchRequest): Promise<Answer> {
    const view = this.holder.current;
    const query = compileSearch(view, p);
    const need = parseNeed(p);
    if (need) query.accept = await this.accept(need);
    const result = search(view, query);
    const crs = p.crs ?? 'wgs84';
    const last = result.refs.length - 1;
    const next = result.more ? encodeCursor(p, { id: View.idOf(result.refs[last]), distanceKm: result.distancesKm?.[last] }) : null;
    const extras = { distancesKm: result.distancesKm, slots: need ? this.slotsOf(result.refs, need) : undefined };
    if (p.format === 'geojson') {
      const features = await resourceFeatures(view, result.refs, crs, extras);
      return geojson(`{"type":"FeatureCollection","crs":"${crs}","count":${features.length},"next_cursor":${JSON.stringify(next)},"features":[${features.join(',')}]}`);
    }
    // As bytes: the answer goes out as UTF-8, written straight from the record cache (see `answerBytes`).
    return json(await answerBytes(view, result.refs, crs, extras, `{"crs":"${crs}","count":${result.refs.length},"items":[`, `],"next_cursor":${JSON.stringify(next)}}`));
  }

  /** `GET /v1/resources/{id}`, with the version it answers (its ETag); a 404 for an unknown id. */
  async resource(id: string, crs: Crs = 'wgs84'): Promise<Answer & { version: number }> {
    const view = this.holder.current;
    const ref = view.locate(id);
    if (!ref) throw new AppError('not_found', `no resource '${id}'`);
    const [record] = await resourcesJson(view, [ref], crs);
    return { ...json(`${record.slice(0, -1)},"crs":"${crs}"}`), version: ref.snap.seqs[ref.i] };
  }

  /**
   * Every resource matching a search's filters, streamed without a page limit: CSV (the import's columns,
   * UTF-8 with BOM or GB18030) or one GeoJSON FeatureCollection; narrowed to the key's scope when the
   * request carries a key (`by`).
   */
  async export(p: SearchRequest & { encoding?: 'utf8' | 'gb18030' }, format: 'csv' | 'geojson', by: Principal | undefined): Promise<ExportStream> {
    const view = this.holder.current;
    const { cursor: _cursor, limit: _limit, ...filters } = p;
    const query = compileSearch(view, filters);
    const need = parseNeed(filters);
    if (need) query.accept = await this.accept(need);
    const scopedQuery = scoped(query, by);
    if (format === 'csv') return csvExport(view, scopedQuery, p.encoding ?? 'utf8');
    return geojsonExport(view, scopedQuery, p.crs ?? 'wgs84', need ? (ref) => this.seats.firstFit(View.idOf(ref), need) ?? null : undefined);
  }

  /** `GET /v1/clusters`: the markers of a map view over the same filters as the search. */
  async clusters(p: ClusterRequest): Promise<Answer> {
    const { zoom, ...params } = p;
    const view = this.holder.current;
    const query = compileSearch(view, params);
    // Free seats in a window: the same test as the search, so the map shows what the list can book.
    const need = parseNeed(params);
    if (need) query.accept = await this.accept(need);
    const crs: Crs = params.crs ?? 'wgs84';
    const result = await clusters(view, query, query.bbox!, zoom);
    const items = result.items.map((c) => {
      const [lng, lat] = fromWgs84([c.lng, c.lat], crs).map(roundCoord);
      if (!c.ref) {
        const domains: Record<string, number> = {};
        c.domains.forEach((n, k) => {
          if (n) domains[DOMAINS[k] ?? 'none'] = n;
        });
        return { kind: 'cluster', id: `c${c.clusterId}`, count: c.count, lng, lat, expansion_zoom: c.expansionZoom, domains };
      }
      // Names from the snapshot: a view at street level has thousands of single markers, and reading their
      // records added 44–66 ms to such an answer at 1M resources (`npm run bench`).
      const { snap, i } = c.ref;
      const { name, nameEn } = snap.labelOf(i);
      return {
        kind: 'resource', id: snap.idOf(i), count: 1, lng, lat, name, name_en: nameEn,
        type: snap.types[snap.typeCode[i]] ?? null, domain: DOMAINS[primaryDomainsOf(snap)[i]] ?? null,
      };
    });
    return json(JSON.stringify({ crs, zoom, total: result.total, count: items.length, items }));
  }

  /** `POST /v1/match`: one-click matching from one or several origins, with reasons and the slot each would book. */
  async match(body: MatchBody): Promise<Answer> {
    const view = this.holder.current;
    const crs = body.crs ?? 'wgs84';
    // Seats are a hard filter inside the kNN scan.
    const need = matchNeed(body.needs?.party, body.needs?.time, this.clock());
    // The slot each pick would book is also what its open score is judged on.
    const result = match(view, body, need ? { accept: await this.accept(need), slot: (ref) => this.seats.firstFit(View.idOf(ref), need) } : {});
    const refs = result.items.map((item) => item.ref);
    const resources = await resourcesJson(view, refs, crs);
    const slots = need ? this.slotsOf(refs, need) : undefined;
    const items = result.items.map((item, k) => {
      const { ref: _ref, ...rest } = item;
      const slot = slots ? `,"slot":${JSON.stringify(slots[k])}` : '';
      return `{"rank":${k + 1},"resource":${resources[k]},${JSON.stringify(rest).slice(1, -1)}${slot}}`;
    });
    const origins = body.origins.map((o, k) => ({ label: o.label ?? (k === 0 ? 'origin' : `origin ${k + 1}`), lng: roundCoord(o.lng), lat: roundCoord(o.lat), weight: o.weight ?? 1 }));
    return json(`{"crs":"${crs}","combine":"${result.combine}","scoring":${JSON.stringify(SCORING)},` +
      `"origins":${JSON.stringify(origins)},"count":${items.length},"items":[${items.join(',')}]}`);
  }

  private async accept(need: Need): Promise<(snap: Snapshot) => (i: number) => boolean> {
    await this.seats.refresh();
    return (snap) => this.seats.acceptFor(snap, need);
  }

  private slotsOf(refs: readonly Ref[], need: Need): (FreeSlot | null)[] {
    return refs.map((ref) => this.seats.firstFit(View.idOf(ref), need) ?? null);
  }
}

/** Whether a search asks for the whole filtered set streamed (`format=csv`, or `geojson` without a `limit`) rather than a page. */
export function isExport<T extends SearchRequest>(p: T): p is T & { format: 'csv' | 'geojson' } {
  return p.format === 'csv' || (p.format === 'geojson' && p.limit === undefined);
}

function json(body: string | Buffer): Answer {
  return { type: 'application/json', body };
}

function geojson(body: string): Answer {
  return { type: 'application/geo+json', body };
}
