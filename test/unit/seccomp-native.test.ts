// The C seccomp compiler (native/common/seccomp-*.c, for the launcher) against
// the TypeScript one (plan/seccomp/bpf.ts): the same rule text must give the
// same bytes, or the same refusal. A driver (test/native/seccomp-driver.c) is
// compiled here with cc and fed every proc.seccomp step of the golden plans,
// of the examples and of the OCI fixtures, a few hundred random policies and
// a few hundred mangled rule texts; then again built with AddressSanitizer
// and UBSan over the same input.
//
// One difference is meant: a syscall name no architecture has is skipped by
// compileSeccomp (the compiler's check refuses it before), and refused by the
// C compiler, which reads plans nothing checked before it.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { isSyscallName } from '../../compiler/check/seccomp.ts';
import { seccompProgram } from '../../executor/native-bridge/wire.ts';
import type { Step } from '../../plan/steps.ts';
import { parsePlan } from '../../plan/text.ts';
import { compileSeccomp, seccompDigest, seccompFlagBits } from '../../plan/seccomp/bpf.ts';
import { formatSeccompAction, formatSeccompRule, parseSeccompAction, parseSeccompRule } from '../../plan/seccomp/text.ts';
import type { SeccompAction, SpecSeccomp, SpecSeccompArg, SpecSeccompRule } from '../../plan/seccomp/types.ts';
import { errnoNumbers, otherAbiSyscalls, syscallNumbers } from '../../stdlib/syscalls.ts';
import { root, tempDir } from '../helpers.ts';

/** A proc.seccomp step's arguments, as the plan holds them. */
interface Args {
  default: string;
  arches: string[];
  flags: string[];
  rules: string[];
}

/** A case: the arguments, and what the plan says the program is (for steps of plans). */
interface Case {
  what: string;
  args: Args;
  step?: Step;
}

const work = tempDir('ctc-seccomp-native-');
// the seccomp compiler's own files: native/common also holds the plan reader, which needs native/strict-json.c
const common = readdirSync(join(root, 'native', 'common'))
  .filter((f) => f.startsWith('seccomp-') && f.endsWith('.c'))
  .map((f) => join(root, 'native', 'common', f));
const driverSource = join(root, 'test', 'native', 'seccomp-driver.c');

function compileDriver(name: string, extra: string[]): string {
  const out = join(work.dir, name);
  execFileSync(
    process.env.CC || 'cc',
    ['-Wall', '-Wextra', '-Werror', '-std=gnu11', ...extra, '-o', out, driverSource, ...common, '-lnettle'],
    {
      stdio: 'inherit',
    },
  );
  return out;
}

/** The driver's input; a step's size and sha256 go too (then seccomp_step_program holds the program to them). */
const input = (cases: Case[]) =>
  cases
    .map(({ args, step }) =>
      [
        `default ${args.default}`,
        ...args.arches.map((a) => `arch ${a}`),
        ...args.flags.map((f) => `flag ${f}`),
        ...args.rules.map((r) => `rule ${r}`),
        ...(step ? [`size ${step.args.size}`, `sha256 ${step.args.sha256}`] : []),
        'end',
        '',
      ].join('\n'),
    )
    .join('');

/** The driver's answer for each case: "ok FLAGS SIZE SHA256 HEX" or "error REASON". */
function runDriver(
  driver: string,
  cases: Case[],
  env: NodeJS.ProcessEnv = process.env,
): { lines: string[]; stderr: string; status: number | null } {
  const r = spawnSync(driver, [], { input: input(cases), encoding: 'utf8', maxBuffer: 1 << 28, env });
  return { lines: r.stdout.split('\n').slice(0, -1), stderr: r.stderr, status: r.status };
}

