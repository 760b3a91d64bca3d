/**
 * The HTTP baseline for `npm run bench`: an express server answering `GET /v1/resources?near=lng,lat&limit=k`
 * from a bare geokdbush index over the same database's current resources, ids only — what a team would
 * write in an afternoon, with none of edumap's filters, records, headers, limits, metrics or logs.
 *
 *   tsx scripts/bench-bare-server.ts DB PORT
 */
import express from 'express';
import KDBush from 'kdbush';
import { around } from 'geokdbush';
import Database from 'better-sqlite3';

const [dbPath, port] = process.argv.slice(2);
const db = new Database(dbPath, { readonly: true });
const rows = db.prepare('SELECT id, lng, lat FROM resources WHERE retired_at IS NULL AND deleted = 0').raw().all() as [string, number, number][];
db.close();
const index = new KDBush(rows.length);
for (const [, lng, lat] of rows) index.add(lng, lat);
index.finish();

const app = express();
app.get('/v1/resources', (req, res) => {
  const [lng, lat] = String(req.query.near).split(',').map(Number);
  const k = Number(req.query.limit ?? 10);
  res.json({ items: (around(index, lng, lat, k) as number[]).map((i) => rows[i][0]) });
});
app.listen(Number(port), '127.0.0.1', () => console.log(`bare geokdbush on ${port}, ${rows.length} points`));
