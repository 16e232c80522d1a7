// Issue 18, point 2: config files were code, found anywhere above. cosmiconfig
// loaded `.ctcrc.cjs` and searched up to `/`, so a `.ctcrc.cjs` any user left
// in /tmp ran as root for every ctc command under it (even `ctc --root X
// list`); a pull request's own `.ctcrc.cjs` ran in CI for build and check; a
// `ctc` key in some ancestor's package.json moved where plans go. Each attack
// as it was tried: the script config would write a marker file, which stays
// absent; the refusals are coded and name the file. Needs root (chown).

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, root, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir('ctc-hostile-config-');
test.after(() => tmp.remove());

const launcher = join(root, 'dist', 'ctc');
const marker = join(tmp.dir, 'config-ran');
const state = join(tmp.dir, 'state');

const source = `import { container, hostRootfs } from 'ctc';
export default container({ rootfs: hostRootfs(), resources: { memory: { limit: '64Mi' }, pids: { limit: 100 } }, process: { args: ['/bin/true'] } });
`;
const scriptConfig = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = { planDir: 'hijacked' };\n`;

function write(rel: string, text: string): string {
  const file = join(tmp.dir, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** `ctc ARGS` in cwd through Node's CLI and through the native launcher (which hands some commands to it). */
function both(args: string[], cwd: string): [string, Ran][] {
  const run = (cmd: string, argv: string[]): Ran => {
    const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', input: '', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return [
    ['node', run(process.execPath, [cli, ...args])],
    ['launcher', run(launcher, args)],
  ];
}

function assertNotRun(how: string) {
  assert.not.ok(existsSync(marker), `${how}: the script config never ran`);
}

function assertUnsafe(r: Ran, how: string, file: string) {
  assert.is(r.status, 1, `${how}: fails: ${r.stderr}`);
  assert.match(r.stderr, `${file}: error CT_CONFIG_UNSAFE`, `${how}: CT_CONFIG_UNSAFE naming ${file}`);
  assertNotRun(how);
}

test('an ancestor /tmp/<dir>/.ctcrc.cjs outside the project: list, build and check from below it never run it', () => {
  write('.ctcrc.cjs', scriptConfig);
  const dir = join(tmp.dir, 'below', 'proj');
  write('below/proj/app.ct.ts', source);
  for (const [via, r] of both(['--root', state, 'list'], dir)) {
    assert.is(r.status, 0, `list via ${via}: ${r.stderr}`);
    assertNotRun(`list via ${via}`);
  }
  for (const [via, r] of both(['build', 'app.ct.ts'], dir)) {
    assert.is(r.status, 0, `build via ${via}: ${r.stderr}`);
    assertNotRun(`build via ${via}`);
  }
  assert.ok(existsSync(join(dir, 'app.plan')), "the plan is next to its source, not under the script's planDir");
  for (const [via, r] of both(['check', 'app.ct.ts'], dir)) {
    assert.is(r.status, 0, `check via ${via}: ${r.stderr}`);
    assertNotRun(`check via ${via}`);
  }
});

test("a pull request's own .ctcrc.cjs (next to the source, or at its project root): CT_CONFIG_UNSAFE for build, check, lint, diff and config; list never reads it", () => {
  const pr = join(tmp.dir, 'pr');
  mkdirSync(join(pr, '.git'), { recursive: true });
  write('pr/.ctcrc.cjs', scriptConfig);
  write('pr/app.ct.ts', source);
  write('pr/svc/app.ct.ts', source);
  for (const [cwd, rel] of [
    [pr, '.ctcrc.cjs'],
    [join(pr, 'svc'), join(pr, '.ctcrc.cjs')],
  ]) {
    for (const cmd of [
      ['build', 'app.ct.ts'],
      ['check', 'app.ct.ts'],
      ['lint', 'app.ct.ts'],
      ['diff', 'app.ct.ts', 'app.ct.ts'],
      ['config', 'app.ct.ts'],
    ]) {
      for (const [via, r] of both(cmd, cwd)) assertUnsafe(r, `${cmd[0]} in ${cwd} via ${via}`, rel);
    }
    assert.not.ok(existsSync(join(cwd, 'app.plan')), 'no plan is written');
  }
  for (const [via, r] of both(['--root', state, 'list'], pr)) {
    assert.is(r.status, 0, `list via ${via}: ${r.stderr}`);
    assertNotRun(`list via ${via}`);
  }
  const named = both(['--config', join(pr, '.ctcrc.cjs'), '--root', state, 'list'], pr);
  for (const [via, r] of named) assertUnsafe(r, `list --config via ${via}`, '.ctcrc.cjs');
});

test('a group-writable or foreign-owned ctc.config.json, and a foreign-owned package.json with a ctc key: CT_CONFIG_UNSAFE', () => {
  const cases: [string, string, (f: string) => void][] = [
    ['group-writable', 'ctc.config.json', (f) => chmodSync(f, 0o664)],
    ['world-writable', 'ctc.config.json', (f) => chmodSync(f, 0o646)],
    ['owned by nobody', 'ctc.config.json', (f) => chownSync(f, 65534, 65534)],
    ['package.json owned by nobody', 'package.json', (f) => chownSync(f, 65534, 65534)],
  ];
  for (const [i, [what, name, spoil]] of cases.entries()) {
    const dir = join(tmp.dir, `unsafe${i}`);
    const values = { planDir: 'hijacked', log: 'hijacked.log' };
    const file = write(`unsafe${i}/${name}`, JSON.stringify(name === 'package.json' ? { name: 'x', ctc: values } : values));
    chmodSync(file, 0o644);
    spoil(file);
    write(`unsafe${i}/app.ct.ts`, source);
    for (const cmd of [['build', 'app.ct.ts'], ['check', 'app.ct.ts'], ['config']]) {
      for (const [via, r] of both(cmd, dir)) assertUnsafe(r, `${what}: ${cmd[0]} via ${via}`, name);
    }
    assert.not.ok(
      existsSync(join(dir, 'hijacked')) || existsSync(join(dir, 'hijacked.log')) || existsSync(join(dir, 'app.plan')),
      `${what}: nothing written`,
    );
  }
});

test('a package.json ctc key above the project root is not read', () => {
  write('up/package.json', JSON.stringify({ name: 'above', ctc: { planDir: 'hijacked' } }));
  const dir = join(tmp.dir, 'up', 'proj');
  mkdirSync(join(dir, '.git'), { recursive: true });
  write('up/proj/app.ct.ts', source);
  for (const [via, r] of both(['build', 'app.ct.ts'], dir)) assert.is(r.status, 0, `build via ${via}: ${r.stderr}`);
  assert.ok(existsSync(join(dir, 'app.plan')), 'the plan is next to its source');
  assert.not.ok(existsSync(join(tmp.dir, 'up', 'hijacked')), "not under the ancestor's planDir");
  const shown = JSON.parse(both(['config', '--format', 'json'], dir)[0][1].stdout);
  assert.is(shown.config, null, 'ctc config finds no config');
});

test('container commands read no project config; --config names one', () => {
  const dir = join(tmp.dir, 'containers');
  const config = write('containers/ctc.config.json', JSON.stringify({ log: 'ctc.log' }));
  for (const [via, r] of both(['--root', state, 'delete', 'no-such-container'], dir)) {
    assert.is(r.status, 1, `delete via ${via}: ${r.stderr}`);
    assert.not.ok(existsSync(join(dir, 'ctc.log')), `delete via ${via}: the config's log is not written`);
  }
  for (const [via, r] of both(['--config', config, '--root', state, 'delete', 'no-such-container'], tmp.dir)) {
    assert.is(r.status, 1, `delete --config via ${via}: ${r.stderr}`);
    assert.ok(existsSync(join(dir, 'ctc.log')), `delete --config via ${via}: the named config's log is written`);
  }
});

test.run();
