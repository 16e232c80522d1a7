// Issue 18, point 4 and the source size of point 7: symlinked sources leaked
// host files into messages. `base.ct -> /etc/shadow` (or -> /proc/self/environ,
// the whole CI environment) imported by a .ct printed the content in a syntax
// error; the same for a symlinked .ct.ts entry or import; `../` imports
// reached any *.ct on the host; a 25 MB source ran for 53 s and died of a V8
// OOM. Each attack as it was tried, with a secret of the test's own: a file
// outside the project holding a random marker, and an environment variable
// holding another (read through /proc/self/environ). The marker never shows in
// stdout or stderr, no plan is written, and the error is coded at the import.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, root, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir('ctc-hostile-sources-');
test.after(() => tmp.remove());

const secret = `SECRET${randomBytes(12).toString('hex')}`;
const envSecret = `ENVSECRET${randomBytes(12).toString('hex')}`;
const launcher = join(root, 'dist', 'ctc');

/** A file outside every project of the test: what an attacker's symlink points at. */
const secretFile = (name: string) => write(name, `${secret} = 1\n${secret}\n`);

function write(rel: string, text: string | Buffer): string {
  const file = join(tmp.dir, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A project: a folder with .git, as CI checks a pull request out. */
function project(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, '.git'), { recursive: true });
  return dir;
}

const ctSource = (imports: string) => `${imports}\ncontainer {\n  use base\n  rootfs use preset.hostRootfs\n  process.args /bin/true\n}\n`;
const tsSource = (imports: string) =>
  `import { container, hostRootfs } from 'ctc';\n${imports}\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'] } });\n`;

/** `ctc ARGS` in cwd through Node's CLI and through the native launcher (whose build of a .ct.ts runs the snapshot). */
function both(args: string[], cwd: string): [string, Ran][] {
  const env = { ...process.env, CTC_TEST_SECRET: envSecret };
  const run = (cmd: string, argv: string[]): Ran => {
    const r = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', input: '', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return [
    ['node', run(process.execPath, [cli, ...args])],
    ['launcher', run(launcher, args)],
  ];
}

/** Refused with `code` (at `at`, when given), neither secret echoed, no plan written. */
function assertRefused(r: Ran, how: string, code: string, at?: string, plan?: string) {
  const out = r.stdout + r.stderr;
  assert.is(r.status, 1, `${how}: fails: ${out}`);
  assert.ok(out.includes(code), `${how}: ${code}: ${out}`);
  // build's `FILE:L:C: error CODE`, check's `FILE:L:C: CODE` in its report
  if (at) assert.ok(out.includes(`${at}: error ${code}`) || out.includes(`${at}: ${code}`), `${how}: at ${at}: ${out}`);
  assert.not.ok(out.includes(secret), `${how}: the secret file's content is not echoed`);
  assert.not.ok(out.includes(envSecret), `${how}: the environment is not echoed`);
  assert.not.ok(out.includes('at ') && /\n\s+at .*:\d+:\d+\)?\n/.test(out), `${how}: no stack trace`);
  if (plan) assert.not.ok(existsSync(plan), `${how}: no plan is written`);
}

test('a .ct importing base.ct -> a secret file, or -> /proc/self/environ: CT_SOURCE_ESCAPE at the import, nothing echoed', () => {
  for (const [target, name] of [
    [secretFile('shadow'), 'file'],
    ['/proc/self/environ', 'environ'],
  ]) {
    const dir = project(`ct-${name}`);
    symlinkSync(target, join(dir, 'base.ct'));
    write(`ct-${name}/app.ct`, ctSource('import "./base.ct" as base'));
    for (const cmd of [
      ['build', 'app.ct'],
      ['check', 'app.ct'],
      ['lint', 'app.ct'],
    ]) {
      for (const [via, r] of both(cmd, dir))
        assertRefused(r, `${name}: ${cmd[0]} via ${via}`, 'CT_SOURCE_ESCAPE', 'app.ct:1:8', join(dir, 'app.plan'));
    }
  }
});

