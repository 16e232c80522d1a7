// The seccomp compiler, run: compiled programs go through a classic BPF
// interpreter (test/bpf.ts) over seccomp_data, on both architectures.
// seccomp-kernel.test.ts loads the same kind of programs into the kernel.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkSeccomp } from '../../compiler/check/seccomp.ts';
import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, defaultEnv } from '../../compiler/spec.ts';
import type { SpecSeccomp, SpecSeccompArg, SpecSeccompRule } from '../../plan/seccomp/types.ts';
import { Asm, assemble } from '../../plan/seccomp/asm.ts';
import { actionValue, auditArch, compileSeccomp, seccompDigest, seccompFlags } from '../../plan/seccomp/bpf.ts';
import { seccompOriginsOfOci, seccompSpecOfOci } from '../../compiler/seccomp/oci.ts';
import { seccompSpecOf } from '../../compiler/seccomp/policy.ts';
import { formatSeccompAction, formatSeccompRule, parseSeccompAction, parseSeccompRule } from '../../plan/seccomp/text.ts';
import { u64Of } from '../../plan/seccomp/values.ts';
import { type Seccomp, defaultSeccomp } from '../../stdlib/seccomp.ts';
import { errnoNumbers, syscallNumbers } from '../../stdlib/syscalls.ts';
import { disassemble, run, verify } from '../bpf.ts';

const X86_64 = auditArch.x86_64;
const AARCH64 = auditArch.aarch64;
const AUDIT_ARCH_I386 = 0x40000003;
const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const errno = (n: number) => 0x00050000 | n;
const nr = (arch: 'x86_64' | 'aarch64', name: string) => (syscallNumbers[arch] as Record<string, number>)[name];

const policy = (rules: SpecSeccompRule[], more: Partial<SpecSeccomp> = {}): SpecSeccomp => ({
  defaultAction: 'errno',
  defaultRet: 1,
  architectures: ['x86_64', 'aarch64'],
  flags: [],
  rules,
  ...more,
});
const rule = (action: SpecSeccompRule['action'], syscalls: string[], args: SpecSeccompArg[] = [], ret?: number): SpecSeccompRule => ({
  syscalls,
  action,
  ...(ret === undefined ? {} : { ret }),
  args,
});

/** The verdict for a syscall by name on an architecture. */
function verdict(program: Buffer, arch: 'x86_64' | 'aarch64', name: string, args: (bigint | number)[] = []): number {
  const n = nr(arch, name);
  if (n === undefined) throw new Error(`${name} is not a syscall on ${arch}`);
  return run(program, { nr: n, arch: auditArch[arch], args });
}

// ---- tables ---------------------------------------------------------------

test('the syscall tables hold the kernel numbers of both architectures', () => {
  assert.is(syscallNumbers.x86_64.read, 0);
  assert.is(syscallNumbers.x86_64.openat, 257);
  assert.is(syscallNumbers.x86_64.clone, 56);
  assert.is(syscallNumbers.aarch64.io_setup, 0);
  assert.is(syscallNumbers.aarch64.read, 63);
  assert.is(syscallNumbers.aarch64.openat, 56);
  assert.is(syscallNumbers.aarch64.clone, 220);
  // asm-generic's __NR3264_ aliases, resolved for a 64-bit long
  assert.is(syscallNumbers.aarch64.fcntl, 25);
  assert.is(syscallNumbers.aarch64.newfstatat, 79);
  assert.is(syscallNumbers.x86_64.clone3, 435);
  assert.is(syscallNumbers.aarch64.clone3, 435);
  assert.is(syscallNumbers.x86_64.fchmodat2, 452); // newer than the 6.1 headers
  assert.not.ok('open' in syscallNumbers.aarch64);
  assert.is(errnoNumbers.EPERM, 1);
  assert.is(errnoNumbers.ENOSYS, 38);
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const numbers = Object.values(syscallNumbers[arch]);
    assert.is(new Set(numbers).size, numbers.length, `${arch}: numbers are unique`);
  }
});

test('a misspelled syscall or errno name is a TypeScript error', () => {
  const ok: Seccomp = { defaultAction: 'errno', defaultErrno: 'EPERM', rules: [{ action: 'allow', syscalls: ['read', 'open'] }] };
  // @ts-expect-error: 'raed' is not a syscall
  const typo: Seccomp = { defaultAction: 'allow', rules: [{ action: 'allow', syscalls: ['raed'] }] };
  // @ts-expect-error: not an errno name
  const badErrno: Seccomp = { defaultAction: 'errno', defaultErrno: 'EPREM', rules: [] };
  // @ts-expect-error: errno belongs to the errno action only
  const misplaced: Seccomp = { defaultAction: 'allow', rules: [{ action: 'allow', errno: 1, syscalls: ['read'] }] };
  // biome-ignore format: one line, so the @ts-expect-error above it meets its error
  // @ts-expect-error: masked_eq needs valueTwo
  const noValueTwo: Seccomp = { defaultAction: 'allow', rules: [{ action: 'allow', syscalls: ['clone'], args: [{ index: 0, op: 'masked_eq', value: 1 }] }] };
  assert.ok(ok && typo && badErrno && misplaced && noValueTwo);
});

