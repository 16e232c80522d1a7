// ctc's seccomp programs in the real kernel: test/tools/seccomp-probe.py loads
// a compiled program into a child (no_new_privs, PR_SET_SECCOMP) and makes
// syscalls under it; the answers are compared with what the kernel gives
// without the filter, so a refusal is known to come from the filter.

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SpecSeccomp, SpecSeccompArg } from '../../plan/seccomp/types.ts';
import { compileSeccomp } from '../../plan/seccomp/bpf.ts';
import { seccompSpecOf } from '../../compiler/seccomp/policy.ts';
import { parseSeccompRule } from '../../plan/seccomp/text.ts';
import { defaultSeccomp } from '../../stdlib/seccomp.ts';
import { syscallNumbers } from '../../stdlib/syscalls.ts';
import { BUSYBOX } from '../busybox.ts';
import { root, tempDir } from '../helpers.ts';

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const probe = join(root, 'test', 'tools', 'seccomp-probe.py');
const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const other = arch === 'x86_64' ? 'aarch64' : 'x86_64';
const sys = (name: string) => {
  const n = (syscallNumbers[arch] as Record<string, number>)[name];
  if (n === undefined) throw new Error(`${name} is not a syscall on ${arch}`);
  return n;
};

type Outcome = { ret: number; errno: number } | { signal: number } | { error: string };
type Call = [name: string | number, args?: (number | bigint)[]];

const EPERM = 1;
const EBADF = 9;
const EFAULT = 14;
const EACCES = 13;
const EINVAL = 22;
const ENOSYS = 38;
const SIGSYS = 31;

const tmp = tempDir('ctc-seccomp-');
let programs = 0;

