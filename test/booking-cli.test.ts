import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, testService, type TestService, rawSqlite } from './support.js';

let svc: TestService;
beforeAll(async () => {
  svc = await testService({ seed: true });
});
afterAll(() => svc.close());

function schedule(file: object, ...flags: string[]) {
  const path = join(svc.dir, 'schedules.json');
  writeFileSync(path, JSON.stringify(file));
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/schedule.ts', path, ...flags], {
    cwd: ROOT, env: { PATH: process.env.PATH, EDUMAP_DB: svc.config.dbPath }, encoding: 'utf8', timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

test('npm run schedule applies a file of weekly schedules, each all or nothing, and can be re-run', () => {
  const weekly = { resource_id: 'palace-museum', hours: 'Tu-Su 09:00-12:00; PH off', slot_minutes: 60, days: 14, capacity: { individual: 300, group: 120 } };
  const first = schedule({ schedules: [weekly, { resource_id: 'nowhere', capacity: { individual: 1 } }, { ...weekly, resource_id: 'national-museum-of-china', slot_minutes: 1 }] }, '--json');
  expect(first.code).toBe(1);
  const [palace, nowhere, tooShort] = JSON.parse(first.out);
  expect(palace.created).toBeGreaterThanOrEqual(30); // 12 open days less holidays, three slots each
  expect(nowhere).toMatchObject({ resource_id: 'nowhere', error: "no resource 'nowhere'" });
  expect(tooShort.errors).toEqual([{ path: 'schedules[2].slot_minutes', message: 'must be >= 5' }]);
  const stored = rawSqlite(svc).prepare("SELECT count(*) FROM slots WHERE resource_id = 'palace-museum'").pluck().get();
  expect(stored).toBe(palace.created);
  expect(rawSqlite(svc).prepare("SELECT count(*) FROM slots WHERE resource_id = 'national-museum-of-china'").pluck().get()).toBe(0);

  const again = schedule({ schedules: [weekly] });
  expect(again.code).toBe(0);
  expect(again.out.split('\n')[0]).toBe(`palace-museum: 0 slots created, ${palace.created} already there`);
  expect(JSON.parse(schedule({ schedules: [weekly] }, '--json').out)).toEqual([{ resource_id: 'palace-museum', created: 0, unchanged: palace.created,
    leftover: [], holidays: expect.any(Array), warnings: expect.any(Array) }]);
  expect(schedule({ nothing: true }).code).toBe(2);
});

test('npm run schedule says what a schedule left without a slot, and why', () => {
  const run = schedule({ schedules: [{ resource_id: 'national-museum-of-china', hours: 'Mo-Su 09:00-16:00', slot_minutes: 120, last_slot: 'drop',
    days: 2, from: new Date(Date.now() + 3 * 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 10), capacity: { individual: 10 } }] });
  expect(run.code).toBe(0);
  const lines = run.out.trim().split('\n');
  expect(lines[0]).toBe('national-museum-of-china: 6 slots created, 0 already there');
  expect(lines).toContain('  warning: 2 stretches of open time have no slot (last_slot: drop); they are listed in leftover');
  expect(lines.filter((l) => /^ {2}no slot: \S+T15:00:00\+08:00 – \S+T16:00:00\+08:00$/.test(l))).toHaveLength(2);
});
