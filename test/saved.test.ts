import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SnapshotHolder, type HolderOptions } from '../src/engine/holder.js';
import { PartsBuilder } from '../src/engine/builder.js';
import { readFolded } from '../src/engine/fold.js';
import { readParts, type SnapshotParts } from '../src/engine/parts.js';
import { loadSaved, removeStaleTemporaries, saveParts, SAVED_FORMAT } from '../src/engine/saved.js';
import { ResourceReader } from '../src/store/resource-reader.js';
import { Maintenance } from '../src/import/maintenance.js';
import { loadConfig } from '../src/config.js';
import { HEADER, OPERATOR, csvLine, plainParts, testService, type TestService } from './support.js';

const services: TestService[] = [];
const holders: SnapshotHolder[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) await h.stop();
  for (const s of services.splice(0)) await s.close();
});

async function service(): Promise<TestService> {
  const svc = await testService({ seed: true, config: { foldDelayMs: 3_600_000 } });
  services.push(svc);
  return svc;
}

/** A holder over `svc`'s store that saves its base to a file in the service's directory (a restarted server). */
async function started(svc: TestService, options: HolderOptions = {}): Promise<SnapshotHolder> {
  const holder = new SnapshotHolder(svc.db, svc.tax, { savedFile: join(svc.dir, 'edumap.snapshot'), foldDelayMs: 3_600_000, ...options });
  holders.push(holder);
  await holder.rebuild();
  return holder;
}

/** What a scan of the store gives now, with the holder's vocabulary. */
async function scanned(svc: TestService, holder: SnapshotHolder): Promise<ReturnType<typeof plainParts>> {
  return plainParts(await readParts(new ResourceReader(svc.db), holder.current.base.ctx.vocab));
}

/** Some writes: a resource deleted, one moved and renamed, one new. */
async function write(svc: TestService): Promise<{ deleted: string; moved: string }> {
  const base = svc.holder.current.base;
  const [deleted, moved] = [base.idOf(3), base.idOf(7)];
  await svc.edits.remove(deleted, OPERATOR);
  const rows = [
    { id: moved, name: '移动的场馆', type: 'museum', lng: 116.41, lat: 39.91, tags: 'zhi.history', stages: 'primary', source: 'test' },
    { id: 'saved-test-new', name: '新场馆', type: 'library', lng: 116.3, lat: 39.95, tags: 'zhi.reading', stages: 'junior', source: 'test' },
  ];
  expect(await svc.importText(`${HEADER}\n${rows.map(csvLine).join('\n')}`)).toMatchObject({ rejected: [] });
  return { deleted, moved };
}

/** The saved file with its header changed (the arrays after it moved to the next 8-byte boundary). */
function rewriteHeader(file: string, change: (h: Record<string, unknown>) => Record<string, unknown>): void {
  const bytes = readFileSync(file);
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(16, 16 + length).toString('utf8'));
  const align = (n: number) => Math.ceil(n / 8) * 8;
  const data = bytes.subarray(align(16 + length));
  const json = Buffer.from(JSON.stringify(change(header)));
  const lead = Buffer.alloc(align(16 + json.length));
  bytes.copy(lead, 0, 0, 8);
  lead.writeUInt32LE(json.length, 8);
  json.copy(lead, 16);
  writeFileSync(file, Buffer.concat([lead, data]));
}

