// The project configuration through the built CLI: a ctc config in a parent
// folder up to the project root (here each project has a .git) sets where
// plans go and the lint rules, and for the container commands, when --config
// names it, the state root and the log; flags win; a wrong key is CT_CONFIG
// at the file and key; `ctc config` says where each value came from; `ctc
// init` scaffolds a container (.ct.ts or .ct) that builds, type-checks in an
// editor's TypeScript, and is never written over.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctc, root, tempDir } from '../helpers.ts';
import { writeSource } from '../sources.ts';

const tmp = tempDir('ctc-project-');
test.after(() => tmp.remove());

const write = (rel: string, text: string) => writeSource(tmp.dir, rel, text);
/** A project root, as a checkout's .git makes one: configs are found up to it. */
const project = (rel: string) => mkdirSync(join(tmp.dir, rel, '.git'), { recursive: true });

const source = `import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  rootfs: hostRootfs(),
  mounts: defaultMounts,
  resources: { memory: { limit: '64Mi' }, pids: { limit: 500 } },
  process: { args: ['/bin/true'] },
});
`;

interface Setting {
  key: string;
  value: unknown;
  from: { kind: string; file?: string; key?: string; source?: string; flag?: string };
}
const settings = (stdout: string): Record<string, Setting> =>
  Object.fromEntries((JSON.parse(stdout).settings as Setting[]).map((s) => [s.key, s]));

test('a config in a parent folder sets the state root and the log; the container commands read it when --config names it; a flag wins', () => {
  project('proj');
  const config = write('proj/ctc.config.json', JSON.stringify({ root: './state', log: 'ctc.log', logFormat: 'json' }, null, 2));
  mkdirSync(join(tmp.dir, 'proj/state/probe'), { recursive: true });
  const cwd = join(tmp.dir, 'proj/services/web');
  mkdirSync(cwd, { recursive: true });

  const shown = ctc(['config', '--format', 'json'], { cwd });
  assert.is(shown.status, 0, shown.stderr);
  const s = settings(shown.stdout);
  assert.is(JSON.parse(shown.stdout).config, config);
  assert.is(s.root.value, join(tmp.dir, 'proj/state'));
  assert.equal(s.root.from, { kind: 'config', file: config, key: 'root', source: `${config}:2:3` });
  assert.is(s.logFormat.value, 'json');
  assert.equal(s.planDir.from, { kind: 'default' });

  // Found, it is not the container commands' (an orchestrator's cwd is anyone's): state's error is not logged there.
  assert.is(ctc(['--root', join(tmp.dir, 'proj/state'), 'state', 'nosuch'], { cwd }).status, 1);
  assert.not.ok(existsSync(join(tmp.dir, 'proj/ctc.log')));
  // Named, it is: list reads the configured root, state's error goes to the configured log.
  const list = ctc(['--config', config, 'list', '--format', 'json'], { cwd });
  assert.is(list.status, 0, list.stderr);
  assert.equal(
    JSON.parse(list.stdout).map((c: { id: string }) => c.id),
    ['probe'],
  );
  const missing = ctc(['--config', config, 'state', 'nosuch'], { cwd });
  assert.is(missing.status, 1);
  const logged = JSON.parse(readFileSync(join(tmp.dir, 'proj/ctc.log'), 'utf8').trim());
  assert.is(logged.code, 'CT_NOT_FOUND');

  const elsewhere = join(tmp.dir, 'other-root');
  const flagged = ctc(['--root', elsewhere, 'config', '--format', 'json'], { cwd });
  assert.equal(settings(flagged.stdout).root, { key: 'root', value: elsewhere, from: { kind: 'flag', flag: '--root' } });
  const flaggedList = ctc(['--config', config, '--root', elsewhere, 'list', '--format', 'json'], { cwd });
  assert.equal(JSON.parse(flaggedList.stdout), []);

  const text = ctc(['config'], { cwd });
  assert.match(
    text.stdout,
    new RegExp(`^root +${config.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:3 \\(root\\) +${join(tmp.dir, 'proj/state')}$`, 'm'),
  );
  assert.match(text.stdout, /^rootfs +default +host$/m);
});

