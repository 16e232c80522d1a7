// Issue 18, points 1 and 7: a .ct.ts ran host code as root during build.
// node:vm is no boundary: a source set Error.prepareStackTrace, threw, and
// V8 handed the hook call sites whose constructor chain reached the host's
// Function, so `process` and child_process; `ctc build`, `check`, `diff`
// and `lint` all ran the command. A microtask loop hung the build for ever.
// Each attack as it was tried, through every command that evaluates a
// source; each must leave its marker file unmade and end in a coded error.
// The last tests look at the sandbox process itself (native/init/sandbox.c) from
// inside, as an escape would find it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { helperPath } from '../../common/package.ts';
import { nodeRuntimeFiles } from '../../compiler/frontend/sandbox.ts';
import { sandboxFilterHex } from '../../compiler/frontend/sandbox-policy.ts';
import { cli, root, tempDir, type Ran } from '../helpers.ts';

const tmp = tempDir('ctc-hostile-sandbox-');
test.after(() => tmp.remove());
const marker = join(tmp.dir, 'MARKER');
const launcher = join(root, 'dist', 'ctc');

/** A project (a folder with .git, as CI checks a pull request out) holding app.ct.ts. */
function project(name: string, body: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, '.git'), { recursive: true });
  writeFileSync(
    join(dir, 'app.ct.ts'),
    `import { container, hostRootfs } from 'ctc';\nconst marker = ${JSON.stringify(marker)};\n${body}\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'] } });\n`,
  );
  return dir;
}

function run(cmd: string, args: string[], cwd: string): Ran {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', input: '', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every command that evaluates a source, through Node's CLI (and build through the launcher, whose build runs the V8 snapshot). */
function evaluatingCommands(dir: string): [string, Ran][] {
  return [
    ['build (launcher)', run(launcher, ['build', 'app.ct.ts'], dir)],
    ['build (node)', run(process.execPath, [cli, 'build', 'app.ct.ts'], dir)],
    ['check', run(process.execPath, [cli, 'check', 'app.ct.ts'], dir)],
    ['diff', run(process.execPath, [cli, 'diff', 'app.ct.ts', 'app.ct.ts'], dir)],
    ['lint', run(process.execPath, [cli, 'lint', 'app.ct.ts'], dir)],
  ];
}

function refusedEverywhere(dir: string, code: RegExp): void {
  for (const [what, r] of evaluatingCommands(dir)) {
    assert.is.not(r.status, 0, `${what} must fail`);
    // check reports each source on stdout, then CT_PLAN_STALE
    assert.match(r.stdout + r.stderr, code, `${what}: ${r.stdout}${r.stderr}`);
    assert.not.match(r.stderr, /internal error|\n\s+at /, `${what}: no stack trace`);
    assert.not.ok(existsSync(marker), `${what} ran the source's command`);
    assert.not.ok(existsSync(join(dir, 'app.plan')), `${what} wrote a plan`);
  }
}

/** Tries to reach the outer realm's `process` and run `touch marker` through it. */
const escape = (via: string) =>
  `${via}.constructor.constructor('return process')().getBuiltinModule('child_process').execSync('touch ' + marker)`;

test('Error.prepareStackTrace set by a source gets no host call sites: build, check, diff and lint', () => {
  const dir = project(
    'stack-trace',
    `(Error as any).prepareStackTrace = (e: unknown, sites: any) => ${escape('sites')};\nthrow new Error('boom');`,
  );
  refusedEverywhere(dir, /CT_EVAL: .*(prepareStackTrace|read only)/);
});

test('the stack-trace hook cannot come back by replacing the Error global or redefining the property', () => {
  const dir = project(
    'stack-trace-global',
    [
      `const hook = (e: unknown, sites: any) => ${escape('sites')};`,
      `try { (globalThis as any).Error = { prepareStackTrace: hook }; } catch {}`,
      `try { Object.defineProperty(Error, 'prepareStackTrace', { value: hook }); } catch {}`,
      `try { Object.defineProperty(globalThis, 'Error', { value: { prepareStackTrace: hook } }); } catch {}`,
      `(null as any).toString();`,
    ].join('\n'),
  );
  refusedEverywhere(dir, /CT_EVAL: /);
});

test('a thrown object with a getter and toString of its own reaches nothing of the host', () => {
  const dir = project(
    'thrown-getter',
    [
      `const bad = {`,
      `  get message(): string { return ${escape('(this as any)')} as never; },`,
      `  get stack(): string { return ${escape('(bad as any)')} as never; },`,
      `  toString(): string { return ${escape('({} as any)')} as never; },`,
      `};`,
      `throw bad;`,
    ].join('\n'),
  );
  refusedEverywhere(dir, /CT_EVAL: /);
});

test('no import through a Function made from a string, async or not', () => {
  const dir = project(
    'async-import',
    [
      `const AsyncFunction = (async () => {}).constructor as any;`,
      `AsyncFunction('return import("node:child_process")')().then((cp: any) => cp.execSync('touch ' + marker));`,
      `(Function as any)('return import("node:fs")')().then((fs: any) => fs.writeFileSync(marker, 'x'));`,
    ].join('\n'),
  );
  refusedEverywhere(dir, /CT_EVAL: .*[Cc]ode generation from strings/);
});

test('a microtask that never ends is stopped by the time limit (CT_EVAL_LIMIT), not a hang', () => {
  const dir = project('microtask', `Promise.resolve().then(() => { for (;;) {} });`);
  const started = process.hrtime.bigint();
  const r = run(process.execPath, [cli, 'build', 'app.ct.ts'], dir);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /error CT_EVAL_LIMIT: evaluating the source was stopped: it ran for more than 10 s/);
  assert.ok(seconds < 40, `stopped after ${seconds} s`);
  assert.not.ok(existsSync(join(dir, 'app.plan')));
});

