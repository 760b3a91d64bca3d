/**
 * Builds the map page from `web/` into `public/build/` (ignored by git): one ES module bundle and one
 * stylesheet with content-hashed names under `assets/`, everything from npm packages (Leaflet, polylabel),
 * nothing fetched from elsewhere at run time, and `index.html` pointing at them.
 *
 *   npm run build:web            (npm start and npm test run it first)
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from '../src/config.js';

/** Where the page's sources are, and where the built page goes (served by src/http/routes/web.ts). */
export const WEB_SRC = join(ROOT, 'web');
export const WEB_OUT = join(ROOT, 'public', 'build');

/** What a build wrote, relative to `outDir`. */
export interface WebBuild { js: string; css: string; favicon: string; bytes: number; ms: number }

/** Bundles the page into `outDir` (emptied first). Throws with esbuild's messages on a compile error. */
export async function buildWeb(outDir: string = WEB_OUT, options: { minify?: boolean } = {}): Promise<WebBuild> {
  const started = performance.now();
  rmSync(outDir, { recursive: true, force: true });
  const assets = join(outDir, 'assets');
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(WEB_SRC, 'src', 'main.ts') },
    outdir: assets,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: options.minify ?? true,
    sourcemap: true,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    loader: { '.png': 'file', '.svg': 'file' },
    metafile: true,
    logLevel: 'silent',
    legalComments: 'linked',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => relative(outDir, join(ROOT, p)));
  const js = outputs.find((p) => /app-[\w]+\.js$/.test(p));
  const css = outputs.find((p) => /app-[\w]+\.css$/.test(p));
  if (!js || !css) throw new Error(`esbuild wrote no app bundle: ${outputs.join(', ')}`);

  const icon = readFileSync(join(WEB_SRC, 'favicon.svg'));
  const favicon = `assets/favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  copyFileSync(join(WEB_SRC, 'favicon.svg'), join(outDir, favicon));

  const html = readFileSync(join(WEB_SRC, 'index.html'), 'utf8')
    .replaceAll('%JS%', `/${js}`).replaceAll('%CSS%', `/${css}`).replaceAll('%FAVICON%', `/${favicon}`);
  writeFileSync(join(outDir, 'index.html'), html);
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  return { js, css, favicon, bytes, ms: Math.round(performance.now() - started) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildWeb().then((b) => {
    console.log(`map page built in ${b.ms} ms: ${basename(b.js)}, ${basename(b.css)} (${(b.bytes / 1024).toFixed(0)} KiB with source maps) → ${relative(process.cwd(), WEB_OUT)}/`);
  }).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
