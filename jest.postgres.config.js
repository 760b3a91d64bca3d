/**
 * The second half of `npm test`: the store, booking, import and HTTP suites again, on PostgreSQL. A throwaway
 * cluster is started for the run (test/postgres/global-setup.mjs); each test gets a fresh database.
 */
import base from './jest.config.js';

export default {
  ...base,
  displayName: 'postgres',
  testMatch: [
    '<rootDir>/test/postgres/**/*.test.ts',
    ...['booking', 'booking-domain', 'venues', 'waitlist-workers', 'workers', 'maintain', 'import', 'keys', 'search', 'resources-http', 'build-worker', 'overlay', 'saved', 'rate-windows']
      .map((name) => `<rootDir>/test/${name}.test.ts`),
  ],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/postgres/global-setup.mjs',
  globalTeardown: '<rootDir>/test/postgres/global-teardown.mjs',
};