test('a config in a parent folder changes the lint rules; ctc config shows each rule and where it is set', () => {
  project('linted');
  const config = write(
    'linted/ctc.config.json',
    JSON.stringify({ lint: { rules: { 'limits-required': ['error', { pids: 100 }] } } }, null, 2),
  );
  const src = write('linted/app/app.ct.ts', source);
  const r = ctc(['lint', src]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stdout, /error limits-required: .*the pids limit is 500 processes, above the policy's 100/);

  const shown = settings(ctc(['config', '--format', 'json', src]).stdout);
  assert.equal(shown['lint.rules.limits-required'].value, { severity: 'error', options: { memory: true, pids: 100, cpu: false } });
  assert.equal(shown['lint.rules.limits-required'].from, {
    kind: 'config',
    file: config,
    key: 'lint.rules.limits-required',
    source: `${config}:4:7`,
  });
  assert.equal(shown['lint.rules.seccomp-required'].from, { kind: 'default' });
});

test('a wrong key or value is CT_CONFIG naming the file, the key and its position, for any command', () => {
  const cases: [object, RegExp][] = [
    [
      { roots: '/x' },
      /ctc\.config\.json:1:2: error CT_CONFIG: roots: unknown key 'roots'\n {2}hint: the ctc config has the keys root, log, logFormat, planDir, rootfs, presets, lint/,
    ],
    [{ logFormat: 'xml' }, /ctc\.config\.json:1:2: error CT_CONFIG: logFormat: expected "text" or "json"/],
    [{ presets: { seccomp: 'none' } }, /ctc\.config\.json:1:13: error CT_CONFIG: presets\.seccomp: expected "default" or "unconfined"/],
    [{ presets: { devices: 'default' } }, /error CT_CONFIG: presets\.devices: unknown preset 'devices'/],
    [{ rootfs: { dir: 7 } }, /ctc\.config\.json:1:12: error CT_CONFIG: rootfs\.dir: expected "host" or \{ "dir": PATH/],
  ];
  const cwd = join(tmp.dir, 'wrong/sub');
  mkdirSync(cwd, { recursive: true });
  project('wrong');
  const src = write('wrong/sub/app.ct.ts', source);
  for (const [config, expected] of cases) {
    const file = write('wrong/ctc.config.json', JSON.stringify(config));
    for (const args of [['config'], ['--config', file, 'list'], ['build', src]]) {
      const r = ctc(args, { cwd });
      assert.is(r.status, 1, `${args.join(' ')} ${JSON.stringify(config)}: ${r.stderr}`);
      assert.match(r.stderr, expected);
      assert.not.match(r.stderr, /internal error|\n\s+at /, 'no stack trace');
    }
  }
});

test('a YAML config is read as data; a config above the project root is not found', () => {
  write('above/ctc.config.json', JSON.stringify({ logFormat: 'json' }));
  project('above/yaml');
  const config = write('above/yaml/.ctcrc.yaml', '# comments, as YAML has them\nlogFormat: json\n');
  const cwd = join(tmp.dir, 'above/yaml/svc');
  mkdirSync(cwd, { recursive: true });
  const shown = ctc(['config', '--format', 'json'], { cwd });
  assert.is(JSON.parse(shown.stdout).config, config, shown.stderr);
  assert.equal(settings(shown.stdout).logFormat.from, { kind: 'config', file: config, key: 'logFormat', source: config });
  // Without a .git or package.json, a folder is its own project: above/ctc.config.json is not its config.
  const bare = join(tmp.dir, 'above/bare');
  mkdirSync(bare, { recursive: true });
  const none = ctc(['config', '--format', 'json'], { cwd: bare });
  assert.is(JSON.parse(none.stdout).config, null, none.stderr);
});

test("planDir: build writes plans under it, in the source's folder relative to the config; check and lint find them there", () => {
  project('planned');
  write('planned/ctc.config.json', JSON.stringify({ planDir: 'plans', lint: { rules: { 'limits-required': ['warn', { pids: 100 }] } } }));
  const src = write('planned/services/web/app.ct.ts', source);
  const cwd = dirname(src);
  const built = ctc(['build', 'app.ct.ts'], { cwd });
  assert.is(built.status, 0, built.stderr);
  const plan = join(tmp.dir, 'planned/plans/services/web/app.plan');
  assert.ok(existsSync(plan), built.stderr);
  assert.not.ok(existsSync(join(cwd, 'app.plan')));

  const checked = ctc(['check'], { cwd });
  assert.is(checked.status, 0, checked.stdout + checked.stderr);
  // Findings at the source line, though the plan is elsewhere.
  const linted = ctc(['lint', '--format', 'json'], { cwd });
  assert.is(linted.status, 0, linted.stderr);
  const out = JSON.parse(linted.stdout);
  assert.equal(
    out.plans.map((p: { plan: string }) => p.plan),
    ['../../plans/services/web/app.plan'],
  );
  assert.is(out.findings.length, 1, linted.stdout);
  assert.match(out.findings[0].source, /^app\.ct\.ts:6:\d+$/);
});

test('ctc init writes a container that builds, lints clean and type-checks with the installed stdlib', () => {
  const dir = join(tmp.dir, 'fresh/x');
  const r = ctc(['init', dir]);
  assert.is(r.status, 0, r.stderr);
  for (const f of ['app.ct.ts', 'tsconfig.json', 'ctc.config.json', 'package.json']) assert.ok(existsSync(join(dir, f)), f);
  assert.not.ok(existsSync(join(dir, '.gitignore')), 'the default state root is not in the project');
  const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'));
  // No absolute path: the stdlib of the ctc-compiler that `npm install` puts in the project.
  assert.equal(tsconfig.compilerOptions.paths, {
    ctc: ['./node_modules/ctc-compiler/stdlib/index.ts'],
    'ctc/lint': ['./node_modules/ctc-compiler/stdlib/lint.ts'],
  });
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.devDependencies, {
    'ctc-compiler': `^${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}`,
    typescript: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies.typescript,
  });
  assert.match(r.stdout, /^next:\n  cd .*x\n  npm install .*\n  ctc build app\.ct\.ts .*\n  (sudo )?ctc run /);
  // What `npm install -D <this checkout>` makes (test/integration/install.test.ts installs the packed package)
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'ctc-compiler'));

  const built = ctc(['build', 'app.ct.ts'], { cwd: dir });
  assert.is(built.status, 0, built.stderr);
  assert.ok(existsSync(join(dir, 'app.plan')));
  const linted = ctc(['lint'], { cwd: dir });
  assert.is(linted.status, 0, linted.stdout + linted.stderr);

  // An editor's view: TypeScript with the scaffold's tsconfig, and a mistake it must catch.
  const tsc = (d: string) => spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', d], { encoding: 'utf8' });
  const clean = tsc(dir);
  assert.is(clean.status, 0, clean.stdout);
  writeFileSync(join(dir, 'app.ct.ts'), readFileSync(join(dir, 'app.ct.ts'), 'utf8').replace("hostname: 'app'", 'hostname: 42'));
  assert.match(tsc(dir).stdout, /app\.ct\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
});