test("64-bit values: numbers, bigints, decimal and hex strings; negatives as two's complement", () => {
  assert.is(u64Of(5), 5n);
  assert.is(u64Of(-1), 2n ** 64n - 1n);
  assert.is(u64Of(-100), 2n ** 64n - 100n);
  assert.is(u64Of(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.is(u64Of('0x7e020000'), 0x7e020000n);
  assert.is(u64Of('18446744073709551615'), 2n ** 64n - 1n);
  assert.is(u64Of('18446744073709551616'), undefined);
  assert.is(u64Of(2 ** 53), undefined);
  assert.is(u64Of(1.5), undefined);
  assert.is(u64Of('012'), undefined);
});

// ---- the program ----------------------------------------------------------

test('allowed and refused syscalls on both architectures', () => {
  // clone3 (435) is named so that no number here is above the policy (see the ENOSYS test)
  const p = compileSeccomp(policy([rule('allow', ['read', 'write', 'open', 'exit_group']), rule('errno', ['clone3'], [], 38)]));
  for (const arch of ['x86_64', 'aarch64'] as const) {
    assert.is(verdict(p, arch, 'read'), ALLOW, arch);
    assert.is(verdict(p, arch, 'write'), ALLOW, arch);
    assert.is(verdict(p, arch, 'exit_group'), ALLOW, arch);
    assert.is(verdict(p, arch, 'close'), errno(1), arch);
    assert.is(verdict(p, arch, 'openat'), errno(1), arch);
  }
  // open exists on x86_64 only; on aarch64 its x86_64 number (2) is io_submit
  assert.is(verdict(p, 'x86_64', 'open'), ALLOW);
  assert.is(verdict(p, 'aarch64', 'io_submit'), errno(1));
});

test('the architecture check: unlisted, 32-bit and x32 syscalls are killed', () => {
  const p = compileSeccomp(policy([rule('allow', ['getpid'])], { defaultAction: 'allow', defaultRet: undefined }));
  assert.is(run(p, { nr: 39, arch: X86_64 }), ALLOW);
  assert.is(run(p, { nr: 20, arch: AUDIT_ARCH_I386 }), KILL_PROCESS, 'i386 via int 0x80');
  assert.is(run(p, { nr: 39, arch: 0xc00000f3 }), KILL_PROCESS, 'riscv64');
  assert.is(run(p, { nr: 0x40000000 | 39, arch: X86_64 }), KILL_PROCESS, 'x32 getpid');
  assert.is(run(p, { nr: -1, arch: X86_64 }), KILL_PROCESS, 'nr -1 has bit 30 set');
  assert.is(run(p, { nr: 0x40000000 | 39, arch: AARCH64 }), ALLOW, 'no x32 on aarch64: the default');
  const onlyArm = compileSeccomp(policy([rule('allow', ['getpid'])], { architectures: ['aarch64'] }));
  assert.is(run(onlyArm, { nr: 39, arch: X86_64 }), KILL_PROCESS);
  assert.is(run(onlyArm, { nr: nr('aarch64', 'getpid'), arch: AARCH64 }), ALLOW);
});

/** The reference meaning of a comparison, on unsigned 64-bit numbers. */
function holds(op: SpecSeccompArg['op'], arg: bigint, value: bigint, valueTwo = 0n): boolean {
  // biome-ignore format: a table: each operator and its meaning
  switch (op) {
    case 'eq': return arg === value;
    case 'ne': return arg !== value;
    case 'lt': return arg < value;
    case 'le': return arg <= value;
    case 'gt': return arg > value;
    case 'ge': return arg >= value;
    case 'masked_eq': return (arg & value) === valueTwo;
  }
}

const M32 = 2n ** 32n;
// biome-ignore format: a list of values
const interesting = [0n, 1n, 2n, 0x7fffffffn, 0x80000000n, M32 - 2n, M32 - 1n, M32, M32 + 1n, M32 + 2n, 2n * M32, 2n * M32 + 1n, 0x123456789n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n];

test('every comparison on 64-bit values, around 2^32 and with high bits set, on every argument', () => {
  const ops: SpecSeccompArg['op'][] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
  for (const op of ops) {
    for (const value of interesting) {
      for (const index of [0, 5]) {
        const p = compileSeccomp(policy([rule('allow', ['getpid'], [{ index, op, value: value.toString() }])]));
        for (const arch of ['x86_64', 'aarch64'] as const) {
          for (const arg of interesting) {
            const args = Array(6).fill(0n);
            args[index] = arg;
            const want = holds(op, arg, value) ? ALLOW : errno(1);
            assert.is(verdict(p, arch, 'getpid', args), want, `${arch} arg${index}=${arg} ${op} ${value}`);
          }
        }
      }
    }
  }
});

test('masked_eq masks both halves', () => {
  const masks = [0xffn, 0x7e020000n, M32 - 1n, M32, 0xff00000000n, 0xffff0000ffff0000n, 2n ** 64n - 1n];
  for (const mask of masks) {
    for (const want of [0n, mask & 0x0f0f0f0f0f0f0f0fn, mask]) {
      const p = compileSeccomp(
        policy([rule('allow', ['ioctl'], [{ index: 1, op: 'masked_eq', value: mask.toString(), valueTwo: want.toString() }])]),
      );
      for (const arg of [...interesting, mask, want, mask | 1n, want | M32]) {
        const expected = (arg & mask) === want ? ALLOW : errno(1);
        assert.is(verdict(p, 'x86_64', 'ioctl', [0, arg]), expected, `(${arg} & ${mask}) == ${want}`);
      }
    }
  }
  // a compare value with bits outside the mask never matches
  const never = compileSeccomp(policy([rule('allow', ['ioctl'], [{ index: 0, op: 'masked_eq', value: '255', valueTwo: '256' }])]));
  assert.is(verdict(never, 'x86_64', 'ioctl', [256]), errno(1));
});

test('the first matching rule decides; conditions in a rule must all hold', () => {
  const p = compileSeccomp(
    policy([
      rule('errno', ['kill'], [{ index: 1, op: 'eq', value: '9' }], 5),
      rule(
        'allow',
        ['kill'],
        [
          { index: 0, op: 'gt', value: '1' },
          { index: 0, op: 'lt', value: '100' },
        ],
      ),
      rule('errno', ['kill', 'tkill'], [], 7),
      rule('allow', ['kill']), // dead: the rule before always matches
    ]),
  );
  assert.is(verdict(p, 'x86_64', 'kill', [50, 9]), errno(5));
  assert.is(verdict(p, 'x86_64', 'kill', [50, 15]), ALLOW);
  assert.is(verdict(p, 'x86_64', 'kill', [1, 15]), errno(7));
  assert.is(verdict(p, 'x86_64', 'kill', [100, 15]), errno(7));
  assert.is(verdict(p, 'aarch64', 'tkill'), errno(7));
  const reversed = compileSeccomp(policy([rule('allow', ['kill']), rule('errno', ['kill'], [{ index: 1, op: 'eq', value: '9' }], 5)]));
  assert.is(verdict(reversed, 'x86_64', 'kill', [50, 9]), ALLOW);
});

test('actions and their values', () => {
  const p = compileSeccomp(
    policy(
      [
        rule('errno', ['getuid'], [], 13),
        rule('trace', ['getgid'], [], 0x1234),
        rule('trap', ['getppid']),
        rule('log', ['getpgrp']),
        rule('kill_thread', ['gettid']),
        rule('kill_process', ['getsid']),
        rule('allow', ['getpid']),
      ],
      { defaultAction: 'errno', defaultRet: 95 },
    ),
  );
  assert.is(verdict(p, 'x86_64', 'getuid'), 0x0005000d);
  assert.is(verdict(p, 'x86_64', 'getgid'), 0x7ff01234);
  assert.is(verdict(p, 'x86_64', 'getppid'), 0x00030000);
  assert.is(verdict(p, 'x86_64', 'getpgrp'), 0x7ffc0000);
  assert.is(verdict(p, 'x86_64', 'gettid'), 0x00000000);
  assert.is(verdict(p, 'x86_64', 'getsid'), 0x80000000);
  assert.is(verdict(p, 'x86_64', 'getpid'), ALLOW);
  assert.is(verdict(p, 'x86_64', 'getegid'), errno(95), 'the default');
  assert.is(actionValue('notify'), 0x7fc00000);
  assert.is(actionValue('errno'), errno(1), 'errno without a value is EPERM');
  assert.is(seccompFlags(policy([], { flags: ['log', 'spec_allow'] })), 6);
});

test('numbers above every named syscall get ENOSYS under a refusing default, as with runc', () => {
  const p = compileSeccomp(policy([rule('allow', ['read', 'clone3'])]));
  assert.is(run(p, { nr: 434, arch: X86_64 }), errno(1), 'below the highest named: the default');
  assert.is(run(p, { nr: 436, arch: X86_64 }), errno(38));
  assert.is(run(p, { nr: 1000, arch: AARCH64 }), errno(38));
  assert.is(run(p, { nr: 0x3fffffff, arch: X86_64 }), errno(38));
  const allowing = compileSeccomp(policy([rule('errno', ['read'], [], 1)], { defaultAction: 'allow', defaultRet: undefined }));
  assert.is(run(allowing, { nr: 1000, arch: X86_64 }), ALLOW, 'an allowing default stays');
  const none = compileSeccomp(policy([]));
  assert.is(run(none, { nr: 1000, arch: X86_64 }), errno(1), 'no rules: nothing is newer than the policy');
});

test('the same policy compiles to the same bytes; the digest is sha256 of them', () => {
  const s = seccompSpecOf(defaultSeccomp);
  const a = compileSeccomp(s);
  const b = compileSeccomp(structuredClone(s));
  assert.ok(a.equals(b));
  assert.match(seccompDigest(a), /^[0-9a-f]{64}$/);
  assert.is(seccompDigest(a), seccompDigest(b));
  assert.is.not(seccompDigest(a), seccompDigest(compileSeccomp({ ...s, defaultRet: 13 })));
});

// ---- long programs --------------------------------------------------------

test('jumps further than 255 instructions go through trampolines, and stay right', () => {
  // One rule per syscall with its own errno and a condition: nothing merges,
  // so each architecture's section is well over 255 instructions.
  const names = Object.keys(syscallNumbers.x86_64).slice(0, 300);
  const rules = names.map((n, i) => rule('errno', [n], [{ index: 0, op: 'ne', value: String(i) }], 1 + (i % 4000)));
  const p = compileSeccomp(policy(rules));
  const size = verify(p).length;
  assert.ok(size > 2 * 255 * 2, `the program has ${size} instructions`);
  assert.ok(
    disassemble(p).some((l) => / ja /.test(l)),
    'some trampoline',
  );
  names.forEach((n) => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      if (nr(arch, n) === undefined) continue;
      // another rule may name the same number on aarch64; the first rule for it decides
      const first = names.findIndex((m) => nr(arch, m) === nr(arch, n));
      assert.is(verdict(p, arch, n, [first + 1]), errno(1 + (first % 4000)), `${arch} ${n}`);
      assert.is(verdict(p, arch, n, [first]), errno(1), `${arch} ${n} when the condition fails`);
    }
  });
});

