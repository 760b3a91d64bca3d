import { RateWindows } from '../src/store/rate-windows.js';
import { openStore } from '../src/store/db.js';
import { StoreBusy, StoreUnavailable, type Database } from '../src/store/sql.js';
import { ConflictBudget, SharedStore } from '../src/http/guards.js';
import { AppError } from '../src/errors.js';
import { testService, type TestService } from './support.js';

// The request budgets replicas spend together (rate_windows), on both stores (npm run test:pg runs this file
// again on PostgreSQL); every replica is a second connection to the same database here.

const MINUTE = 60_000;
let svc: TestService;
let other: Database;
beforeEach(async () => {
  svc = await testService({ seed: false });
  other = await openStore(svc.config.dbPath);
});
afterEach(async () => {
  await other.close();
  await svc.close();
});

describe('RateWindows', () => {
  test('counts the hits of a key in one fixed window, from any connection', async () => {
    const a = new RateWindows(svc.db);
    const b = new RateWindows(other);
    expect(await a.hit('search:ip:1', MINUTE, 1000)).toEqual({ hits: 1, resetMs: 1000 + MINUTE });
    expect(await b.hit('search:ip:1', MINUTE, 2000)).toEqual({ hits: 2, resetMs: 1000 + MINUTE });
    expect(await a.hit('search:ip:2', MINUTE, 2000)).toEqual({ hits: 1, resetMs: 2000 + MINUTE });
    expect(await b.get('search:ip:1', 3000)).toEqual({ hits: 2, resetMs: 1000 + MINUTE });
  });

  test('a hit after the window ended starts a new one at 1', async () => {
    const w = new RateWindows(svc.db);
    for (let n = 0; n < 5; n++) await w.hit('k', MINUTE, 0);
    expect(await w.get('k', MINUTE)).toBeUndefined(); // ended exactly at its reset
    expect(await w.hit('k', MINUTE, MINUTE)).toEqual({ hits: 1, resetMs: 2 * MINUTE });
  });

  test('concurrent hits from two connections are none of them lost', async () => {
    const [a, b] = [new RateWindows(svc.db), new RateWindows(other)];
    const counts = await Promise.all(Array.from({ length: 40 }, (_, n) => (n % 2 ? a : b).hit('busy', MINUTE, 5)));
    expect(counts.map((c) => c.hits).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
  });

  test('unhit gives one back, never below zero; reset forgets the key', async () => {
    const w = new RateWindows(svc.db);
    await w.hit('k', MINUTE, 0);
    await w.unhit('k', 1);
    await w.unhit('k', 1);
    expect(await w.get('k', 1)).toEqual({ hits: 0, resetMs: MINUTE });
    await w.reset('k');
    expect(await w.get('k', 1)).toBeUndefined();
  });

  test('sweep deletes the windows that ended, and only those', async () => {
    const w = new RateWindows(svc.db);
    await w.hit('old', MINUTE, 0);
    await w.hit('new', MINUTE, 30_000);
    expect(await w.sweep(MINUTE)).toBe(1);
    expect(await svc.db.all('SELECT key FROM rate_windows')).toEqual([{ key: 'new' }]);
  });
});

describe('SharedStore (express-rate-limit)', () => {
  test('two replicas spend one budget', async () => {
    let now = 0;
    const clock = () => now;
    const a = new SharedStore(new RateWindows(svc.db), MINUTE, 'search', undefined, clock);
    const b = new SharedStore(new RateWindows(other), MINUTE, 'search', undefined, clock);
    expect((await a.increment('ip:1')).totalHits).toBe(1);
    expect((await b.increment('ip:1')).totalHits).toBe(2);
    expect(await a.get('ip:1')).toEqual({ totalHits: 2, resetTime: new Date(MINUTE) });
    await b.decrement('ip:1');
    expect((await a.increment('ip:1')).totalHits).toBe(2);
    now = MINUTE;
    expect((await b.increment('ip:1')).totalHits).toBe(1);
    a.shutdown();
    b.shutdown();
  });

  test('budgets of other names are other keys', async () => {
    const search = new SharedStore(new RateWindows(svc.db), MINUTE, 'search');
    const booking = new SharedStore(new RateWindows(svc.db), MINUTE, 'booking');
    await search.increment('ip:1');
    expect((await booking.increment('ip:1')).totalHits).toBe(1);
    search.shutdown();
    booking.shutdown();
  });

  test('while the database cannot count, this process counts in memory, and the database again a second later', async () => {
    let now = 1_000_000;
    let failure: Error | undefined = new StoreUnavailable('the PostgreSQL database postgres://db/x cannot be reached');
    const real = new RateWindows(svc.db);
    const failing = {
      hit: (...args: Parameters<RateWindows['hit']>) => (failure ? Promise.reject(failure) : real.hit(...args)),
      get: (...args: Parameters<RateWindows['get']>) => (failure ? Promise.reject(failure) : real.get(...args)),
    } as unknown as RateWindows;
    const fallbacks: unknown[] = [];
    const store = new SharedStore(failing, MINUTE, 'search', (e) => fallbacks.push(e), () => now);
    expect((await store.increment('ip:1')).totalHits).toBe(1);
    expect((await store.increment('ip:1')).totalHits).toBe(2);
    expect(fallbacks).toHaveLength(1); // left alone for a second after a failure
    failure = undefined;
    expect((await store.increment('ip:1')).totalHits).toBe(3); // still in memory within the second
    now += 1000;
    expect((await store.increment('ip:1')).totalHits).toBe(1); // the database again
    failure = new StoreBusy('lock timeout');
    now += 1;
    expect((await store.increment('ip:1')).totalHits).toBe(4);
    expect(fallbacks).toHaveLength(2);
    store.shutdown();
  });

  test('any other failure is a bug and is thrown', async () => {
    const broken = { hit: () => Promise.reject(new TypeError('a bug')) } as unknown as RateWindows;
    const store = new SharedStore(broken, MINUTE, 'search');
    await expect(store.increment('ip:1')).rejects.toThrow(TypeError);
    store.shutdown();
  });
});

test('the visitor-conflict budget is one budget over two replicas', async () => {
  const a = new ConflictBudget(2, Date.now, new RateWindows(svc.db));
  const b = new ConflictBudget(2, Date.now, new RateWindows(other));
  await a.check('ip:9');
  await a.record('ip:9');
  await b.record('ip:9');
  const headers: Record<string, string> = {};
  const refused = a.check('ip:9', { setHeader: (k: string, v: string | number | readonly string[]) => { headers[k] = String(v); return undefined as never; } });
  await expect(refused).rejects.toMatchObject({ code: 'rate_limited' });
  await expect(b.check('ip:9')).rejects.toBeInstanceOf(AppError);
  expect(Number(headers['Retry-After'])).toBeGreaterThan(3500);
  await b.check('ip:other');
});
