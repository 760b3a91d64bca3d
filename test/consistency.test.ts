import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { csvLine, generateRows, loadWorld, type GeneratedRow } from '../scripts/gen.js';
import Database from 'better-sqlite3';
import { ADMIN_KEY, HEADER, ROOT, testService, type TestService } from './support.js';

const world = loadWorld();
const rows = [...generateRows(4000, 21, world)];
/** Version k of the data set: same ids, names marked 〔vk〕, moved ~100 m, tags changed. */
const version = (k: number, from: GeneratedRow[] = rows) => [HEADER, ...from.map((r) => csvLine({
  ...r, name: `${r.name}〔v${k}〕`, lng: (Number(r.lng) + (k - 1) * 0.001).toFixed(6), district: '', tags: k === 1 ? r.tags : `ti|${r.tags}`,
}).trimEnd())].join('\n');

let svc: TestService;
afterEach(() => svc?.close());

/**
 * A fingerprint of everything readers can see in the store: every row version of a published batch (an
 * import stages its rows invisibly until it publishes them all at once) and the meta counters.
 */
function fingerprint(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rowsText = JSON.stringify(db.prepare("SELECT * FROM resources WHERE batch IN (SELECT id FROM batches WHERE state = 'published') ORDER BY seq").all());
    return createHash('sha256').update(rowsText).update(JSON.stringify(db.prepare('SELECT * FROM meta').all())).digest('hex');
  } finally {
    db.close();
  }
}

describe('snapshot swaps are atomic', () => {
  test('while an import runs, every answer comes whole from either the old or the new data', async () => {
    svc = await testService({ seed: false });
    await svc.importText(version(1));
    const queries = ['near=116.40,39.91&limit=20', 'near=116.30,39.98&tag=ti&limit=15', 'limit=25', 'near=116.45,39.95&radius_km=3&limit=30'];
    const answersBefore = await Promise.all(queries.map((q) => request(svc.app).get(`/v1/resources?${q}`)));

    const importing = request(svc.app).post('/v1/imports').set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv').send(version(2));
    let done = false;
    void importing.then(() => (done = true));
    const seen: { q: string; version: string; ids: string[] }[] = [];
    while (!done) {
      const batch = await Promise.all(queries.map(async (q) => ({ q, res: await request(svc.app).get(`/v1/resources?${q}`) })));
      for (const { q, res } of batch) {
        expect(res.status).toBe(200);
        const versions = new Set(res.body.items.map((i: { name: string }) => /〔(v\d)〕$/.exec(i.name)![1]));
        expect(versions.size).toBe(1); // never a mix of old and new records
        seen.push({ q, version: [...versions][0] as string, ids: res.body.items.map((i: { id: string }) => i.id) });
      }
    }
    const report = (await importing).body;
    expect(report.applied).toBe(true);
    expect(report.updated + report.rejected_rows).toBe(4000); // a moved point may leave Beijing; it is then rejected
    expect(report.updated).toBeGreaterThan(3900);
    const answersAfter = await Promise.all(queries.map((q) => request(svc.app).get(`/v1/resources?${q}`)));

    // Whole, not only unmixed: each answer equals the one the old or the new data gives.
    const whole = (k: number, q: string) => JSON.stringify((k === 1 ? answersBefore : answersAfter)[queries.indexOf(q)].body.items.map((i: { id: string }) => i.id));
    for (const s of seen) expect(JSON.stringify(s.ids)).toBe(whole(Number(s.version.slice(1)), s.q));
    expect(seen.length).toBeGreaterThan(queries.length); // the queries really ran during the import
  });

  test('a CLI import into the database of a running service is picked up by its poller', async () => {
    svc = await testService({ seed: false, config: { pollMs: 50 } });
    const errors: unknown[] = [];
    svc.follow(50, (e) => errors.push(e)); // as server.ts does
    const file = join(svc.dir, 'v1.csv');
    writeFileSync(file, version(1, rows.slice(0, 300)));
    const code = await runCli([file], svc.config.dbPath);
    expect(code.status).toBe(0);
    for (let waited = 0; svc.holder.current.size === 0 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(svc.holder.current.size).toBe(300);
    expect(errors).toEqual([]);
  });
});

/** Runs the import CLI as its own process; resolves with its exit status and output. */
function runCli(args: string[], dbPath: string, env: Record<string, string> = {}, onStderr?: (text: string, kill: () => void) => void) {
  return new Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/import.ts'), ...args], {
      cwd: ROOT, env: { ...process.env, EDUMAP_DB: dbPath, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, () => child.kill('SIGKILL'));
    });
    child.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

