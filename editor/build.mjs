// Bundles src/editor.js into one self-contained ES module at
// public/editor/editor.js, served at /editor/editor.js and imported on demand by
// app/js/editor_loader.js when an editor mounts.
// Run with `npm run build --prefix editor`; scripts/tools.sh does it when stale.
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const outfile = join(here, '..', 'public', 'editor', 'editor.js')

mkdirSync(dirname(outfile), { recursive: true })

await build({
  entryPoints: [join(here, 'src', 'editor.js')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  // Third-party licence notices stay, collected at the end of the file.
  legalComments: 'eof',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
})

const bytes = readFileSync(outfile)
const kib = n => `${(n / 1024).toFixed(1)} KiB`
console.log(
  `editor: wrote ${relative(process.cwd(), outfile)} (${kib(bytes.length)}, ${kib(gzipSync(bytes).length)} gzip)`,
)