/** Runs each call in a child under the program ('-': no filter). */
function probeCalls(program: Buffer | '-', calls: Call[]): Outcome[] {
  let file = '-';
  if (program !== '-') {
    file = join(tmp.dir, `p${programs++}.bpf`);
    writeFileSync(file, program);
  }
  const spec = JSON.stringify(
    calls.map(([name, args = []]) => [
      typeof name === 'number' ? name : sys(name),
      args.map((a) => BigInt.asUintN(64, BigInt(a)).toString()),
    ]),
  );
  const r = spawnSync(python, [probe, 'calls', file, spec], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Outcome[];
}

const compile = (rules: string[], more: Partial<SpecSeccomp> = {}): Buffer =>
  compileSeccomp({ defaultAction: 'allow', architectures: ['x86_64', 'aarch64'], flags: [], rules: rules.map(parseSeccompRule), ...more });

const errnoOf = (o: Outcome) => ('errno' in o ? o.errno : `killed by ${'signal' in o ? o.signal : o.error}`);

const CLONE_THREAD = 0x00010000; // without CLONE_SIGHAND: the kernel says EINVAL, and does nothing
const CLONE_NEWUSER = 0x10000000;

test('defaultSeccomp in the kernel: what it refuses, the kernel alone would have done', () => {
  const calls: Call[] = [
    ['getpid'],
    ['read', [-1, 0, 0]],
    ['mount', [0, 0, 0, 0, 0]],
    ['unshare', [0]],
    ['clone', [CLONE_THREAD]],
    ['clone', [CLONE_THREAD | CLONE_NEWUSER]],
    ['clone3', [0, 0]],
    ['personality', [0xffffffff]],
    ['personality', [0x0040000]],
    ['setns', [-1, 0]],
    ['bpf', [-1, 0, 0]],
    ['ptrace', [-1, 0, 0, 0]],
    [1000],
  ];
  const filtered = probeCalls(compileSeccomp(seccompSpecOf(defaultSeccomp)), calls);
  const kernel = probeCalls('-', calls);
  const show = (outs: Outcome[]) => outs.map((o, i) => `${calls[i][0]}: ${JSON.stringify(o)}`).join('\n');
  const get = (outs: Outcome[], i: number) => errnoOf(outs[i]);
  // allowed: the kernel's own answer
  assert.ok('ret' in filtered[0] && filtered[0].ret > 0, show(filtered));
  assert.is(get(filtered, 1), EBADF);
  assert.is(get(filtered, 4), EINVAL, 'clone without namespace flags reaches the kernel');
  assert.is(get(filtered, 7), 0, 'personality query');
  // refused by the filter, where the kernel would have answered otherwise
  assert.is(get(kernel, 2), EFAULT);
  assert.is(get(filtered, 2), EPERM, 'mount');
  assert.is(get(kernel, 3), 0);
  assert.is(get(filtered, 3), EPERM, 'unshare');
  assert.is(get(kernel, 5), EINVAL);
  assert.is(get(filtered, 5), EPERM, 'clone with CLONE_NEWUSER');
  assert.is(get(kernel, 6), EINVAL);
  assert.is(get(filtered, 6), ENOSYS, 'clone3');
  assert.is(get(kernel, 8), 0);
  assert.is(get(filtered, 8), EPERM, 'personality(ADDR_NO_RANDOMIZE)');
  for (const i of [9, 10, 11]) assert.is(get(filtered, i), EPERM, String(calls[i][0]));
  assert.is(get(filtered, 12), ENOSYS, 'a number no kernel has');
});

test('every comparison, on 64-bit arguments as the kernel passes them', () => {
  const M32 = 2n ** 32n;
  const values = [0n, 1n, M32 - 1n, M32, M32 + 1n, 2n ** 63n, 2n ** 64n - 1n];
  const ops: [SpecSeccompArg['op'], string][] = [
    ['eq', '=='],
    ['ne', '!='],
    ['lt', '<'],
    ['le', '<='],
    ['gt', '>'],
    ['ge', '>='],
  ];
  const value = M32;
  const holds: Record<string, (a: bigint) => boolean> = {
    eq: (a) => a === value,
    ne: (a) => a !== value,
    lt: (a) => a < value,
    le: (a) => a <= value,
    gt: (a) => a > value,
    ge: (a) => a >= value,
    masked_eq: (a) => (a & 0xffffffff000000ffn) === 0x100000001n,
  };
  const rules = [
    ...ops.map(([op, text], i) => ({ op, index: i, rule: `errno:${100 + i} getpid if arg${i}${text}0x100000000` })),
    { op: 'masked_eq', index: 5, rule: 'errno:106 getpid if arg5&0xffffffff000000ff==0x100000001' },
  ];
  for (const [i, { op, index, rule }] of rules.entries()) {
    const program = compile([rule]);
    const tried = [...values, 0x100000001n, 0x1000000ffn, 0x2000000001n];
    const outs = probeCalls(
      program,
      tried.map((v) => {
        const args: bigint[] = Array(6).fill(0n);
        args[index] = v;
        return ['getpid', args] as Call;
      }),
    );
    tried.forEach((v, k) => assert.is(errnoOf(outs[k]), holds[op](v) ? 100 + i : 0, `${rule} with ${v}`));
  }
});

test('actions in the kernel: errno, trace without a tracer, log, trap and kill', () => {
  const program = compile(
    ['errno:13 getuid', 'trace:5 getgid', 'log getppid', 'trap getpgrp', 'kill_process gettid', 'kill_thread getsid', 'allow getpid'],
    {
      defaultAction: 'errno',
      defaultRet: 95,
    },
  );
  const outs = probeCalls(program, [
    ['getuid'],
    ['getgid'],
    ['getppid'],
    ['getpgrp'],
    ['gettid'],
    ['getsid', [0]],
    ['getpid'],
    ['geteuid'],
  ]);
  assert.is(errnoOf(outs[0]), EACCES);
  assert.is(errnoOf(outs[1]), ENOSYS, 'SECCOMP_RET_TRACE with no tracer fails with ENOSYS');
  assert.ok('ret' in outs[2] && outs[2].ret > 0, 'log allows');
  assert.equal(outs.slice(3, 6), [{ signal: SIGSYS }, { signal: SIGSYS }, { signal: SIGSYS }]);
  assert.is(errnoOf(outs[6]), 0);
  assert.is(errnoOf(outs[7]), 95, 'the default');
});

test('the architecture check in the kernel: a policy for the other architecture kills; x32 is killed', () => {
  const outs = probeCalls(compile([], { architectures: [other] }), [['getpid']]);
  assert.equal(outs, [{ signal: SIGSYS }]);
  if (arch === 'x86_64') {
    const x32getpid = 0x40000000 | 39;
    assert.equal(probeCalls(compile([]), [[x32getpid]]), [{ signal: SIGSYS }]);
    assert.not.equal(probeCalls('-', [[x32getpid]]), [{ signal: SIGSYS }], 'the kernel alone does not kill it');
  }
});

test('a program with trampolines loads, and answers as it should', () => {
  const names = Object.keys(syscallNumbers[arch])
    .filter((n) => n !== 'getpid' && n !== 'exit_group')
    .slice(0, 250);
  const rules = names.map((n, i) => `errno:${1 + i} ${n} if arg0!=${i}`);
  const program = compile([...rules, 'errno:77 getpid if arg1==7'], { defaultAction: 'errno', defaultRet: 1 });
  assert.ok(program.length / 8 > 1000, `${program.length / 8} instructions`);
  const outs = probeCalls(program, [
    ['getpid', [0, 7]],
    ['getpid', [0, 8]],
    [names[3], [5]],
    [names[200], [5]],
  ]);
  assert.equal(outs.map(errnoOf), [77, 1, 4, 201]);
});

function runUnder(program: Buffer, argv: string[]) {
  const file = join(tmp.dir, `exec${programs++}.bpf`);
  writeFileSync(file, program);
  return spawnSync(python, [probe, 'exec', file, '--', ...argv], { encoding: 'utf8', timeout: 60_000 });
}

test('busybox sh, coreutils and Node run under defaultSeccomp; unshare and mount do not', () => {
  const program = compileSeccomp(seccompSpecOf(defaultSeccomp));
  const sh = runUnder(program, [BUSYBOX, 'sh', '-c', 'echo hi; ls / | wc -l >/dev/null; sleep 0 & wait; grep ^Seccomp: /proc/self/status']);
  assert.is(sh.status, 0, sh.stderr);
  assert.match(sh.stdout, /^hi\nSeccomp:\s+2\n$/);
  const core = runUnder(program, [
    '/bin/sh',
    '-c',
    'ls -la / >/dev/null && id -u && sort </etc/passwd >/dev/null && f=$(mktemp) && cp /etc/hostname $f && rm $f && echo ok',
  ]);
  assert.is(core.status, 0, core.stderr);
  assert.is(core.stdout, '0\nok\n');
  const node = runUnder(program, [
    process.execPath,
    '-e',
    `const { Worker } = require('worker_threads');
     const w = new Worker('require("worker_threads").parentPort.postMessage(6 * 7)', { eval: true });
     w.on('message', (m) => {
       const child = require('child_process').execFileSync('/bin/echo', ['child']).toString().trim();
       console.log(m, child, require('crypto').randomBytes(8).length);
       w.terminate();
     });`,
  ]);
  assert.is(node.status, 0, node.stderr);
  assert.is(node.stdout, '42 child 8\n');
  const refused = runUnder(program, [
    '/bin/sh',
    '-c',
    'unshare -U true 2>/dev/null; echo $?; mount -t tmpfs none /mnt 2>/dev/null; echo $?',
  ]);
  assert.is(refused.stdout, '1\n32\n', refused.stderr);
});

test.after(() => tmp.remove());

test.run();