/** What the TypeScript side makes of the arguments, as executor/native-bridge/wire.ts reads them (plus the refusal of unknown names). */
function tsAnswer(args: Args): string {
  try {
    const { action, ret } = parseSeccompAction(args.default);
    const rules = args.rules.map(parseSeccompRule);
    const unknown = rules.flatMap((r) => r.syscalls).find((n) => !isSyscallName(n));
    if (unknown) return `error unknown syscall ${unknown}`;
    const flag = args.flags.find((f) => !Object.hasOwn(seccompFlagBits, f));
    if (flag) return `error unknown flag ${flag}`;
    const policy: SpecSeccomp = {
      defaultAction: action,
      ...(ret === undefined ? {} : { defaultRet: ret }),
      architectures: args.arches,
      flags: args.flags,
      rules,
    };
    const program = compileSeccomp(policy);
    const bits = args.flags.reduce((b, f) => b | seccompFlagBits[f], 0);
    return `ok ${bits} ${program.length / 8} ${seccompDigest(program)} ${program.toString('hex')}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

/** Each C answer is the TypeScript one, an error for an error (the words may differ). */
function compare(cases: Case[], lines: string[]): void {
  assert.is(lines.length, cases.length, 'one answer a case');
  cases.forEach((c, i) => {
    const ts = tsAnswer(c.args);
    const ok = ts.startsWith('ok ');
    if (!ok) assert.ok(lines[i].startsWith('error '), `${c.what}: TypeScript refuses (${ts}), C says ${lines[i].slice(0, 80)}`);
    else assert.is(lines[i], ts, `${c.what}: the C program is the TypeScript one`);
  });
}

// ---- the cases ----

const argsOf = (step: Step): Args => ({
  default: step.args.default as string,
  arches: step.args.arches as string[],
  flags: (step.args.flags as string[] | undefined) ?? [],
  rules: step.args.rules as string[],
});

const stepsOf = (text: string, what: string): Case[] =>
  parsePlan(text, what)
    .steps.filter((s) => s.kind === 'proc.seccomp')
    .map((step) => ({ what: `${what} step ${step.n}`, args: argsOf(step), step }));

async function planCases(): Promise<Case[]> {
  const golden = join(root, 'test', 'golden');
  const cases = readdirSync(golden)
    .filter((f) => f.endsWith('.plan'))
    .flatMap((f) => stepsOf(readFileSync(join(golden, f), 'utf8'), `test/golden/${f}`));
  // image.ct(.ts) needs an image archive that is not checked in; its policy is stdlib's default, which hello has too.
  const examples = readdirSync(join(root, 'examples'))
    .filter((f) => (f.endsWith('.ct.ts') || f.endsWith('.ct')) && !f.startsWith('image.'))
    .map((f) => join(root, 'examples', f));
  const fixtures = ['oci/busybox/config.json', 'oci/containerd/config.json', 'podman/run.config.json'].map((f) =>
    join(root, 'test', 'fixtures', f),
  );
  for (const src of [...examples, ...fixtures]) cases.push(...stepsOf((await build(src)).text, src.slice(root.length + 1)));
  return cases;
}

/** A fixed-seed generator (mulberry32): the same cases every run. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof random>;

const x86 = Object.keys(syscallNumbers.x86_64);
const arm = Object.keys(syscallNumbers.aarch64);
const x86Only = x86.filter((n) => !arm.includes(n)); // open, fork, …
const armOnly = arm.filter((n) => !x86.includes(n)); // none in 6.1's tables
const both = x86.filter((n) => arm.includes(n));
const names = [both, both, x86Only, otherAbiSyscalls, ...(armOnly.length ? [armOnly] : [])];
const actions: SeccompAction[] = ['allow', 'errno', 'kill_process', 'kill_thread', 'trap', 'trace', 'log', 'notify'];
const ops: SpecSeccompArg['op'][] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];
const errnoNames = Object.keys(errnoNumbers);

function value(r: Random): bigint {
  const u32 = () => BigInt(r.int(2 ** 32));
  switch (r.int(4)) {
    case 0:
      return BigInt(r.int(0x10000));
    case 1:
      return u32();
    case 2:
      return (u32() << 32n) | u32();
    default:
      return r.pick([0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffff00000000n, 1n << 63n, (1n << 64n) - 1n]);
  }
}

function action(r: Random): { action: SeccompAction; ret?: number } {
  const a = r.pick(actions);
  if (a === 'errno' && r.chance(0.7)) return { action: a, ret: r.chance(0.8) ? 1 + r.int(4095) : r.int(200000) };
  if (a === 'trace' && r.chance(0.7)) return { action: a, ret: r.int(0x10000) };
  return { action: a };
}

function randomRule(r: Random, conditions: number): SpecSeccompRule {
  const syscalls = Array.from({ length: 1 + r.int(8) }, () => r.pick(r.pick(names)));
  if (r.chance(0.1)) syscalls.push(syscalls[0]); // a name twice
  const args = Array.from({ length: r.int(conditions + 1) }, (): SpecSeccompArg => {
    const op = r.pick(ops);
    const v = value(r).toString();
    return op === 'masked_eq' ? { index: r.int(6), op, value: v, valueTwo: value(r).toString() } : { index: r.int(6), op, value: v };
  });
  return { syscalls, ...action(r), args };
}

/** An action's text: as the compiler writes it, or now and then an errno by name. */
function actionText(r: Random, a: { action: SeccompAction; ret?: number }): string {
  return a.action === 'errno' && r.chance(0.2) ? `errno:${r.pick(errnoNames)}` : formatSeccompAction(a.action, a.ret);
}

function randomArgs(r: Random): Args {
  // Now and then a rule with dozens of conditions: a failed condition's jump then goes past 255 instructions.
  const conditions = r.chance(0.05) ? 60 : r.pick([0, 1, 3]);
  const size = conditions > 3 ? 1 + r.int(3) : r.pick([0, 1, 3, 10, 30, 80]);
  const rules = Array.from({ length: size }, () => randomRule(r, conditions)).map((rule) => {
    const text = formatSeccompRule(rule);
    return rule.action === 'errno' && r.chance(0.2) ? text.replace(/^\S+/, actionText(r, rule)) : text;
  });
  const arches = r.pick([['x86_64', 'aarch64'], ['aarch64', 'x86_64'], ['x86_64'], ['aarch64'], [], ['x86_64', 'x86_64']]);
  const flags = Object.keys(seccompFlagBits).filter(() => r.chance(0.2));
  return { default: actionText(r, action(r)), arches, flags, rules };
}

const randomCases = (count: number): Case[] => {
  const r = random(21);
  return Array.from({ length: count }, (_, i) => ({ what: `random policy ${i}`, args: randomArgs(r) }));
};

/** Rule texts with a few characters changed, added or taken away: both readers must take or refuse each alike. */
function mangledCases(count: number): Case[] {
  const r = random(2121);
  const alphabet = 'arg0123456789&=!<> xXabcdefABCDEF_:if&&EPRMNOSYlowerntp ';
  // Any edit, or one that keeps a character's kind (a digit for a digit, an operator for an operator), which often still reads.
  const kinds = ['0123456789abcdefx', '=!<>&', ' ', 'abcdefghijklmnopqrstuvwxyz_', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ:'];
  const edit = (t: string) => {
    const at = r.int(t.length + 1);
    const kind = kinds.find((k) => k.includes(t[at] ?? ''));
    const c = r.pick([...(kind && r.chance(0.7) ? kind : alphabet)]);
    const how = r.int(3);
    return how === 0
      ? t.slice(0, at) + c + t.slice(at)
      : how === 1
        ? t.slice(0, at) + t.slice(at + 1)
        : t.slice(0, at) + c + t.slice(at + 1);
  };
  const mangle = (text: string) => {
    let t = text;
    for (let k = r.chance(0.7) ? 1 : 2; k > 0; k--) t = edit(t);
    return t;
  };
  return Array.from({ length: count }, (_, i) => {
    const rule = formatSeccompRule({ ...randomRule(r, 3), syscalls: [r.pick(both)] }); // mostly action and conditions
    const args: Args = { default: 'errno:1', arches: ['x86_64', 'aarch64'], flags: [], rules: ['allow read', mangle(rule)] };
    if (r.chance(0.2)) args.default = mangle(actionText(r, action(r)));
    return { what: `mangled ${i}: ${JSON.stringify(args.rules[1])} default ${args.default}`, args };
  });
}

const base: Args = { default: 'errno:1', arches: ['x86_64', 'aarch64'], flags: [], rules: ['allow read write'] };
const refused: [string, Partial<Args>][] = [
  ['an unknown syscall name', { rules: ['allow read nosuchcall'] }],
  ['an unknown architecture', { arches: ['x86_64', 'riscv64'] }],
  ['i386', { arches: ['i386'] }],
  ['an unknown flag', { flags: ['log', 'bogus'] }],
  ['an unknown default action', { default: 'allowx' }],
  ['an unknown errno name', { default: 'errno:ENOTANERRNO' }],
  ['an empty errno', { rules: ['errno: read'] }],
  ['two ifs', { rules: ['allow read if arg0==1 if arg1==2'] }],
  ['arg6', { rules: ['allow read if arg6==1'] }],
  ['a value over 2^64', { rules: ['allow read if arg0==18446744073709551616'] }],
  ['a hex value over 2^64', { rules: ['allow read if arg0==0x10000000000000000'] }],
  ['upper-case hex', { rules: ['allow read if arg0==0xFF'] }],
  ['a leading zero', { rules: ['allow read if arg0==01'] }],
  ['no condition after if', { rules: ['allow read if '] }],
  ['an empty condition', { rules: ['allow read if arg0==1 && '] }],
  ...['=>', '=<', '<>', '=', '!', '<<', '&'].map((op): [string, Partial<Args>] => [
    `the operator ${op}`,
    { rules: [`allow read if arg0${op}1`] },
  ]),
  ['an errno name in lower case', { default: 'errno:eperm' }],
  ['an action in upper case', { default: 'ALLOW' }],
  ['a masked compare without ==', { rules: ['allow read if arg0&0xff!=0'] }],
  ['two spaces', { rules: ['allow  read'] }],
  ['an upper-case name', { rules: ['allow READ'] }],
  ['an empty rule', { rules: [''] }],
  ['a program over BPF_MAXINSNS', { rules: Array.from({ length: 800 }, (_, i) => `allow read if arg0==${i} && arg1!=${i}`) }],
];

/** Policies aimed at the corners: ranges that differ in one detail only, every default, values at the edges. */
const crafted: [string, Partial<Args>][] = [
  // read and write are neighbours on both architectures (0 and 1; 63 and 64): their ranges merge only when their rules are the same
  ...['arg0&0xff==1', 'arg0&0xfe==2', 'arg1&0xff==2', 'arg0==2', 'arg0!=2', 'arg0<=2', 'arg0&0x100000000==2'].map(
    (other): [string, Partial<Args>] => [
      `neighbours: arg0&0xff==2 and ${other}`,
      { rules: ['allow read if arg0&0xff==2', `allow write if ${other}`] },
    ],
  ),
  ['neighbours with the same rules', { rules: ['allow read if arg0&0xff==2', 'allow write if arg0&0xff==2'] }],
  ['neighbours, other actions', { rules: ['allow read if arg0==2', 'errno:2 write if arg0==2'] }],
  ['a masked compare whose mask has no high word but whose value has', { rules: ['allow read if arg0&0xff==0x100000000'] }],
  [
    'the edges of 64 bits',
    {
      rules: ['<', '<=', '>', '>=', '==', '!='].flatMap((op) =>
        ['0', '0xffffffff', '0x100000000', '0xffffffffffffffff'].map((v) => `allow read if arg5${op}${v}`),
      ),
    },
  ],
  ['no rules, a refusing default', { rules: [] }],
  ['no rules, allow', { default: 'allow', rules: [] }],
  ['allow by default: above the names is allowed too', { default: 'allow', rules: ['errno:1 mount umount2'] }],
  ['log by default', { default: 'log', rules: ['errno:1 mount'] }],
  ['trace:5 by default', { default: 'trace:5', rules: ['allow read'] }],
  ['kill_thread by default', { default: 'kill_thread', rules: ['allow read'] }],
  ['trap by default', { default: 'trap', rules: ['allow read'] }],
  ['kill_process by default', { default: 'kill_process', rules: ['allow read'] }],
  ['an errno by name', { default: 'errno:ENOSYS', rules: ['errno:EACCES read', 'trace:EPERM write'] }],
  [
    'an errno past 16 bits, and past 2^53',
    { default: 'errno:65537', rules: ['errno:99999999999999999999 read', 'errno:9007199254740994 write'] },
  ],
  ['values on actions that carry none', { rules: ['allow:5 read', 'kill_process:7 write', 'log:EPERM close'] }],
  ['rules that name no syscall', { rules: ['allow', 'allow if arg0==1', 'allow read'] }],
  ['x86_64 names only, on aarch64', { arches: ['aarch64'], rules: ['allow open fork vfork', 'errno:1 socketcall'] }],
  ['a name twice in a rule, and in two rules', { rules: ['allow read read if arg0==1', 'errno:5 read', 'allow read'] }],
  ['the highest numbers', { rules: ['allow listns file_getattr file_setattr', 'errno:1 open_tree_attr'] }],
  ['rules after an unconditional one are dead', { rules: ['errno:1 read', 'allow read if arg0==1', 'allow read'] }],
  ['trailing rules that give the default anyway', { rules: ['allow read if arg0==1', 'errno:1 read if arg1==1'] }],
];
const craftedCases: Case[] = crafted.map(([what, args]) => ({ what, args: { ...base, ...args } }));

const refusedCases: Case[] = refused.map(([what, args]) => ({ what, args: { ...base, ...args } }));

// ---- the tests ----

const driver = compileDriver('seccomp-driver', ['-O2', '-g']);
const plans = await planCases();
const randoms = randomCases(400);
const mangled = mangledCases(1000);

test('every proc.seccomp step of the golden plans, the examples and the OCI fixtures compiles in C to the program the plan names', () => {
  assert.ok(plans.length >= 8, `steps found: ${plans.length}`);
  assert.ok(
    plans.some((c) => c.what.includes('podman') && c.args.rules.some((r) => r.includes(' if '))),
    "podman's profile, with its argument conditions",
  );
  const { lines, status, stderr } = runDriver(driver, plans);
  assert.is(status, 0, stderr);
  compare(plans, lines);
  plans.forEach((c, i) => {
    const [, , size, sha256, hex] = lines[i].split(' ');
    assert.is(Number(size), c.step!.args.size, `${c.what}: size`);
    assert.is(sha256, c.step!.args.sha256, `${c.what}: sha256`);
    assert.is(hex, seccompProgram(c.step!).program.toString('hex'), `${c.what}: executor/native-bridge/wire.ts's program`);
  });
});

