// ctc installed as a user installs it (issue 22): `npm pack` of this
// checkout, `npm install -g` of that tarball into a prefix of its own, then
// in a fresh folder outside the clone, with the prefix's bin and node's
// folder on PATH (and not the clone's dist/): `ctc init`, the project's
// devDependencies installed, `ctc build`, `ctc run`, `npx ctc` (the
// project's own, not the registry's `ctc`), `npx tsc --noEmit` (a tsconfig
// with no absolute paths finds 'ctc' in node_modules). Needs root (ctc run),
// cc and nettle-dev (the package's install script builds its native parts).
//
// What comes from where:
// - ctc-compiler: the tarball, packed with --ignore-scripts from the dist/
//   the suite was built with (prepack would rebuild dist/ under the tests
//   that use it; it runs scripts/build.mjs, the same build);
// - its dependencies (typescript, cosmiconfig and theirs) and the project's
//   typescript: npm's cache, --prefer-offline: the registry is asked only for
//   what the cache lacks (on a machine that ran `npm ci`, nothing or the
//   metadata). The package is not published: the project gets it from the
//   same tarball, with --no-save, so its package.json stays as ctc init wrote it.
// Takes 40 to 75 s on a busy 2-core machine: two installs, each building the
// native programs and the build snapshot.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PACKAGE_NAME, packageManifest } from '../../common/package.ts';
import { root, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-install-');
test.after(() => tmp.remove());

const prefix = join(tmp.dir, 'prefix');
const home = join(tmp.dir, 'work');
/** The installed ctc and node, and the system's tools (cc for the install script), but nothing of this checkout. */
const PATH = [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':');
/** Not the suite's environment: npm_config_* from an `npm test` would steer the installs. */
const env = {
  PATH,
  HOME: process.env.HOME ?? '/root',
  LANG: 'C.UTF-8',
  // the run image of `ctc run` goes where the suite's others go (test/run.mjs), not to /run/ctc-cache
  ...(process.env.CTC_CACHE_DIR ? { CTC_CACHE_DIR: process.env.CTC_CACHE_DIR } : {}),
};

function sh(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(command, args, { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 300_000 });
  const said = `${command} ${args.join(' ')} (in ${cwd}): ${r.error?.message ?? ''}\n${r.stdout}\n${r.stderr}`;
  return { ...r, said };
}

let tarball = '';

test('npm pack: the bundles, the man page, the native sources and the stdlib; no tests', () => {
  for (const f of ['ctc.mjs', 'build-snapshot.cjs', 'ctc.1'])
    assert.ok(existsSync(join(root, 'dist', f)), `dist/${f}: run node scripts/build.mjs first`);
  const r = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir], root);
  assert.is(r.status, 0, r.said);
  const [packed] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp.dir, packed.filename);
  const files = packed.files.map((f) => f.path);
  for (const f of [
    'dist/ctc.mjs',
    'dist/build-snapshot.cjs',
    'dist/ctc.1',
    'scripts/build.mjs',
    'native/launcher/main.c',
    'native/init/main.c',
    'stdlib/index.ts',
    'stdlib/lint.ts',
  ]) {
    assert.ok(files.includes(f), `the package holds ${f}`);
  }
  assert.not.ok(
    files.some((f) => /^(test|cli|bench)\//.test(f) || f.endsWith('.map')),
    `no tests, CLI sources or source maps: ${files.join(' ')}`,
  );
});

test('npm install -g of the tarball: ctc on the PATH, its install script built the native parts, the man page linked', () => {
  // npm 11 runs a dependency's install script only if allowed (else, by
  // default, with a warning; --strict-allow-scripts: not at all, an error).
  // A tarball is allowed by its file: spec, a registry package by its name
  // (docs/install.md). Older npms ignore both flags.
  const allow = [`--allow-scripts=file:${tarball}`, '--strict-allow-scripts'];
  // npm 11.19's strict check looks at the global folder before it makes it (ENOENT otherwise)
  mkdirSync(join(prefix, 'lib', 'node_modules'), { recursive: true });
  const r = sh('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', ...allow, '--prefix', prefix, tarball], tmp.dir);
  assert.is(r.status, 0, r.said);
  const installed = join(prefix, 'lib', 'node_modules', PACKAGE_NAME);
  for (const f of ['ctc', 'ctc-init', 'build.blob']) assert.ok(existsSync(join(installed, 'dist', f)), `dist/${f} built at install`);
  assert.is(sh('sh', ['-c', 'command -v ctc'], tmp.dir).stdout.trim(), join(prefix, 'bin', 'ctc'));
  assert.ok(existsSync(join(prefix, 'share', 'man', 'man1', 'ctc.1')), 'man ctc finds ctc.1 under the prefix');
  const version = sh('ctc', ['--version'], tmp.dir);
  assert.is(version.status, 0, version.said);
  assert.match(version.stdout, `ctc version ${packageManifest().version}`);
});

