/**
 * Builds the pages from `web/` into `public/build/` (ignored by git): the map page (`index.html`) and the
 * venue console (`venue.html`), each one ES module bundle and one stylesheet with content-hashed names under
 * `assets/`, everything from npm packages (Leaflet, polylabel, gcoord), nothing fetched from elsewhere at
 * run time, and each page's HTML pointing at its files.
 *
 *   npm run build:web                   (npm start and npm test run it first)
 *   npm run build:web -- --sourcemap    source maps beside the bundle, for debugging; refused when NODE_ENV=production
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from '../src/config.js';

/** Where the page's sources are, and where the built page goes (served by src/http/routes/web.ts). */
export const WEB_SRC = join(ROOT, 'web');
export const WEB_OUT = join(ROOT, 'public', 'build');

/** What a build wrote, relative to `outDir`: the map page's bundle and stylesheet, and the venue console's. */
export interface WebBuild { js: string; css: string; venue: { js: string; css: string }; favicon: string; bytes: number; ms: number; sourcemap: boolean }

/** The pages: an entry point under `web/src/` and the HTML under `web/` that names its files. */
const PAGES = { app: { entry: 'main.ts', html: 'index.html' }, venue: { entry: 'venue.ts', html: 'venue.html' } } as const;

/** How to build. */
export interface WebBuildOptions {
  /** Minify the bundle (default true). */
  minify?: boolean;
  /** Write linked source maps beside the bundle (default false: a served page never carries its sources). */
  sourcemap?: boolean;
}

/**
 * Bundles the page into `outDir`. Each file appears whole (written aside, then renamed), assets before the
 * `index.html` that names them, and files of earlier builds are removed after: so a server may serve from
 * `outDir` while it is rebuilt, and two builds of the same sources may run at once (the test files do).
 * Throws with esbuild's messages on a compile error.
 */
export async function buildWeb(outDir: string = WEB_OUT, options: WebBuildOptions = {}): Promise<WebBuild> {
  const started = performance.now();
  const sourcemap = options.sourcemap ?? false;
  const assets = join(outDir, 'assets');
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(PAGES).map(([name, p]) => [name, join(WEB_SRC, 'src', p.entry)])),
    outdir: assets,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: options.minify ?? true,
    sourcemap,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    loader: { '.png': 'file', '.svg': 'file' },
    metafile: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'linked',
  });
  const written = new Set<string>();
  const put = (path: string, contents: string | Uint8Array) => {
    mkdirSync(dirname(path), { recursive: true });
    const aside = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(aside, contents);
    renameSync(aside, path);
    written.add(path);
  };
  for (const file of result.outputFiles) put(file.path, file.contents);

  const outputs = result.outputFiles.map((f) => relative(outDir, f.path));
  const icon = readFileSync(join(WEB_SRC, 'favicon.svg'));
  const favicon = `assets/favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  put(join(outDir, favicon), icon);

  const files = {} as Record<keyof typeof PAGES, { js: string; css: string }>;
  for (const name of Object.keys(PAGES) as (keyof typeof PAGES)[]) {
    const js = outputs.find((o) => new RegExp(`${name}-[\\w]+\\.js$`).test(o));
    const css = outputs.find((o) => new RegExp(`${name}-[\\w]+\\.css$`).test(o));
    if (!js || !css) throw new Error(`esbuild wrote no ${name} bundle: ${outputs.join(', ')}`);
    files[name] = { js, css };
  }
  // The assets first, then the pages that name them.
  for (const [name, p] of Object.entries(PAGES) as [keyof typeof PAGES, (typeof PAGES)[keyof typeof PAGES]][]) {
    const html = readFileSync(join(WEB_SRC, p.html), 'utf8')
      .replaceAll('%JS%', `/${files[name].js}`).replaceAll('%CSS%', `/${files[name].css}`).replaceAll('%FAVICON%', `/${favicon}`);
    put(join(outDir, p.html), html);
  }

  // Whatever an earlier build left (other hashes, source maps of a debugging build) goes now.
  for (const name of readdirSync(assets)) {
    const path = join(assets, name);
    if (!written.has(path) && !name.endsWith('.tmp')) rmSync(path, { force: true });
  }
  const bytes = result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
  return { ...files.app, venue: files.venue, favicon, bytes, ms: Math.round(performance.now() - started), sourcemap };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sourcemap = process.argv.includes('--sourcemap');
  if (sourcemap && process.env.NODE_ENV === 'production') {
    console.error('build:web: --sourcemap is refused with NODE_ENV=production (a production page never serves its sources)');
    process.exit(2);
  }
  buildWeb(WEB_OUT, { sourcemap }).then((b) => {
    console.log(`pages built in ${b.ms} ms: ${basename(b.js)}, ${basename(b.css)}, ${basename(b.venue.js)}, ${basename(b.venue.css)} (${(b.bytes / 1024).toFixed(0)} KiB${b.sourcemap ? ' with source maps' : ''}) → ${relative(process.cwd(), WEB_OUT)}/`);
  }).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