test("a step whose size or sha256 is not its rules' program is refused (seccomp_step_program)", () => {
  const step = plans[0].step!;
  const sha256 = step.args.sha256 as string;
  const other = `${sha256.slice(0, -1)}${sha256.endsWith('0') ? '1' : '0'}`;
  const tampered = [
    { ...step, args: { ...step.args, sha256: other } },
    { ...step, args: { ...step.args, size: (step.args.size as number) + 1 } },
    { ...step, args: { ...step.args, sha256: sha256.toUpperCase() } },
  ].map((s, i) => ({ what: `tampered ${i}`, args: argsOf(s), step: s }));
  const { lines, status, stderr } = runDriver(driver, tampered);
  assert.is(status, 0, stderr);
  for (const line of lines) assert.match(line, /^error the seccomp rules compile to a program other than the one the plan names/);
});

test('400 random policies (every action, op and architecture choice, names of one arch only, 64-bit values) compile alike', () => {
  const { lines, status, stderr } = runDriver(driver, randoms);
  assert.is(status, 0, stderr);
  compare(randoms, lines);
  const ok = lines.filter((l) => l.startsWith('ok '));
  assert.ok(ok.length > 300, `most compile: ${ok.length}`);
  // A BPF_JA (opcode 0x0005) is only ever a trampoline: far jumps were laid out.
  const trampolines = ok.filter((l) => (l.split(' ')[4].match(/.{16}/g) ?? []).some((ins) => ins.startsWith('0500')));
  assert.ok(trampolines.length > 10, `programs with trampolines: ${trampolines.length}`);
});