test('a symlinked .ct.ts entry, and a .ct.ts import -> a secret or /proc/self/environ: CT_SOURCE_ESCAPE, nothing echoed', () => {
  const outside = secretFile('outside.ct.ts');
  const entry = project('ts-entry');
  symlinkSync(outside, join(entry, 'app.ct.ts'));
  for (const [via, r] of both(['build', 'app.ct.ts'], entry))
    assertRefused(r, `entry via ${via}`, 'CT_SOURCE_ESCAPE', undefined, join(entry, 'app.plan'));
  for (const [target, name] of [
    [outside, 'file'],
    ['/proc/self/environ', 'environ'],
  ]) {
    const dir = project(`ts-${name}`);
    symlinkSync(target, join(dir, 'lib.ct.ts'));
    write(`ts-${name}/app.ct.ts`, tsSource("import './lib.ct.ts';"));
    for (const cmd of [
      ['build', 'app.ct.ts'],
      ['check', 'app.ct.ts'],
    ]) {
      for (const [via, r] of both(cmd, dir))
        assertRefused(r, `${name}: ${cmd[0]} via ${via}`, 'CT_SOURCE_ESCAPE', 'app.ct.ts:2:8', join(dir, 'app.plan'));
    }
  }
});

test('../ imports: inside the project root they build; leaving it they are CT_SOURCE_ESCAPE', () => {
  const dir = project('updown');
  write('updown/base.ct', 'container {\n  hostname base\n}\n');
  write('updown/svc/app.ct', ctSource('import "../base.ct" as base'));
  for (const [via, r] of both(['build', 'app.ct'], join(dir, 'svc'))) assert.is(r.status, 0, `inside builds via ${via}: ${r.stderr}`);
  write('outside.ct', `container {\n  hostname ${secret}\n  ${secret}\n}\n`);
  write('updown/leave.ct', ctSource('import "../outside.ct" as base'));
  for (const [via, r] of both(['build', 'leave.ct'], dir))
    assertRefused(r, `leaving via ${via}`, 'CT_SOURCE_ESCAPE', 'leave.ct:1:8', join(dir, 'leave.plan'));
  write('updown/leave.ct.ts', tsSource("import '../outside2.ct.ts';"));
  write('outside2.ct.ts', `${secret};\n`);
  for (const [via, r] of both(['build', 'leave.ct.ts'], dir))
    assertRefused(r, `leaving .ct.ts via ${via}`, 'CT_SOURCE_ESCAPE', 'leave.ct.ts:2:8', join(dir, 'leave.plan'));
});

test('an oversize source (2 MiB) and a source with NUL bytes: CT_SOURCE_LIMIT by size and kind, no bytes echoed', () => {
  const dir = project('limits');
  write('limits/big.ct.ts', tsSource(`// ${secret}\n`) + `/* ${'x'.repeat(2 << 20)} */\n`);
  for (const [via, r] of both(['build', 'big.ct.ts'], dir))
    assertRefused(r, `oversize via ${via}`, 'CT_SOURCE_LIMIT', undefined, join(dir, 'big.plan'));
  write('limits/nul.ct', `container {\n  hostname ${secret}\0\n}\n`);
  for (const [via, r] of both(['build', 'nul.ct'], dir))
    assertRefused(r, `NUL via ${via}`, 'CT_SOURCE_LIMIT', undefined, join(dir, 'nul.plan'));
  write(
    'limits/utf.ct',
    Buffer.concat([Buffer.from(`container {\n  hostname ${secret}`), Buffer.from([0xff, 0xfe]), Buffer.from('\n}\n')]),
  );
  for (const [via, r] of both(['build', 'utf.ct'], dir))
    assertRefused(r, `invalid UTF-8 via ${via}`, 'CT_SOURCE_LIMIT', undefined, join(dir, 'utf.plan'));
});

test('an image archive outside the project (by ../ or a symlink) is CT_SOURCE_ESCAPE at the archive line', () => {
  const dir = project('image');
  write('busybox.tar', secret);
  write('image/up.ct', 'container {\n  rootfs {\n    kind image\n    archive ../busybox.tar\n  }\n  process.args /bin/true\n}\n');
  symlinkSync(join(tmp.dir, 'busybox.tar'), join(dir, 'linked.tar'));
  write('image/linked.ct', 'container {\n  rootfs {\n    kind image\n    archive linked.tar\n  }\n  process.args /bin/true\n}\n');
  symlinkSync('/proc/self/environ', join(dir, 'environ.tar'));
  write('image/environ.ct', 'container {\n  rootfs {\n    kind image\n    archive environ.tar\n  }\n  process.args /bin/true\n}\n');
  for (const name of ['up', 'linked', 'environ']) {
    for (const [via, r] of both(['build', `${name}.ct`], dir))
      assertRefused(r, `${name} via ${via}`, 'CT_SOURCE_ESCAPE', `${name}.ct:4:5`, join(dir, `${name}.plan`));
  }
});

test.run();
