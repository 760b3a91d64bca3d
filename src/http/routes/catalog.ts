import { Router } from 'express';
import { AppError } from '../../errors.js';
import { type Crs, fromWgs84, roundCoord } from '../../geo/crs.js';
import type { Area } from '../../geo/areas.js';
import { areaList, taxonomyJson } from '../../engine/catalog.js';
import type { AppDeps } from '../app.js';

/** `GET /v1/taxonomy`, `GET /v1/areas`, `GET /v1/areas/{id}`. */
export function catalogRoutes({ contract, holder, tax }: AppDeps): Router {
  const router = Router();
  const taxonomy = taxonomyJson(tax);

  router.get('/v1/taxonomy', (req, res) => {
    contract.input('getTaxonomy', req);
    res.type('application/json').send(taxonomy);
  });

  router.get('/v1/areas', (req, res) => {
    const { query } = contract.input('listAreas', req);
    const snap = holder.current;
    const areas = snap.areas.list(query.kind as Area['kind'] | undefined);
    if (query.format === 'geojson') {
      const crs = (query.crs as Crs | undefined) ?? 'wgs84';
      const features = areas.map((a) => JSON.stringify(areaFeature(a, crs))).join(',');
      res.type('application/geo+json').send(`{"type":"FeatureCollection","crs":"${crs}","features":[${features}]}`);
      return;
    }
    res.json(areaList(snap, query.kind as Area['kind'] | undefined));
  });

  router.get('/v1/areas/:id', (req, res) => {
    const { query, params } = contract.input('getArea', req);
    const area = holder.current.area(params.id);
    if (!area) throw new AppError('not_found', `no area '${params.id}'`);
    const crs = (query.crs as Crs | undefined) ?? 'wgs84';
    res.type('application/geo+json').send(JSON.stringify({ ...areaFeature(area, crs), crs }));
  });

  return router;
}

/** An area as a GeoJSON Feature with its outline in `crs`. */
function areaFeature(area: Area, crs: Crs) {
  return {
    type: 'Feature',
    id: area.id,
    geometry: convertGeometry(area.geometry, crs),
    properties: { name: area.name, kind: area.kind, parent_id: area.parentId, ...area.properties },
  };
}

type Coords = number[] | Coords[];

function convertGeometry(geometry: Area['geometry'], crs: Crs): Area['geometry'] {
  if (crs === 'wgs84') return geometry;
  const walk = (c: Coords): Coords =>
    typeof c[0] === 'number' ? fromWgs84([c[0], c[1] as number], crs).map(roundCoord) : (c as Coords[]).map(walk);
  return { ...geometry, coordinates: walk(geometry.coordinates as Coords) } as Area['geometry'];
}
