// `node --import tsx test/postgres/template.ts URL NAME`: (re)creates database NAME on the server of URL and
// applies every migration to it, so that each test's database is a copy (CREATE DATABASE … TEMPLATE NAME).
import { openStore } from '../../src/store/db.js';
import { PostgresDatabase } from '../../src/store/postgres.js';

const [url, name] = process.argv.slice(2);
if (!url || !/^\w+$/.test(name ?? '')) throw new Error('usage: template.ts URL NAME');
const admin = PostgresDatabase.open(url);
await admin.run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.run(`CREATE DATABASE ${name}`);
await admin.close();
const target = new URL(url);
target.pathname = `/${name}`;
await (await openStore(target.toString())).close();