describe('a saved snapshot base', () => {
  test.each(['inline', 'worker'] as const)('a restart (%s) folds the changes since into the saved base: the parts equal a scan, and deleted resources stay gone', async (build) => {
    const svc = await service();
    const first = await started(svc, { build });
    await first.saveNow();
    expect(first.stats).toMatchObject({ full: 1, loaded: 0, saved: 1 });
    expect(first.loadRefused).toBe('no saved snapshot');
    const file = join(svc.dir, 'edumap.snapshot');
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(svc.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await first.stop();

    const { deleted, moved } = await write(svc);
    const second = await started(svc, { build });
    expect(second.stats).toMatchObject({ full: 0, loaded: 1 });
    expect(second.loadRefused).toBeNull();
    expect(plainParts(second.current.base.parts)).toEqual(await scanned(svc, second));
    expect(second.current.locate(deleted)).toBeUndefined();
    const at = second.current.locate(moved)!;
    expect([at.snap.lng[at.i], at.snap.lat[at.i]]).toEqual([116.41, 39.91]);
    expect(second.current.locate('saved-test-new')).toBeDefined();
    expect(second.current.generation).toBe(svc.holder.current.generation);
    // Changes were folded in: that base is saved for the next start.
    await second.saveNow();
    expect(second.stats.saved).toBe(1);
    await second.stop();

    // Nothing written since: loaded as saved, and the same file is not written again.
    const third = await started(svc, { build });
    await third.saveNow();
    expect(third.stats).toMatchObject({ full: 0, loaded: 1, saved: 0 });
    expect(plainParts(third.current.base.parts)).toEqual(await scanned(svc, third));
  });

  test('a base is saved at once after the start, then no sooner than the interval after the last save', async () => {
    const svc = await service();
    const holder = await started(svc, { saveEveryMs: 3_600_000 });
    await holder.saveNow(); // waits for the save the start began; the base is saved already
    expect(holder.stats.saved).toBe(1);
    await write(svc);
    await holder.rebuild();
    await holder.settled(); // a new base by fold
    expect(holder.stats.folds).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(holder.stats.saved).toBe(1); // its save waits for the interval
    await holder.saveNow();
    expect(holder.stats.saved).toBe(2);
  });

  test('a file that is not of this store and state is refused, and the start scans', async () => {
    const svc = await service();
    const file = join(svc.dir, 'edumap.snapshot');
    await (await started(svc)).saveNow();
    const saved = readFileSync(file);
    const refusedWith = async (prepare: () => void | Promise<void>): Promise<string | null> => {
      writeFileSync(file, saved);
      await prepare();
      const holder = await started(svc);
      expect(holder.stats).toMatchObject({ full: 1, loaded: 0 });
      expect(plainParts(holder.current.base.parts)).toEqual(await scanned(svc, holder));
      await holder.saveNow(); // its own save (of the scan) done before the file is put back
      return holder.loadRefused;
    };
    const header = (change: (h: Record<string, unknown>) => Record<string, unknown>) => () => rewriteHeader(file, change);
    expect(await refusedWith(header((h) => ({ ...h, format: SAVED_FORMAT + 1 })))).toBe(`format ${SAVED_FORMAT + 1}, this version reads ${SAVED_FORMAT}`);
    expect(await refusedWith(header((h) => ({ ...h, vocab: 'f'.repeat(64) })))).toMatch(/another taxonomy or district list/);
    expect(await refusedWith(header((h) => ({ ...h, store: 'another' })))).toMatch(/another store/);
    expect(await refusedWith(header((h) => ({ ...h, publishedSeq: (h.publishedSeq as number) + 5 })))).toMatch(/ahead of the store/);
    expect(await refusedWith(header((h) => ({ ...h, batch: { id: 12345, at: '2020-01-01T08:00:00+08:00' } })))).toMatch(/another batch/);
    expect(await refusedWith(header((h) => ({ ...h, structure: (h.structure as number) - 1 })))).toMatch(/areas or the calendar changed/);
    expect(await refusedWith(() => truncateSync(file, Math.floor(saved.length / 2)))).toBe('cut short');
    expect(await refusedWith(() => writeFileSync(file, 'not a snapshot at all'))).toBe('not a saved snapshot');
    expect(await refusedWith(() => writeFileSync(file, Buffer.concat([saved.subarray(0, 8), Buffer.from([9, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{not json')])))).toBe('its header is not JSON');
    // The header checks out, the file ends early.
    expect(await refusedWith(() => writeFileSync(file, saved.subarray(0, saved.length - 9)))).toBe('cut short');
    // The file comes back as it was: loaded again.
    writeFileSync(file, saved);
    expect((await started(svc)).stats).toMatchObject({ full: 0, loaded: 1 });
  });

  test("a file of another store (another database) is refused: every store has an identity of its own", async () => {
    const one = await service();
    const other = await service();
    await (await started(one)).saveNow();
    const holder = new SnapshotHolder(other.db, other.tax, { savedFile: join(one.dir, 'edumap.snapshot') });
    holders.push(holder);
    await holder.rebuild();
    expect(holder.loadRefused).toBe('made from another store');
    expect(holder.stats).toMatchObject({ full: 1, loaded: 0 });
  });

  test('a base older than the purge of what was written after it is refused, and an old base in memory is scanned, not folded', async () => {
    const svc = await service();
    const file = join(svc.dir, 'edumap.snapshot');
    await (await started(svc)).saveNow();
    const reader = new ResourceReader(svc.db);
    const vocab = svc.holder.current.base.ctx.vocab;
    const old: SnapshotParts = svc.holder.current.base.parts;
    const { deleted } = await write(svc);
    // The deletion's tombstone purged (a retention of 0, a clock a second ahead): the feed's horizon moves past the base.
    await new Maintenance(svc.db, { retentionMs: 0, clock: () => Date.now() + 1000 }).run();
    expect(Number(await svc.db.value("SELECT count(*) FROM resources WHERE id = ?", [deleted]))).toBe(0);
    const folded = await readFolded(reader, old, vocab, 1e9);
    expect(folded.how).toBe('scan');
    expect(plainParts(folded.parts)).toEqual(plainParts(await readParts(reader, vocab)));
    const loaded = await loadSaved(reader, file, vocab, 2000);
    expect(loaded).toEqual({ refused: 'older than the change retention: rows written since were purged' });
    const holder = await started(svc);
    expect(holder.stats).toMatchObject({ full: 1, loaded: 0 });
    expect(holder.current.locate(deleted)).toBeUndefined();
  });

  test('saves leave no temporary file; one of a process that is gone is removed at the next start, one of a live process kept', async () => {
    const svc = await service();
    const file = join(svc.dir, 'edumap.snapshot');
    const gone = `${file}.999999999.0badf00d.tmp`; // no such pid (above Linux's pid_max)
    const live = `${file}.${process.pid}.0badf00d.tmp`;
    writeFileSync(gone, 'half');
    writeFileSync(live, 'half');
    removeStaleTemporaries(file);
    expect([existsSync(gone), existsSync(live)]).toEqual([false, true]);
    const builder = new PartsBuilder(svc.db, 'worker');
    try {
      const parts = svc.holder.current.base.parts;
      const vocab = svc.holder.current.base.ctx.vocab;
      const { bytes } = await builder.save(file, parts, vocab);
      expect(bytes).toBe(readFileSync(file).length);
      expect(readdirSync(svc.dir).filter((f) => f.endsWith('.tmp'))).toEqual([`edumap.snapshot.${process.pid}.0badf00d.tmp`]);
      // Written in the worker, read on the main thread: the same parts.
      const loaded = await loadSaved(new ResourceReader(svc.db), file, vocab, 2000);
      expect('loaded' in loaded && plainParts(loaded.loaded.parts)).toEqual(plainParts(parts));
      // A save into a directory that does not exist fails, and leaves nothing behind.
      await expect(saveParts(new ResourceReader(svc.db), join(svc.dir, 'none', 'x.snapshot'), parts, vocab)).rejects.toThrow(/ENOENT/);
    } finally {
      await builder.close();
    }
  });

  test('is kept beside a SQLite file by default, only where asked for PostgreSQL, never with off', () => {
    const env = { EDUMAP_HASH_KEY: 'k'.repeat(40), EDUMAP_DATA_KEY: 'ab'.repeat(32) };
    expect(loadConfig({ ...env, EDUMAP_DB: '/srv/edumap/edumap.db' }).snapshotFile).toBe('/srv/edumap/edumap.db.snapshot');
    expect(loadConfig({ ...env, EDUMAP_DB: '/srv/edumap/edumap.db', EDUMAP_SNAPSHOT_FILE: 'off' }).snapshotFile).toBeNull();
    expect(loadConfig({ ...env, EDUMAP_DB: 'postgres://edumap@db/edumap' }).snapshotFile).toBeNull();
    expect(loadConfig({ ...env, EDUMAP_DB: 'postgres://edumap@db/edumap', EDUMAP_SNAPSHOT_FILE: '/var/cache/edumap.snapshot' }).snapshotFile)
      .toBe('/var/cache/edumap.snapshot');
    expect(loadConfig({ ...env, EDUMAP_DB: ':memory:' }).snapshotFile).toBeNull();
    expect(loadConfig({ ...env, EDUMAP_SNAPSHOT_SAVE_MINUTES: '5' }).snapshotSaveMs).toBe(300_000);
    expect(() => loadConfig({ ...env, EDUMAP_SNAPSHOT_SAVE_MINUTES: '0' })).toThrow(/EDUMAP_SNAPSHOT_SAVE_MINUTES/);
  });
});
