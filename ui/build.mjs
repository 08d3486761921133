// build.mjs: bundles ui/src into ui/dist with esbuild (from npm, lockfile-pinned).
//
//   node build.mjs           one production build (what `make ui` runs)
//   node build.mjs --watch   rebuild on change while developing
//
// Output: dist/index.html plus dist/assets/<name>-<hash>.{js,css}. Asset names
// carry a content hash so the server may cache /assets/* forever; index.html
// must not be cached. The build is deterministic: the same sources give the
// same bytes, so committing dist/ does not churn.
import * as esbuild from 'esbuild';
import { readFile, writeFile, rm, mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const watch = process.argv.includes('--watch');

const options = {
  absWorkingDir: here,
  entryPoints: { main: 'src/main.js' },
  bundle: true,
  format: 'esm',
  splitting: true, // CodeMirror and uPlot load only with the pages that use them
  outdir: 'dist/assets',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  minify: !watch,
  sourcemap: false,
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
};

async function writeIndex(metafile) {
  let js = '', css = '';
  for (const [out, meta] of Object.entries(metafile.outputs)) {
    if (meta.entryPoint === 'src/main.js') {
      js = out;
      css = meta.cssBundle || '';
    }
  }
  if (!js || !css) throw new Error('build: entry outputs not found in metafile');
  const rel = (p) => './' + relative('dist', p).split('\\').join('/');
  const html = (await readFile(join(src, 'index.html'), 'utf8'))
    .replace('%MAIN_JS%', rel(js))
    .replace('%MAIN_CSS%', rel(css));
  await writeFile(join(dist, 'index.html'), html);
}

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{
      name: 'index-html',
      setup(b) { b.onEnd(async (r) => { if (r.metafile) await writeIndex(r.metafile); console.log('ui: rebuilt'); }); },
    }],
  });
  await ctx.watch();
  console.log('ui: watching src/ (Ctrl+C to stop)');
} else {
  const result = await esbuild.build(options);
  await writeIndex(result.metafile);
  const files = Object.keys(result.metafile.outputs).length + 1;
  console.log(`ui: built ${files} files into dist/`);
}