test('the assembler reaches far targets on either branch, or both', () => {
  // ld nr; jeq 1 ? T : F with T and F each beyond 255 instructions, in both orders and distances
  for (const [tFirst, pad] of [
    [true, 300],
    [false, 300],
    [true, 10],
    [false, 260],
  ] as const) {
    const a = new Asm();
    const [t, f] = [a.label(), a.label()];
    a.ld(0);
    a.jump('jeq', 1, t, f);
    for (let i = 0; i < 300; i++) a.ret(0xdead);
    const place = (label: typeof t, value: number, gap: number) => {
      a.at(label);
      a.ret(value);
      for (let i = 0; i < gap; i++) a.ret(0xbeef);
    };
    if (tFirst) place(t, 0x7fff0000, pad), place(f, 0x50001, 0);
    else place(f, 0x50001, pad), place(t, 0x7fff0000, 0);
    const p = assemble(a.code);
    assert.is(run(p, { nr: 1, arch: 0 }), 0x7fff0000, `taken, ${tFirst} ${pad}`);
    assert.is(run(p, { nr: 2, arch: 0 }), 0x50001, `not taken, ${tFirst} ${pad}`);
  }
});

test('a policy over the kernel limit of 4096 instructions is refused with its size', () => {
  const many = Array.from({ length: 500 }, (_, i) => rule('errno', ['ioctl'], [{ index: 1, op: 'eq', value: String(i) }], 1 + i));
  try {
    compileSeccomp(policy(many));
    assert.unreachable('compiled');
  } catch (e) {
    assert.instance(e, CtcError);
    assert.is((e as CtcError).code, 'CT_LIMIT_RANGE');
    assert.match((e as CtcError).message, /compiles to \d+ BPF instructions; the kernel takes at most 4096/);
  }
});

