import { Worker } from 'node:worker_threads';
import { setPriority } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Starts a worker thread running the module `name` (without extension) next to `base` (a module's
 * `import.meta.url`): the compiled `.js`, or, run from TypeScript sources (`tsx`, jest), a bootstrap that
 * registers tsx in the thread first (a thread does not inherit the main thread's loader).
 */
export function startThread(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const target = new URL(`./${name}.ts`, base).href;
  const boot = `import(${JSON.stringify(tsxEntry(base))}).then((api) => { api.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** tsx's ESM entry, as its package.json names it (require.resolve would give the CommonJS one). */
function tsxEntry(base: string): string {
  const manifest = createRequire(base).resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href;
}

/** The nice value of background threads (snapshot builds, an import's row checks): below the request thread's. */
const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's CPU priority (Linux keeps a nice value per thread): called first by threads
 * whose work nothing waits on at once, so that on a busy machine the thread answering requests runs first.
 * Threads that take locks others wait on (the WAL checkpointer) keep their priority. Where the system
 * refuses, the thread runs as it is.
 */
export function runInBackground(): void {
  try {
    setPriority(BACKGROUND_NICE);
  } catch {
    // not permitted here: the work only runs at the process's priority
  }
}
