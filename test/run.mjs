// `npm test`: bundles the TypeScript tests with esbuild, runs them with uvu,
// then checks that the suite left nothing on the host. Ends with one line:
// `N passed, N failed`.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { hostResidue } from './residue.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// One folder per run: two runs at once (a developer's and a helper's) must not share bundles.
const out = join(root, '.build', `test-${process.pid}`);
const filters = process.argv.slice(2); // optional: only test files whose path contains one of these

const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
const files = walk(join(root, 'test')).filter((f) => f.endsWith('.test.ts') && (!filters.length || filters.some((x) => f.includes(x))));

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: files,
  outdir: out,
  outbase: join(root, 'test'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});

const before = hostResidue();
if (before.length) console.log(`  note: the host held this before the tests (another run?):\n${before.map((x) => `    ${x}`).join('\n')}`);
// The run images the tests' containers leave (executor/native-bridge/run-image.ts) go to a cache of their own.
const cache = mkdtempSync(join(tmpdir(), 'ctc-cache-'));
process.env.CTC_CACHE_DIR = cache;
const color = process.stdout.isTTY ? [] : ['--no-color'];
const uvu = spawn(process.execPath, [join(root, 'node_modules', 'uvu', 'bin.js'), out, '.mjs$', ...color], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let text = '';
uvu.stdout.on('data', (d) => {
  text += d;
  process.stdout.write(d);
});
const code = await new Promise((resolve) => uvu.on('close', resolve));
rmSync(cache, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });

text = text.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
// A crash before uvu's summary is one failure, not zero.
let failed = total - passed - skipped || (code === 0 ? 0 : 1);

const left = hostResidue().filter((x) => !before.includes(x));
if (left.length) {
  console.log(`\n  FAIL  the tests left this on the host:\n${left.map((x) => `    ${x}`).join('\n')}`);
  failed++;
} else {
  console.log(`  ok  nothing left on the host (cgroups, mounts, state, processes, links, netns, nft tables) after ${relative(root, out)}`);
}
console.log(`\n${passed + (left.length ? 0 : 1)} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
