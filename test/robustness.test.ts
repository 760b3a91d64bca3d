/**
 * The robustness suites of issue 5 in their short form; `npm run fuzz`, `npm run soak` and `npm run fault` run
 * the full ones (see scripts/). Each starts its own server process on 127.0.0.1 with a fresh database.
 */
import { formatFuzzReport, runFuzz } from '../scripts/fuzz.js';
import { formatSoakReport, runSoak } from '../scripts/soak.js';
import { formatFaultReport, runFault } from '../scripts/fault.js';

const explain = (ok: boolean, text: () => string) => {
  if (!ok) console.log(text());
};

test('fuzz: 2,000 hostile requests to every operation of openapi.yaml; nothing ≥ 500, every one answered, the server stays up', async () => {
  const report = await runFuzz({ requests: 2000, seed: 2 });
  explain(report.ok, () => formatFuzzReport(report));
  expect(report.sent).toBe(2000);
  expect(report.operations).toBeGreaterThanOrEqual(15);
  expect(report.catalogue).toBeGreaterThan(500); // every named edge case, once per operation
  expect(report.serverErrors).toBe(0);
  expect(report.connectionErrors).toBe(0);
  expect(report.violations).toEqual([]);
  expect(report.errorLogLines).toEqual([]);
  expect(report.alive).toBe(true);
  expect(report.readyz).toBe(200);
}, 240_000);

test('soak: 8 s of mixed search and booking load; no error, seats agree with bookings, memory does not grow', async () => {
  const report = await runSoak({ seconds: 8, warmupSeconds: 4, seed: 2 });
  explain(report.ok, () => formatSoakReport(report));
  expect(report.requests).toBeGreaterThan(500);
  expect(report.bookings.created).toBeGreaterThan(0);
  expect(report.errorSamples).toEqual([]);
  expect(report.errors).toBe(0);
  expect(report.bookings.slotMismatches).toEqual([]);
  expect(report.memory.endKb).toBeLessThanOrEqual(report.memory.limitKb);
  expect(report.alive).toBe(true);
}, 120_000);

test('fault: 5 kill -9 of the server (and of the import CLI) during imports and bookings; nothing lost, nothing half-applied', async () => {
  const report = await runFault({ kills: 5, seed: 2 });
  explain(report.ok, () => formatFaultReport(report));
  expect(report.kills).toBe(5);
  expect(report.cliKillsInTransaction).toBeGreaterThanOrEqual(1);
  expect(report.bookings.confirmed).toBeGreaterThan(0);
  expect(report.imports.acknowledged).toBeGreaterThan(0);
  expect(report.checks).toBeGreaterThan(100);
  expect(report.lostWrites).toEqual([]);
  expect(report.halfApplied).toEqual([]);
  expect(report.violations).toEqual([]);
}, 240_000);

test('fault: the checks notice a lost booking and a half-applied import (the store damaged on purpose)', async () => {
  let damaged = false;
  const report = await runFault({
    kills: 1, seed: 3, minUpMs: 2500, maxUpMs: 3000,
    sabotage: (db) => {
      const row = db.prepare(`SELECT seq FROM resources WHERE retired_at IS NULL AND name LIKE '%〔fault g%'
        AND batch IN (SELECT id FROM batches WHERE state = 'published') LIMIT 1`).pluck().get();
      const booking = db.prepare("SELECT id FROM bookings WHERE status = 'confirmed' ORDER BY created_at LIMIT 1").pluck().get();
      if (damaged || row === undefined || booking === undefined) return;
      db.prepare("UPDATE resources SET name = substr(name, 1, instr(name, '〔fault') - 1) || '〔fault g0 v999〕' WHERE seq = ?").run(row);
      db.prepare('DELETE FROM booking_visitors WHERE booking_id = ?').run(booking);
      db.prepare('DELETE FROM bookings WHERE id = ?').run(booking);
      damaged = true;
    },
  });
  expect(damaged).toBe(true);
  expect(report.ok).toBe(false);
  expect(report.lostWrites.some((w) => /is not in the database/.test(w))).toBe(true);
  expect(report.lostWrites.some((w) => /GET answered 404/.test(w))).toBe(true);
  expect(report.halfApplied.some((w) => /group g\d+: .* versions/.test(w))).toBe(true);
  expect(report.violations.some((w) => /slot \d+: taken/.test(w))).toBe(true);
}, 120_000);