test('ctc init inside the checkout: the stdlib by a relative path, no package.json; tsc passes', () => {
  // test/run.mjs gives unit tests a folder inside the checkout that they may write
  const scratch = process.env.CTC_TEST_SCRATCH ?? join(root, '.build');
  mkdirSync(scratch, { recursive: true });
  const inside = mkdtempSync(join(scratch, 'init-'));
  try {
    const dir = join(inside, 'web');
    const r = ctc(['init', dir]);
    assert.is(r.status, 0, r.stderr);
    assert.not.ok(existsSync(join(dir, 'package.json')), "the checkout's package.json is the project's");
    const paths = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')).compilerOptions.paths;
    assert.equal(paths.ctc, [`${relative(dir, root)}/stdlib/index.ts`]);
    assert.match(paths.ctc[0], /^\.\.\//);
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
    assert.is(tsc.status, 0, tsc.stdout);
  } finally {
    rmSync(inside, { recursive: true, force: true });
  }
});

test('ctc init refuses to write over any file, and writes none then', () => {
  const dir = join(tmp.dir, 'taken');
  write('taken/tsconfig.json', '{}\n');
  const r = ctc(['init', dir]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_EXISTS: .*taken\/tsconfig\.json already exists: ctc init writes nothing over a file/);
  assert.not.ok(existsSync(join(dir, 'app.ct.ts')));
  assert.is(readFileSync(join(dir, 'tsconfig.json'), 'utf8'), '{}\n');
});

test("ctc init spells out the project's rootfs and presets, and writes no config that would hide a parent's", () => {
  const rootfs = join(tmp.dir, 'images/debian');
  project('team');
  write(
    'team/ctc.config.json',
    JSON.stringify({ rootfs: { dir: '../images/debian', readonly: true }, presets: { seccomp: 'unconfined', capabilities: 'none' } }),
  );
  const dir = join(tmp.dir, 'team/new');
  const r = ctc(['init', dir]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /team\/ctc\.config\.json applies here: no ctc\.config\.json written/);
  assert.not.ok(existsSync(join(dir, 'ctc.config.json')));
  const text = readFileSync(join(dir, 'app.ct.ts'), 'utf8');
  assert.ok(text.includes(`rootfs: dirRootfs(${JSON.stringify(rootfs)}, { readonly: true }),`), text);
  assert.ok(text.includes("seccomp: 'unconfined',"), text);
  assert.ok(text.includes('capabilities: [],'), text);
  assert.ok(text.includes('maskedPaths: maskedPaths.default,'), text);

  // The same in the .ct language; it builds (the rootfs folder need not exist to build).
  const ctDir = join(tmp.dir, 'team/new-ct');
  const ct = ctc(['init', '--lang', 'ct', ctDir]);
  assert.is(ct.status, 0, ct.stderr);
  const ctText = readFileSync(join(ctDir, 'app.ct'), 'utf8');
  assert.ok(ctText.includes(`path ${rootfs}\n    readonly true`), ctText);
  assert.ok(ctText.includes('seccomp unconfined'), ctText);
  assert.ok(ctText.includes('capabilities {}'), ctText);
  assert.not.ok(existsSync(join(ctDir, 'tsconfig.json')));
  const built = ctc(['build', 'app.ct'], { cwd: ctDir });
  assert.is(built.status, 0, built.stderr);
});

test('ctc init --lang ct writes app.ct, which builds and lints clean', () => {
  const dir = join(tmp.dir, 'fresh-ct');
  const r = ctc(['init', '--lang', 'ct', dir]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'app.ct')) && existsSync(join(dir, 'ctc.config.json')));
  const built = ctc(['build', 'app.ct'], { cwd: dir });
  assert.is(built.status, 0, built.stderr);
  const linted = ctc(['lint'], { cwd: dir });
  assert.is(linted.status, 0, linted.stdout + linted.stderr);
});

test.run();