// ---- random policies against the reference meaning -----------------------

/** mulberry32: a fixed seed gives the same cases on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What SpecSeccomp means, written directly from compiler/spec.ts and the compiler's documented rules. */
function reference(s: SpecSeccomp, arch: number, n: number, args: bigint[]): number {
  const name = (Object.keys(auditArch) as ('x86_64' | 'aarch64')[]).find((a) => auditArch[a] === arch);
  if (!name || !s.architectures.includes(name)) return KILL_PROCESS;
  const u = n >>> 0;
  if (name === 'x86_64' && u >= 0x40000000) return KILL_PROCESS;
  const table = syscallNumbers[name] as Record<string, number>;
  const numbered = (r: SpecSeccompRule) => r.syscalls.some((x) => table[x] === u);
  for (const r of s.rules) {
    if (numbered(r) && r.args.every((c) => holds(c.op, args[c.index], BigInt(c.value), BigInt(c.valueTwo ?? 0))))
      return actionValue(r.action, r.ret);
  }
  const named = s.rules.flatMap((r) => r.syscalls.map((x) => table[x]).filter((x) => x !== undefined));
  const refusing = ['errno', 'kill_process', 'kill_thread', 'trap'].includes(s.defaultAction);
  if (refusing && named.length && u > Math.max(...named)) return errno(38);
  return actionValue(s.defaultAction, s.defaultRet);
}