test('a source that allocates without end is stopped at its heap limit (CT_EVAL_LIMIT), with no V8 stack', () => {
  const dir = project('memory', `const all: number[][] = []; for (let i = 0; ; i++) all.push(new Array<number>(1 << 20).fill(i));`);
  const r = run(process.execPath, [cli, 'build', 'app.ct.ts'], dir);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /error CT_EVAL_LIMIT: evaluating the source was stopped: it used more than \d+ MiB of heap/);
  assert.not.match(r.stderr, /FATAL ERROR|Native stack/);
});

// What an escape would find: the sandbox itself, with a probe in place of the evaluator.
const probe = `
const fs = require('node:fs');
const tryIt = (f) => { try { return 'ok ' + JSON.stringify(f()); } catch (e) { return e.code || e.message; } };
const out = {
  uid: process.getuid(),
  pid: process.pid,
  root: tryIt(() => fs.readdirSync('/').sort()),
  exec: tryIt(() => require('node:child_process').execFileSync('/bin/true')),
  spawn: require('node:child_process').spawnSync('/bin/true').error?.code,
  write: tryIt(() => fs.writeFileSync('/x', 'x')),
  secret: tryIt(() => fs.readFileSync(${JSON.stringify(join(tmp.dir, 'secret'))}, 'utf8')),
  proc: tryIt(() => fs.readFileSync('/proc/self/status', 'utf8').length),
  passwd: tryIt(() => fs.readFileSync('/etc/passwd', 'utf8').length),
  env: Object.keys(process.env).length,
};
const net = require('node:net');
const s = net.connect(9, '127.0.0.1');
s.on('error', (e) => { out.socket = e.code; fs.writeSync(1, JSON.stringify(out)); });
s.on('connect', () => { out.socket = 'connected'; fs.writeSync(1, JSON.stringify(out)); process.exit(0); });
`;

test('inside the sandbox: nobody, pid 1 of its own, a root of node and its libraries only, no exec, no socket, no write, no /proc', () => {
  writeFileSync(join(tmp.dir, 'secret'), 'a file the sandbox must not see\n');
  const args = [
    'sandbox',
    ...nodeRuntimeFiles().flatMap((f) => ['--mirror', f]),
    '--filter',
    sandboxFilterHex(),
    '--seconds',
    '20',
    '--',
    process.execPath,
    '-e',
    probe,
  ];
  const r = spawnSync(helperPath(), args, { encoding: 'utf8', env: { SECRET: 'x' }, input: '', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout);
  assert.is(seen.uid, 65534, 'the host root runs it as nobody');
  assert.is(seen.pid, 1);
  for (const entry of JSON.parse(seen.root.replace(/^ok /, '')))
    assert.ok(['etc', 'lib', 'lib64', 'usr'].includes(entry), `the root holds ${entry}`);
  assert.is(seen.exec, 'EPERM');
  assert.is(seen.spawn, 'EPERM');
  assert.ok(['EROFS', 'EPERM', 'EACCES'].includes(seen.write), `write: ${seen.write}`);
  assert.is(seen.secret, 'ENOENT');
  assert.is(seen.proc, 'ENOENT');
  assert.is(seen.passwd, 'ENOENT');
  assert.is(seen.env, 0, 'no environment reaches the sandbox');
  assert.is(seen.socket, 'EPERM');
});

test("where namespaces are refused, Landlock stands in: nothing but node's files can be read, no exec, no write, no signal out", () => {
  writeFileSync(join(tmp.dir, 'secret'), 'a file the sandbox must not see\n');
  const args = [
    'sandbox',
    '--no-namespaces',
    ...nodeRuntimeFiles().flatMap((f) => ['--mirror', f]),
    '--filter',
    sandboxFilterHex(),
    '--seconds',
    '20',
    '--',
    process.execPath,
    '-e',
    probe,
  ];
  const r = spawnSync(helperPath(), args, { encoding: 'utf8', env: {}, input: '', timeout: 30_000 });
  if (r.status === 125 && /no Landlock/.test(r.stderr)) {
    console.log(`  skipped: this kernel has no Landlock (${r.stderr.trim()})`);
    return;
  }
  assert.is(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout);
  assert.is(seen.uid, 65534, 'the host root runs it as nobody');
  assert.is(typeof seen.root, 'string', 'the host root cannot be listed');
  assert.is(seen.exec, 'EPERM');
  assert.is(seen.spawn, 'EPERM');
  assert.is(seen.write, 'EPERM');
  assert.is(seen.secret, 'EACCES');
  assert.is(seen.proc, 'EACCES');
  assert.is(seen.passwd, 'EACCES');
  assert.is(seen.socket, 'EPERM');
});

test('the sandbox refuses to start what it was not given (no filter), and says so', () => {
  const r = spawnSync(helperPath(), ['sandbox', '--', process.execPath, '-e', '1'], { encoding: 'utf8', input: '' });
  assert.is(r.status, 125);
  assert.match(r.stderr, /usage: ctc-init sandbox/);
});

test.run();
