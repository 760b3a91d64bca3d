import iconv from 'iconv-lite';
import type { Crs } from '../geo/crs.js';
import type { Ref, View } from '../engine/view.js';
import { matching, type SearchQuery } from '../engine/search.js';
import { feature, resourcesJson, type FreeSlot } from '../engine/render.js';
import type { Principal } from '../access/keys.js';
import { COLUMNS } from '../import/rows.js';
import { csvCells, rowOfRecord } from '../import/columns.js';

/** An export being streamed: its media type, a file name, and the body in chunks. */
export interface ExportStream {
  type: string;
  filename: string;
  body: AsyncGenerator<Buffer>;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Narrows a query to what a key maintains, when the export is asked with one: a district key gets its
 * districts, a venue key its resources; an operator (or no key) everything.
 */
export function scoped(query: SearchQuery, by: Principal | undefined): SearchQuery {
  if (!by || by.role === 'operator') return query;
  const resources = by.resources;
  const accept = query.accept;
  return {
    ...query,
    accept: (snap) => {
      const districts = new Set([...by.districts].map((d) => snap.districts.indexOf(d)));
      const inScope = by.role === 'district' ? (i: number) => districts.has(snap.districtCode[i]) : (i: number) => resources.has(snap.idOf(i));
      const also = accept?.(snap);
      return also ? (i) => inScope(i) && also(i) : inScope;
    },
  };
}

/**
 * Every resource matching the query as CSV, streamed: the import's columns as the header, one row per
 * resource in id order, WGS-84 coordinates (so that importing the file back finds every row unchanged).
 * UTF-8 with a BOM (so Excel reads it), or GB18030 (what Excel on a Chinese Windows writes and reads).
 */
export function csvExport(view: View, query: SearchQuery, encoding: 'utf8' | 'gb18030'): ExportStream {
  const encode = (text: string) => (encoding === 'gb18030' ? iconv.encode(text, 'gb18030') : Buffer.from(text, 'utf8'));
  async function* body(): AsyncGenerator<Buffer> {
    yield encoding === 'utf8' ? Buffer.concat([BOM, encode(`${COLUMNS.join(',')}\r\n`)]) : encode(`${COLUMNS.join(',')}\r\n`);
    for (const refs of matching(view, query)) {
      const docs = await view.records(refs);
      yield encode(refs.map(({ snap, i }, k) => `${csvCells(rowOfRecord(docs[k], snap.lng[i], snap.lat[i]))}\r\n`).join(''));
    }
  }
  return { type: `text/csv; charset=${encoding === 'utf8' ? 'utf-8' : 'gb18030'}`, filename: 'resources.csv', body: body() };
}

/**
 * Every resource matching the query as one GeoJSON FeatureCollection, streamed (coordinates in `crs`);
 * `slotOf` (an availability search) names the slot each would book, as a page does.
 */
export function geojsonExport(view: View, query: SearchQuery, crs: Crs, slotOf?: (ref: Ref) => FreeSlot | null): ExportStream {
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(`{"type":"FeatureCollection","crs":"${crs}","features":[`);
    let first = true;
    for (const refs of matching(view, query)) {
      const records = await resourcesJson(view, refs, crs, slotOf ? { slots: refs.map(slotOf) } : {});
      const features = records.map((json, k) => feature(refs[k], crs, json));
      yield Buffer.from(`${first ? '' : ','}${features.join(',')}`);
      first = false;
    }
    yield Buffer.from(']}');
  }
  return { type: 'application/geo+json', filename: 'resources.geojson', body: body() };
}