test('random policies give what the reference meaning gives, for random syscalls', () => {
  const rand = prng(20240601);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  // biome-ignore format: a list of names
  const pool = ['read', 'write', 'open', 'openat', 'close', 'ioctl', 'clone', 'mmap', 'kill', 'getpid', 'fcntl', 'io_setup', 'io_submit', 'arch_prctl', 'clone3'];
  const ops: SpecSeccompArg['op'][] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];
  const actions: SpecSeccompRule['action'][] = ['allow', 'errno', 'kill_process', 'trap', 'log', 'trace'];
  const value = () =>
    rand() < 0.8 ? pick(interesting) : BigInt(Math.floor(rand() * 2 ** 32)) * M32 + BigInt(Math.floor(rand() * 2 ** 32));
  let checked = 0;
  for (let round = 0; round < 150; round++) {
    const rules = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => {
      const action = pick(actions);
      const args = Array.from({ length: Math.floor(rand() * 3) }, (): SpecSeccompArg => {
        const op = pick(ops);
        return {
          index: Math.floor(rand() * 6),
          op,
          value: value().toString(),
          ...(op === 'masked_eq' ? { valueTwo: (value() & value()).toString() } : {}),
        };
      });
      const syscalls = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(pool));
      return rule(
        action,
        syscalls,
        args,
        action === 'errno' ? 1 + Math.floor(rand() * 4095) : action === 'trace' ? Math.floor(rand() * 65536) : undefined,
      );
    });
    const s = policy(rules, {
      defaultAction: pick(['errno', 'allow', 'kill_process', 'log'] as const),
      architectures: pick([['x86_64', 'aarch64'], ['aarch64', 'x86_64'], ['x86_64'], ['aarch64']]),
    });
    if (s.defaultAction !== 'errno') delete s.defaultRet;
    const p = compileSeccomp(s);
    for (let k = 0; k < 60; k++) {
      const arch = pick([X86_64, X86_64, AARCH64, AARCH64, AUDIT_ARCH_I386]);
      const table = syscallNumbers[arch === AARCH64 ? 'aarch64' : 'x86_64'] as Record<string, number>;
      const n = rand() < 0.8 ? (table[pick(pool)] ?? 3) : pick([0, 1, 300, 500, 0x40000000 | 1, -1]);
      const args = Array.from({ length: 6 }, () =>
        rand() < 0.5 ? value() : (pick(rules.flatMap((r) => r.args.map((c) => BigInt(c.value)))) ?? 0n),
      );
      const want = reference(s, arch, n, args);
      const got = run(p, { nr: n, arch, args });
      if (got !== want) {
        assert.fixture(
          `${got.toString(16)}`,
          `${want.toString(16)}`,
          `nr ${n} arch ${arch.toString(16)} args ${args}\n${rules.map(formatSeccompRule).join('\n')}`,
        );
      }
      checked++;
    }
  }
  assert.is(checked, 150 * 60);
});

// ---- the default profile --------------------------------------------------

const CLONE_THREAD_FLAGS = 0x003d0f00; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID (glibc pthread_create)
const CLONE_FORK_FLAGS = 0x01200011; // CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD (glibc fork)
const CLONE_NEWUSER = 0x10000000;

test('defaultSeccomp: a normal program runs; what reaches the host is refused', () => {
  const p = compileSeccomp(seccompSpecOf(defaultSeccomp));
  for (const arch of ['x86_64', 'aarch64'] as const) {
    // biome-ignore format: a list of names
    for (const ok of ['read', 'write', 'openat', 'execve', 'mmap', 'futex', 'epoll_pwait', 'socket', 'getrandom', 'rt_sigreturn', 'exit_group', 'wait4', 'setuid', 'capset', 'prctl', 'chdir', 'statx', 'fchmodat2']) {
      assert.is(verdict(p, arch, ok), ALLOW, `${arch} ${ok}`);
    }
    // biome-ignore format: a list of names
    for (const no of ['mount', 'umount2', 'pivot_root', 'unshare', 'setns', 'kexec_load', 'init_module', 'finit_module', 'delete_module', 'bpf', 'perf_event_open', 'ptrace', 'process_vm_readv', 'keyctl', 'add_key', 'acct', 'swapon', 'reboot', 'settimeofday', 'clock_settime', 'adjtimex', 'quotactl', 'open_by_handle_at', 'name_to_handle_at', 'userfaultfd', 'lookup_dcookie', 'syslog', 'vhangup', 'mbind', 'set_mempolicy', 'move_pages', 'kcmp', 'fsopen', 'move_mount', 'io_uring_setup']) {
      assert.is(verdict(p, arch, no), errno(1), `${arch} ${no}`);
    }
    assert.is(verdict(p, arch, 'clone', [CLONE_THREAD_FLAGS]), ALLOW, `${arch} clone for a thread`);
    assert.is(verdict(p, arch, 'clone', [CLONE_FORK_FLAGS]), ALLOW, `${arch} clone for fork`);
    assert.is(verdict(p, arch, 'clone', [CLONE_FORK_FLAGS | CLONE_NEWUSER]), errno(1), `${arch} clone with CLONE_NEWUSER`);
    assert.is(verdict(p, arch, 'clone', [0x00020000 | 17]), errno(1), `${arch} clone with CLONE_NEWNS`);
    assert.is(verdict(p, arch, 'clone', [0x40000000n | (1n << 40n)]), errno(1), `${arch} clone with CLONE_NEWNET`);
    assert.is(verdict(p, arch, 'clone3'), errno(38), `${arch} clone3 → ENOSYS`);
    for (const persona of [0, 8, 0x20000, 0x20008, 0xffffffff])
      assert.is(verdict(p, arch, 'personality', [persona]), ALLOW, `personality ${persona}`);
    assert.is(verdict(p, arch, 'personality', [0x0040000]), errno(1), 'personality ADDR_NO_RANDOMIZE');
    assert.is(verdict(p, arch, 'personality', [2n ** 32n + 8n]), errno(1), 'high bits do not pass');
  }
  for (const x86only of ['open', 'stat', 'fork', 'arch_prctl', 'select', 'time']) assert.is(verdict(p, 'x86_64', x86only), ALLOW, x86only);
  for (const no of ['iopl', 'ioperm', 'uselib', 'ustat', 'sysfs', 'modify_ldt']) assert.is(verdict(p, 'x86_64', no), errno(1), no);
});

