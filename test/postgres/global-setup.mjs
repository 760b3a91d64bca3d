// jest globalSetup of the PostgreSQL run (jest.postgres.config.js): a throwaway cluster, and in it a database
// migrated once as the template of every test's database (CREATE DATABASE … TEMPLATE is fast). Never skipped:
// without PostgreSQL the run fails with the command that installs it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startCluster } from './cluster.mjs';

export const TEMPLATE = 'edumap_template';

export default async function setup() {
  const started = Date.now();
  let url = process.env.EDUMAP_TEST_PG_URL; // a server of your own (a developer's): used as it is, never stopped
  if (!url) {
    const cluster = await startCluster();
    globalThis.__EDUMAP_PG__ = cluster;
    url = cluster.url;
  }
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const made = spawnSync(process.execPath, ['--import', 'tsx', 'test/postgres/template.ts', url, TEMPLATE],
    { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env } });
  if (made.status !== 0) throw new Error(`could not build the template database:\n${made.stdout}\n${made.stderr}`);
  process.env.EDUMAP_TEST_PG_URL = url;
  process.env.EDUMAP_TEST_PG_TEMPLATE = TEMPLATE;
  process.env.EDUMAP_TEST_BACKEND = 'postgres';
  console.log(`\nPostgreSQL for tests at ${url} (template ${TEMPLATE}), ready in ${Date.now() - started} ms`);
}
