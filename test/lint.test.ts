import { ESLint } from 'eslint';
import { ROOT } from './support.js';

/**
 * The boundaries the lint enforces, shown on code that breaks them: each snippet is linted as if it were
 * the file named, against the real tree, and must be refused by the rule named. (`npm test` runs
 * `npm run lint` over the whole tree before jest.)
 */
const eslint = new ESLint({ cwd: ROOT });

async function rulesHit(text: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: `${ROOT}/${filePath}` });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

test('express outside src/http is refused', async () => {
  expect(await rulesHit("import express from 'express';\nexport const app = express;\n", 'src/engine/search.ts')).toContain('no-restricted-imports');
  expect(await rulesHit("import express from 'express';\nexport const app = express;\n", 'src/http/app.ts')).not.toContain('no-restricted-imports');
});

test('the database driver outside src/store is refused', async () => {
  expect(await rulesHit("import Database from 'better-sqlite3';\nexport const D = Database;\n", 'src/booking/bookings.ts')).toContain('no-restricted-imports');
  expect(await rulesHit("import Database from 'better-sqlite3';\nexport const D = Database;\n", 'src/http/app.ts')).toContain('no-restricted-imports');
  expect(await rulesHit("import Database from 'better-sqlite3';\nexport const D = Database;\n", 'src/store/sqlite.ts')).not.toContain('no-restricted-imports');
});

test('an import cycle is refused', async () => {
  // booking/bookings imports store/sql (StoreBusy): store/sql importing the booking module closes a cycle.
  const text = "import { Bookings } from '../booking/bookings.js';\nexport const b = Bookings;\n";
  expect(await rulesHit(text, 'src/store/sql.ts')).toContain('import-x/no-cycle');
});

test('a floating promise is refused', async () => {
  const text = 'async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n';
  expect(await rulesHit(text, 'src/time.ts')).toContain('@typescript-eslint/no-floating-promises');
});