test('defaultSeccomp compiles well under 4096 instructions', () => {
  const p = compileSeccomp(seccompSpecOf(defaultSeccomp));
  const size = verify(p).length;
  console.log(`    defaultSeccomp: ${size} BPF instructions (${p.length} bytes) for x86_64 and aarch64`);
  assert.ok(size < 1024, `${size} instructions`);
});

// ---- plan text ------------------------------------------------------------

test('every rule of defaultSeccomp prints and parses back to itself', () => {
  const s = seccompSpecOf(defaultSeccomp);
  for (const r of s.rules) {
    const text = formatSeccompRule(r);
    assert.equal(parseSeccompRule(text), r, text);
    assert.is(formatSeccompRule(parseSeccompRule(text)), text);
  }
  const lines = s.rules.map(formatSeccompRule);
  assert.ok(lines.includes('allow clone if arg0&0x7e020000==0'), lines.join('\n'));
  assert.ok(lines.includes('allow personality if arg0==0xffffffff'));
  assert.ok(lines.includes('errno:38 clone3'));
  assert.is(formatSeccompAction(s.defaultAction, s.defaultRet), 'errno:1');
});

test('rule text: every operator, 64-bit values, actions with values', () => {
  const cases = [
    'allow read write openat',
    'errno:38 clone3',
    'errno:1 personality if arg0!=0 && arg0!=8',
    'trace:4660 getpid if arg5>=0xffffffffffffffff && arg4<4096 && arg3<=0x10000 && arg2>0 && arg1==65535',
    'kill_process ptrace',
    'allow ioctl if arg1&0xffffffff00000000==0x100000000',
    'log',
  ];
  for (const text of cases) assert.is(formatSeccompRule(parseSeccompRule(text)), text);
  assert.equal(parseSeccompRule('allow kill if arg1&0xff==9'), {
    syscalls: ['kill'],
    action: 'allow',
    args: [{ index: 1, op: 'masked_eq', value: '255', valueTwo: '9' }],
  });
  assert.equal(parseSeccompRule('errno:EACCES read'), { syscalls: ['read'], action: 'errno', ret: 13, args: [] });
  assert.equal(parseSeccompAction('kill_thread'), { action: 'kill_thread' });
  assert.equal(parseSeccompAction('trace:7'), { action: 'trace', ret: 7 });
  // biome-ignore format: a list of rule texts
  for (const bad of ['allow read if arg6==1', 'deny read', 'allow read if arg0=1', 'allow Read', 'allow read if arg0==0x1FF', 'allow read if arg0==18446744073709551616', 'errno:EWHAT read']) {
    assert.throws(() => parseSeccompRule(bad), (e: CtcError) => e.code === 'CT_PLAN_SYNTAX', bad);
  }
});

// ---- from sources ---------------------------------------------------------

test("seccompSpecOf: errno names to numbers, default architectures, values as decimal strings, the author's order", () => {
  const s = seccompSpecOf({
    defaultAction: 'errno',
    rules: [
      { action: 'errno', errno: 'ENOSYS', syscalls: ['clone3'] },
      {
        action: 'allow',
        syscalls: ['ioctl'],
        args: [
          { index: 1, op: 'eq', value: '0x5401' },
          { index: 2, op: 'ne', value: -1 },
        ],
      },
      { action: 'allow', syscalls: ['mmap'], args: [{ index: 3, op: 'masked_eq', value: 2n ** 63n, valueTwo: 0 }] },
      { action: 'errno', syscalls: ['read'] },
      { action: 'trace', ret: 9, syscalls: ['write'] },
    ],
  });
  assert.equal(s, {
    defaultAction: 'errno',
    defaultRet: 1,
    architectures: ['x86_64', 'aarch64'],
    flags: [],
    rules: [
      { syscalls: ['clone3'], action: 'errno', ret: 38, args: [] },
      {
        syscalls: ['ioctl'],
        action: 'allow',
        args: [
          { index: 1, op: 'eq', value: '21505' },
          { index: 2, op: 'ne', value: '18446744073709551615' },
        ],
      },
      { syscalls: ['mmap'], action: 'allow', args: [{ index: 3, op: 'masked_eq', value: '9223372036854775808', valueTwo: '0' }] },
      { syscalls: ['read'], action: 'errno', ret: 1, args: [] },
      { syscalls: ['write'], action: 'trace', ret: 9, args: [] },
    ],
  });
});