test('a fresh folder outside the clone: ctc init, npm install, ctc build, ctc run, npx ctc, npx tsc --noEmit', () => {
  mkdirSync(home);
  const init = sh('ctc', ['init', 'web'], home);
  assert.is(init.status, 0, init.said);
  assert.match(init.stdout, /^\s+npm install\b/m);
  assert.match(init.stdout, /^\s+ctc build app\.ct\.ts\b/m);
  assert.match(init.stdout, /^\s+ctc run\b/m);
  const web = join(home, 'web');
  const pkg = readFileSync(join(web, 'package.json'), 'utf8');
  const tsconfig = readFileSync(join(web, 'tsconfig.json'), 'utf8');
  assert.equal(Object.keys(JSON.parse(pkg).devDependencies).sort(), [PACKAGE_NAME, 'typescript']);
  for (const [name, text] of [
    ['package.json', pkg],
    ['tsconfig.json', tsconfig],
  ]) {
    assert.not.match(text, /"\//, `${name} names no absolute path`);
    assert.not.ok(text.includes(tmp.dir) || text.includes(root), `${name} names neither the clone nor the prefix`);
  }

  // The package is not on the registry: the same tarball, without touching package.json.
  const typescript = `typescript@${packageManifest().dependencies.typescript}`;
  const install = sh('npm', ['install', '--no-save', '--prefer-offline', '--no-audit', '--no-fund', tarball, typescript], web);
  assert.is(install.status, 0, install.said);
  assert.is(readFileSync(join(web, 'package.json'), 'utf8'), pkg, 'package.json as ctc init wrote it');
  assert.ok(existsSync(join(web, 'node_modules', PACKAGE_NAME, 'dist', 'ctc-init')), "the project's ctc built at install (allowScripts)");

  const built = sh('ctc', ['build', 'app.ct.ts'], web);
  assert.is(built.status, 0, built.said);
  const run = sh('ctc', ['run'], web);
  assert.is(run.status, 0, run.said);
  assert.match(run.stdout, /^hello from app, pid 1$/m);

  // npx ctc: the project's devDependency, which builds the same plan
  assert.is(realpathSync(join(web, 'node_modules', '.bin', 'ctc')), join(realpathSync(web), 'node_modules', PACKAGE_NAME, 'dist', 'ctc'));
  const npx = sh('npx', ['--no-install', 'ctc', 'build', 'app.ct.ts', '-o', 'again.plan'], web);
  assert.is(npx.status, 0, npx.said);
  assert.is(readFileSync(join(web, 'again.plan'), 'utf8'), readFileSync(join(web, 'app.plan'), 'utf8'));

  // npx ctc init in the project: the project's ctc, by a relative path; no package.json of its own
  const sub = sh('npx', ['--no-install', 'ctc', 'init', 'sub'], web);
  assert.is(sub.status, 0, sub.said);
  assert.not.ok(existsSync(join(web, 'sub', 'package.json')));
  assert.equal(JSON.parse(readFileSync(join(web, 'sub', 'tsconfig.json'), 'utf8')).compilerOptions.paths.ctc, [
    `../node_modules/${PACKAGE_NAME}/stdlib/index.ts`,
  ]);
  assert.match(sub.stdout, /^\s+npx ctc build app\.ct\.ts\b/m);
  assert.not.match(sub.stdout, /npm install/);

  // tsc checks the sources and a lint plugin against the installed stdlib's types: a typo fails it.
  mkdirSync(join(web, 'policy'));
  writeFileSync(join(web, 'policy', 'rules.ts'), "import type { LintRule } from 'ctc/lint';\nexport const rules: LintRule[] = [];\n");
  const tsc = sh('npx', ['--no-install', 'tsc', '--noEmit'], web);
  assert.is(tsc.status, 0, tsc.said);
  writeFileSync(
    join(web, 'typo.ts'),
    "import { container, hostRootfs } from 'ctc';\nexport default container({ hostnme: 'x', rootfs: hostRootfs(), process: { args: ['/bin/true'] } });\n",
  );
  const typo = sh('npx', ['--no-install', 'tsc', '--noEmit'], web);
  assert.is.not(typo.status, 0, 'a misspelled option is a type error');
  assert.match(typo.stdout, /typo\.ts.*hostnme/);
  rmSync(join(web, 'typo.ts'));
});

test.run();
