// The lint of `npm test`: a short list of safety rules, and the boundaries between layers enforced rather
// than hoped for (express only in src/http, database drivers only in src/store, no import cycles).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const httpOnly = { name: 'express', message: 'express belongs to src/http: the domain answers values, routes send them' };
const storeOnly = [
  { name: 'better-sqlite3', message: 'the database driver belongs to src/store: use the Database interface (src/store/sql.ts)' },
  { name: 'pg', message: 'the database driver belongs to src/store: use the Database interface (src/store/sql.ts)' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'public/**', 'var/**', 'coverage/**', 'test-artifacts/**', 'bench-results/**', 'web/**', 'scripts/tmp/**'] },
  {
    files: ['src/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'always'],
      'no-throw-literal': 'error',
      'no-control-regex': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-restricted-imports': ['error', { paths: [httpOnly, ...storeOnly] }],
    },
  },
  {
    files: ['src/http/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: storeOnly }] },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [httpOnly] }] },
  },
);