test('seccompSpecOf: shapes that got past the type checker are refused at their position', () => {
  const origins: Origins = new Map([
    ['process.seccomp', 'app.ct.ts:5:14'],
    ['process.seccomp.rules[0]', 'app.ct.ts:6:5'],
    ['process.seccomp.rules[0].errno', 'app.ct.ts:6:40'],
  ]);
  const refused = (p: unknown): [string, string | undefined, string] => {
    try {
      seccompSpecOf(p as Seccomp, origins);
      return ['', undefined, 'accepted'];
    } catch (e) {
      return [(e as CtcError).code, (e as CtcError).source, (e as CtcError).message];
    }
  };
  assert.equal(refused({ defaultAction: 'allow', rules: [{ action: 'allow', errno: 1, syscalls: ['read'] }] }).slice(0, 2), [
    'CT_SHAPE',
    'app.ct.ts:6:40',
  ]);
  assert.equal(refused({ defaultAction: 'allow', rules: [{ action: 'errno', errno: 'EWHAT', syscalls: ['read'] }] }).slice(0, 2), [
    'CT_SHAPE',
    'app.ct.ts:6:40',
  ]);
  assert.equal(
    refused({ defaultAction: 'allow', rules: [{ action: 'allow', syscalls: ['read'], args: [{ index: 0, op: 'eq', value: 1.5 }] }] }).slice(
      0,
      2,
    ),
    ['CT_SHAPE', 'app.ct.ts:6:5'],
  );
  assert.equal(refused({ defaultAction: 'allow' }).slice(0, 2), ['CT_SHAPE', 'app.ct.ts:5:14']);
});

