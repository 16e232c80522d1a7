// The house's habits, checked (issue 21): Biome lints and formats the
// TypeScript and the scripts (biome.jsonc), clang-format formats native/
// (.clang-format). The C has no linter of its own beyond the build's
// -Wall -Wextra -Werror (docs/contributing.md says why).
//
//   node scripts/lint.mjs            lint, and check the formatting (npm run lint; CI)
//   node scripts/lint.mjs --no-format   lint only
//   node scripts/lint.mjs --write    rewrite the formatting of every file (npm run format)
//
// Exits 1 on any finding: Biome's infos too, which its own exit status ignores.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((a) => !['--no-format', '--write'].includes(a));
if (unknown.length > 0 || (args.has('--write') && args.has('--no-format'))) {
  console.error('usage: node scripts/lint.mjs [--no-format | --write]');
  process.exit(2);
}
const biome = join(root, 'node_modules', '.bin', 'biome');

/** Runs a command in the repository, its output passed through; its exit status, or a message if it could not start. */
function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`lint: cannot run ${cmd}: ${r.error.message}`);
    return 127;
  }
  return r.status ?? 1;
}

/** native/'s and test/native/'s .c and .h files, sorted (the fuzz corpus' inputs have no such names); not the generated *.gen.h, which their generators write. */
function cFiles(dir = join(root, 'native')) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) =>
      e.isDirectory()
        ? cFiles(join(dir, e.name))
        : /\.[ch]$/.test(e.name) && !e.name.endsWith('.gen.h')
          ? [relative(root, join(dir, e.name))]
          : [],
    );
}

/** Biome: the linter, and with format the formatter too ("check"); any diagnostic, infos included, is a finding. */
function biomeCheck(format) {
  const tmp = mkdtempSync(join(tmpdir(), 'ctc-lint-'));
  try {
    const report = join(tmp, 'report.json');
    const status = run(biome, [
      format ? 'check' : 'lint',
      '--error-on-warnings',
      '--max-diagnostics=none',
      '--reporter=default',
      '--reporter=json',
      `--reporter-file=${report}`,
    ]);
    let summary;
    try {
      ({ summary } = JSON.parse(readFileSync(report, 'utf8')));
    } catch (e) {
      console.error(`lint: no report from biome (${e.message})`);
      return 1;
    }
    return status !== 0 || summary.errors + summary.warnings + summary.infos > 0 ? 1 : 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function clangFormat(write) {
  const mode = write ? ['-i'] : ['--dry-run', '--Werror'];
  const status = run('clang-format', [...mode, ...cFiles(), ...cFiles(join(root, 'test', 'native'))]);
  if (status === 127) console.error('lint: clang-format formats native/: apt-get install clang-format');
  return status === 0 ? 0 : 1;
}

let failed = 0;
if (args.has('--write')) {
  failed |= run(biome, ['format', '--write']) === 0 ? 0 : 1;
  failed |= clangFormat(true);
} else {
  const format = !args.has('--no-format');
  failed |= biomeCheck(format);
  if (format) failed |= clangFormat(false);
}
process.exit(failed);
