import { randomBytes } from 'node:crypto';
import { PostgresDatabase } from '../../src/store/postgres.js';

/** Which store the tests run on: `EDUMAP_TEST_BACKEND=postgres` (set by jest.postgres.config.js's globalSetup), else SQLite. */
export const BACKEND: 'sqlite' | 'postgres' = process.env.EDUMAP_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

function server(): { url: string; template: string } {
  const url = process.env.EDUMAP_TEST_PG_URL;
  const template = process.env.EDUMAP_TEST_PG_TEMPLATE;
  if (!url || !template) throw new Error('EDUMAP_TEST_BACKEND=postgres needs the cluster of jest.postgres.config.js (npm run test:pg)');
  return { url, template };
}

/** A fresh, migrated database for one test (a copy of the template): its URL. */
export async function createTestDatabase(): Promise<string> {
  const { url, template } = server();
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdmin(url, async (admin) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await admin.run(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      } catch (e) {
        // Two copies starting at the same instant can see the template "being accessed by other users".
        if (attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}

/** Drops a database of `createTestDatabase` (ending any connection left to it). */
export async function dropTestDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  if (!/^t_[0-9a-f]+$/.test(name)) throw new Error(`not a test database: ${name}`);
  await withAdmin(server().url, (admin) => admin.run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Runs `fn` with a connection to the server's `postgres` database, closed after (no handle outlives a test). */
async function withAdmin<T>(url: string, fn: (admin: PostgresDatabase) => Promise<T>): Promise<T> {
  const admin = PostgresDatabase.open(url, { poolSize: 1 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}