test('1000 mangled rule and action texts: C reads exactly the texts TypeScript reads, to the same program', () => {
  const { lines, status, stderr } = runDriver(driver, mangled);
  assert.is(status, 0, stderr);
  compare(mangled, lines);
  const ok = lines.filter((l) => l.startsWith('ok ')).length;
  if (process.env.DBG) console.log(`${ok} mangled texts read`);
  assert.ok(ok > 100 && ok < 900, `some read, some do not: ${ok} read`);
});

test('policies aimed at the corners (neighbouring ranges, every default, edge values, errno names) compile alike', () => {
  const { lines, status, stderr } = runDriver(driver, craftedCases);
  assert.is(status, 0, stderr);
  compare(craftedCases, lines);
  assert.ok(
    lines.every((l) => l.startsWith('ok ')),
    lines.filter((l) => !l.startsWith('ok ')).join('\n'),
  );
});

test('unknown names, architectures, flags, bad rule text and a program over BPF_MAXINSNS are errors with a reason', () => {
  const { lines, status, stderr } = runDriver(driver, refusedCases);
  assert.is(status, 0, stderr);
  refusedCases.forEach((c, i) => assert.match(lines[i], /^error \S.{10,}/, `${c.what}: ${lines[i]}`));
  compare(refusedCases, lines);
  assert.match(lines[0], /nosuchcall/);
  assert.match(lines.at(-1)!, /at most 4096/);
});

test('under AddressSanitizer and UBSan, every case above runs clean and answers the same', () => {
  const sanitized = compileDriver('seccomp-driver-asan', [
    '-O1',
    '-g',
    '-fsanitize=address,undefined',
    '-fno-sanitize-recover=all',
    '-fno-omit-frame-pointer',
  ]);
  const all = [...plans, ...randoms, ...mangled, ...craftedCases, ...refusedCases];
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' };
  const clean = runDriver(sanitized, all, env);
  assert.is(clean.stderr, '');
  assert.is(clean.status, 0);
  assert.equal(clean.lines, runDriver(driver, all).lines);
});

test.after(() => work.remove());

test.run();
