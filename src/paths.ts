import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates a directory and its missing parents one level at a time. (Node's recursive mkdir loops forever on
 * some virtual file systems, e.g. under /proc, where a missing parent keeps answering ENOENT.)
 */
export function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    let isDirectory: boolean | undefined;
    try {
      isDirectory = statSync(at).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (isDirectory === false) throw new Error(`${at} is not a directory`);
    if (isDirectory) break;
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing) {
    try {
      mkdirSync(at);
    } catch (e) {
      throw new Error(`cannot create the directory ${at} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }
}