describe('an import killed part-way leaves the database exactly as before', () => {
  test('kill -9 inside the final transaction', async () => {
    svc = await testService({ seed: false });
    await svc.importText(version(1, rows.slice(0, 500)));
    const path = svc.config.dbPath;
    const file = join(svc.dir, 'v2.csv');
    writeFileSync(file, version(2));
    const before = fingerprint(path);

    const run = await runCli([file], path, { EDUMAP_TEST_HOLD_BEFORE_COMMIT_MS: '60000' }, (text, kill) => {
      if (text.includes('holding inside the import transaction')) kill();
    });
    expect(run.signal).toBe('SIGKILL');
    expect(fingerprint(path)).toBe(before);

    // And the database still takes the same import afterwards.
    const again = await runCli([file], path);
    expect(again.signal).toBeNull();
    expect(again.stdout).toMatch(/inserted 3\d{3}, updated \d+, unchanged 0, rejected \d/);
    expect(fingerprint(path)).not.toBe(before);
  });

  test('kill -9 between staging and publish: nothing visible; the next import takes over at once and applies', async () => {
    svc = await testService({ seed: false });
    await svc.importText(version(1, rows.slice(0, 500)));
    const path = svc.config.dbPath;
    const file = join(svc.dir, 'v2.csv');
    writeFileSync(file, version(2));
    const before = fingerprint(path);
    const run = await runCli([file], path, { EDUMAP_TEST_HOLD_BEFORE_PUBLISH_MS: '60000' }, (text, kill) => {
      if (text.includes('holding between staging and publish')) kill();
    });
    expect(run.signal).toBe('SIGKILL');
    expect(fingerprint(path)).toBe(before);
    // Every row was staged: invisible, and no query of the running service sees any of it.
    const raw = new Database(path, { readonly: true });
    const staged = raw.prepare("SELECT count(*) FROM resources WHERE batch IN (SELECT id FROM batches WHERE state = 'staging')").pluck().get() as number;
    raw.close();
    expect(staged).toBeGreaterThan(3000);
    await svc.holder.refreshIfChanged();
    const res = await request(svc.app).get('/v1/resources?limit=100');
    expect(res.body.items.every((i: { name: string }) => i.name.endsWith('〔v1〕'))).toBe(true);
    // The dead process's batch is taken over at once (its pid is gone), its rows cleaned away.
    const started = Date.now();
    const again = await runCli([file], path);
    expect(again.signal).toBeNull();
    // The CLI exits 1 when any row is rejected (a moved point may leave Beijing), else 0.
    expect(again.status).toBe(/rejected 0\b/.test(again.stdout) ? 0 : 1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(again.stdout).toMatch(/inserted 3\d{3}, updated \d+, unchanged 0/);
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT count(*) FROM batches WHERE state <> 'published'").pluck().get()).toBe(0);
    after.close();
  });

  test('kill -9 while rows are still being read', async () => {
    svc = await testService({ seed: false });
    await svc.importText(version(1, rows.slice(0, 500)));
    const path = svc.config.dbPath;
    const file = join(svc.dir, 'big.csv');
    writeFileSync(file, version(2) + '\n' + version(3).split('\n').slice(1).map((l) => l.replace(/^gen-/, 'more-')).join('\n'));
    const before = fingerprint(path);
    // Killed once the first chunk of rows is staged, long before the final transaction.
    let staged = 0;
    const run = await runCli([file], path, { EDUMAP_TEST_HOLD_AFTER_STAGING_MS: '60000' }, (text, kill) => {
      const m = /holding after staging (\d+) rows/.exec(text);
      if (m) {
        staged = Number(m[1]);
        kill();
      }
    });
    expect(run.signal).toBe('SIGKILL');
    expect(staged).toBeGreaterThan(0);
    expect(staged).toBeLessThan(8000); // part-way: rows remained to be read
    expect(fingerprint(path)).toBe(before);
  });
});
