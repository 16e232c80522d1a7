// Writes docs/ct-grammar.html: railroad diagrams of the .ct grammar, drawn
// by chevrotain from the parser in compiler/frontend/dsl/parser.ts.
// test/unit/ct-language.test.ts checks that the committed file is current.
//
//   node scripts/gen-ct-grammar.mjs

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.build', 'gen-ct-grammar.mjs');
mkdirSync(dirname(out), { recursive: true });
await build({
  entryPoints: [join(root, 'compiler', 'frontend', 'dsl', 'parser.ts')],
  outfile: out,
  bundle: true,
  format: 'esm',
  platform: 'node',
  packages: 'external',
  logLevel: 'warning',
});
const { grammarHtml } = await import(pathToFileURL(out).href);
writeFileSync(join(root, 'docs', 'ct-grammar.html'), await grammarHtml());
