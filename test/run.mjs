// `npm test`: bundles the TypeScript tests with esbuild, runs them with uvu,
// then checks that the suite left nothing on the host. Ends with one line:
// `N passed, N failed`.

import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { hostResidue } from './residue.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// One folder per run: two runs at once (a developer's and a helper's) must not share bundles.
const out = join(root, '.build', `test-${process.pid}`);
const filters = process.argv.slice(2); // optional: only test files whose path contains one of these

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
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

/**
 * test/unit needs neither root nor the kernel's container features: run as
 * root, its files run as nobody (setpriv), so a test there that starts to
 * need them fails here instead of passing only for root. The rest
 * (integration/, hostile/) run as root.
 */
function asNobody() {
  // A folder inside the checkout that the tests may write (ctc init inside a checkout)
  const scratch = join(out, 'scratch');
  mkdirSync(scratch);
  if (process.getuid?.() !== 0 || process.env.CTC_TEST_UNIT_AS_ROOT === '1')
    return { prefix: [], env: { ...process.env, CTC_TEST_SCRATCH: scratch } };
  const home = mkdtempSync(join(tmpdir(), 'ctc-test-home-'));
  chownSync(home, 65534, 65534);
  chownSync(scratch, 65534, 65534);
  // git refuses a repository another user owns (file-sizes lists the tracked files)
  const git = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: '*' };
  const env = { ...process.env, ...git, HOME: home, CTC_TEST_SCRATCH: scratch };
  return { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--'], env, home };
}

/** One uvu run over a folder of bundles: its Total/Passed/Skipped, and its exit code. */
async function uvuRun(dir, as = { prefix: [], env: process.env }) {
  const argv = [...as.prefix, process.execPath, join(root, 'node_modules', 'uvu', 'bin.js'), dir, '.mjs$', ...color];
  const uvu = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: as.env });
  let text = '';
  uvu.stdout.on('data', (d) => {
    text += d;
    process.stdout.write(d);
  });
  const code = await new Promise((resolve) => uvu.on('close', resolve));
  text = text.replace(/\x1b\[[0-9;]*m/g, '');
  const n = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
  // A crash before uvu's summary is one failure, not zero.
  const failed = n('Total') - n('Passed') - n('Skipped') || (code === 0 ? 0 : 1);
  return { passed: n('Passed'), failed };
}

const groups = [...new Set(files.map((f) => relative(join(root, 'test'), f).split('/')[0]))].sort();
let passed = 0;
let failed = 0;
for (const group of groups) {
  const as = group === 'unit' ? asNobody() : undefined;
  const r = await uvuRun(join(out, group), as);
  if (as?.home) rmSync(as.home, { recursive: true, force: true });
  passed += r.passed;
  failed += r.failed;
}
rmSync(cache, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });

const left = hostResidue().filter((x) => !before.includes(x));
if (left.length) {
  console.log(`\n  FAIL  the tests left this on the host:\n${left.map((x) => `    ${x}`).join('\n')}`);
  failed++;
} else {
  console.log(`  ok  nothing left on the host (cgroups, mounts, state, processes, links, netns, nft tables) after ${relative(root, out)}`);
}
console.log(`\n${passed + (left.length ? 0 : 1)} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