const dockerish = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
  syscalls: [
    { names: ['read', 'write', '_llseek', 'socketcall'], action: 'SCMP_ACT_ALLOW' },
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
    {
      names: ['personality'],
      action: 'SCMP_ACT_ALLOW',
      args: [
        { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
        { index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' },
      ],
    },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    { name: 'ptrace', action: 'SCMP_ACT_KILL' },
    { names: ['getppid'], action: 'SCMP_ACT_TRACE' },
  ],
};

test('seccompSpecOfOci: libseccomp names, runc defaults, ORed conditions on one index', () => {
  assert.equal(seccompSpecOfOci(dockerish), {
    defaultAction: 'errno',
    defaultRet: 1,
    architectures: ['x86_64'],
    flags: ['spec_allow'],
    rules: [
      { syscalls: ['read', 'write', '_llseek', 'socketcall'], action: 'allow', args: [] },
      { syscalls: ['clone'], action: 'allow', args: [{ index: 0, op: 'masked_eq', value: '2114060288', valueTwo: '0' }] },
      { syscalls: ['personality'], action: 'allow', args: [{ index: 0, op: 'eq', value: '0' }] },
      { syscalls: ['personality'], action: 'allow', args: [{ index: 0, op: 'eq', value: '8' }] },
      { syscalls: ['clone3'], action: 'errno', ret: 38, args: [] },
      { syscalls: ['ptrace'], action: 'kill_thread', args: [] },
      { syscalls: ['getppid'], action: 'trace', ret: 1, args: [] },
    ],
  });
  assert.equal(seccompSpecOfOci({ defaultAction: 'SCMP_ACT_ALLOW' }).architectures, ['x86_64', 'aarch64']);
  const s = seccompSpecOfOci(dockerish);
  assert.equal(checkSeccomp(withSeccomp(s), new Map()), [], "other ABIs' names are accepted");
  const p = compileSeccomp(s);
  assert.is(verdict(p, 'x86_64', 'personality', [8]), ALLOW);
  assert.is(verdict(p, 'x86_64', 'personality', [9]), errno(1));
  assert.is(run(p, { nr: 3, arch: AUDIT_ARCH_I386 }), KILL_PROCESS, 'SCMP_ARCH_X86 is left to the architecture check');
});

test('seccompOriginsOfOci: spec paths point at the config lines, split rules included', () => {
  const at = new Map([
    ['linux.seccomp', 'config.json:10:16'],
    ['linux.seccomp.syscalls[2]', 'config.json:20:7'],
    ['linux.seccomp.syscalls[2].args[1]', 'config.json:22:9'],
    ['linux.seccomp.syscalls[3].names[0]', 'config.json:25:18'],
    ['linux.seccomp.architectures[0]', 'config.json:11:5'],
  ]);
  const o = seccompOriginsOfOci(dockerish, at);
  assert.is(o.get('process.seccomp'), 'config.json:10:16');
  assert.is(o.get('process.seccomp.rules[2]'), 'config.json:20:7');
  assert.is(o.get('process.seccomp.rules[3]'), 'config.json:20:7');
  assert.is(o.get('process.seccomp.rules[3].args[0]'), 'config.json:22:9');
  assert.is(o.get('process.seccomp.rules[4].syscalls[0]'), 'config.json:25:18');
  assert.is(o.get('process.seccomp.architectures[0]'), 'config.json:11:5');
  try {
    seccompSpecOfOci({ defaultAction: 'SCMP_ACT_DENY' }, new Map([['linux.seccomp.defaultAction', 'config.json:3:20']]));
    assert.unreachable();
  } catch (e) {
    assert.is((e as CtcError).code, 'CT_SHAPE');
    assert.is((e as CtcError).source, 'config.json:3:20');
    assert.match((e as CtcError).message, /SCMP_ACT_ALLOW/);
  }
});

// ---- checks ---------------------------------------------------------------

function withSeccomp(seccomp: SpecSeccomp): Spec {
  return {
    rootfs: { kind: 'dir', path: '/srv/root', readonly: false },
    process: {
      args: ['/bin/true'],
      env: [...defaultEnv],
      cwd: '/',
      user: { uid: 0, gid: 0, additionalGids: [] },
      terminal: false,
      rlimits: [],
      noNewPrivileges: true,
      seccomp,
    },
    namespaces: ['mount'],
    network: { interfaces: [], routes: [], ports: [] },
    uidMappings: [],
    gidMappings: [],
    mounts: [],
    devices: [],
    maskedPaths: [],
    readonlyPaths: [],
    resources: { devices: [] },
    cgroupsPath: '/ctc/{id}',
    annotations: {},
    sysctl: {},
    hooks: {},
  };
}

test('checks: each mistake is coded and placed at its source', () => {
  const origins: Origins = new Map([
    ['process.seccomp', 'c.json:1:1'],
    ['process.seccomp.defaultAction', 'c.json:2:1'],
    ['process.seccomp.architectures[1]', 'c.json:3:1'],
    ['process.seccomp.flags[0]', 'c.json:4:1'],
    ['process.seccomp.rules[0]', 'c.json:5:1'],
    ['process.seccomp.rules[0].syscalls[1]', 'c.json:5:20'],
    ['process.seccomp.rules[1]', 'c.json:6:1'],
    ['process.seccomp.rules[2]', 'c.json:7:1'],
    ['process.seccomp.rules[3]', 'c.json:8:1'],
    ['process.seccomp.rules[4]', 'c.json:9:1'],
    ['process.seccomp.rules[5]', 'c.json:10:1'],
    ['process.seccomp.rules[6]', 'c.json:11:1'],
  ]);
  const s = policy(
    [
      rule('allow', ['read', 'opne']),
      rule('notify', ['write']),
      rule('allow', ['ioctl'], [{ index: 6, op: 'eq', value: '1' }]),
      rule('allow', ['ioctl'], [{ index: 0, op: 'like' as 'eq', value: '1' }]),
      rule('allow', ['ioctl'], [{ index: 0, op: 'masked_eq', value: '1' }]),
      rule('errno', ['ioctl'], [], 4096),
      rule('allow', ['ioctl'], [], 1),
    ],
    { defaultAction: 'notify', defaultRet: undefined, architectures: ['x86_64', 's390x'], flags: ['new_listener'] },
  );
  const got = checkSeccomp(withSeccomp(s), origins).map((e) => [e.code, e.source, e.message]);
  const codes = got.map(([code, source]) => `${code} ${source}`);
  assert.equal(codes, [
    'CT_NOT_YET c.json:2:1',
    'CT_SECCOMP_ARCH c.json:3:1',
    'CT_NOT_YET c.json:4:1',
    'CT_SYSCALL_UNKNOWN c.json:5:20',
    'CT_NOT_YET c.json:6:1',
    'CT_SHAPE c.json:7:1',
    'CT_SHAPE c.json:8:1',
    'CT_SHAPE c.json:9:1',
    'CT_LIMIT_RANGE c.json:10:1',
    'CT_SHAPE c.json:11:1',
  ]);
  assert.match(got[0][2] as string, /notify needs a listener, which ctc does not run yet/);
  const unknown = checkSeccomp(withSeccomp(s), origins).find((e) => e.code === 'CT_SYSCALL_UNKNOWN')!;
  assert.match(unknown.message, /'opne' is not a syscall on x86_64 or aarch64/);
  assert.is(unknown.hint, "did you mean 'open'?");
});

test('checks: a name that only one listed architecture has is fine; an oversized policy is refused at the policy', () => {
  assert.equal(checkSeccomp(withSeccomp(policy([rule('allow', ['open', 'io_setup'])], { architectures: ['aarch64'] })), new Map()), []);
  assert.equal(checkSeccomp(withSeccomp(seccompSpecOf(defaultSeccomp)), new Map()), []);
  const many = Array.from({ length: 500 }, (_, i) => rule('errno', ['ioctl'], [{ index: 1, op: 'eq', value: String(i) }], 1 + i));
  const errors = checkSeccomp(withSeccomp(policy(many)), new Map([['process.seccomp', 'app.ct.ts:4:3']]));
  assert.equal(
    errors.map((e) => [e.code, e.source]),
    [['CT_LIMIT_RANGE', 'app.ct.ts:4:3']],
  );
});

test.run();
