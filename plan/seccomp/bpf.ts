// A seccomp policy (SpecSeccomp) → a classic BPF program, as the kernel's
// struct sock_filter array; ctc does not use libseccomp. The same policy
// always gives the same bytes.
//
// The program, over struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6] }:
//
//   ld arch; jeq AUDIT_ARCH_X86_64 → x86_64; jeq AUDIT_ARCH_AARCH64 → aarch64
//   ret KILL_PROCESS                 an architecture the policy does not list
//   x86_64:  ld nr; <search>         (libseccomp's verdict for a bad arch: a
//   aarch64: ld nr; <search>          32-bit or foreign ABI cannot slip past)
//
// For each architecture, the syscall numbers 0..2^32-1 are cut into ranges
// that get the same treatment, and a binary search on nr (jge) finds the
// range; a range either returns an action at once or runs the rules that
// name its syscall:
//
// - Rules are checked in order and the first that matches decides; a rule
//   with no conditions ends the search for its syscalls, so later rules for
//   them are dead and left out. No rule matching gives the default action.
// - A name the architecture does not have (open on aarch64) is skipped there.
// - x86_64: nr with bit 30 set (__X32_SYSCALL_BIT) is the x32 ABI, whose
//   numbers mean other things; it is killed as a bad architecture, as
//   libseccomp does. This also catches nr = -1.
// - Numbers above the highest syscall the policy names on an architecture
//   return ENOSYS instead of a refusing default (errno, kill, trap), as runc
//   does: such a syscall is newer than the policy, and ENOSYS is what makes a
//   libc fall back to the older call it replaces (ENOSYS, not EPERM, is how
//   glibc learns that fchmodat2 or clone3 is missing).
// - An argument is 64 bits and BPF compares 32: each condition tests the high
//   word (offset 16 + 8i + 4, little-endian on both architectures) and, where
//   that does not decide, the low word; masked_eq masks both halves.

import { createHash } from 'node:crypto';
import { CtcError } from '../../common/error.ts';
import type { SeccompAction, SpecSeccomp, SpecSeccompArg } from './types.ts';
import { syscallNumbers } from '../../stdlib/syscalls.ts';
import { Asm, BPF_MAXINSNS, type Cond, type Label, assemble } from './asm.ts';
import { ENOSYS, EPERM, parseDecimalU64 } from './values.ts';

/** AUDIT_ARCH_* (linux/audit.h): the ELF machine | 64-bit | little-endian. */
export const auditArch = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
export type Arch = keyof typeof auditArch;

const X32_SYSCALL_BIT = 0x40000000;

/** SECCOMP_RET_* (linux/seccomp.h); errno and trace carry 16 bits of data. */
export const seccompRet: Record<SeccompAction, number> = {
  kill_process: 0x80000000,
  kill_thread: 0x00000000,
  trap: 0x00030000,
  errno: 0x00050000,
  notify: 0x7fc00000,
  trace: 0x7ff00000,
  log: 0x7ffc0000,
  allow: 0x7fff0000,
};

/** SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER, flags, prog). */
export const seccompFlagBits: Record<string, number> = {
  tsync: 1,
  log: 2,
  spec_allow: 4,
  new_listener: 8,
  tsync_esrch: 16,
  wait_killable_recv: 32,
};

/** The flags argument of seccomp(2) for a policy. */
export const seccompFlags = (s: SpecSeccomp): number => s.flags.reduce((bits, f) => bits | (seccompFlagBits[f] ?? 0), 0);

/** The 32-bit return value of an action. */
export function actionValue(action: SeccompAction, ret?: number): number {
  const data = action === 'errno' ? (ret ?? EPERM) : action === 'trace' ? (ret ?? 0) : 0;
  return (seccompRet[action] | (data & 0xffff)) >>> 0;
}

/** seccomp_data offsets */
const NR = 0;
const ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;
const argHigh = (i: number) => 16 + 8 * i + 4;

export function compileSeccomp(s: SpecSeccomp): Buffer {
  const arches = [...new Set(s.architectures)];
  for (const arch of arches) {
    if (!Object.hasOwn(auditArch, arch)) throw new CtcError('CT_SECCOMP_ARCH', `seccomp: ctc cannot filter the ${arch} architecture`);
  }
  const a = new Asm();
  a.ld(ARCH);
  const sections = arches.map(() => a.label());
  arches.forEach((arch, i) => {
    const next = a.label();
    a.jump('jeq', auditArch[arch as Arch], sections[i], next);
    a.at(next);
  });
  a.ret(seccompRet.kill_process);
  arches.forEach((arch, i) => {
    a.at(sections[i]);
    section(a, s, arch as Arch);
  });
  const program = assemble(a.code);
  const size = program.length / 8;
  if (size > BPF_MAXINSNS) {
    throw new CtcError(
      'CT_LIMIT_RANGE',
      `the seccomp policy compiles to ${size} BPF instructions; the kernel takes at most ${BPF_MAXINSNS}`,
      {
        hint: 'merge rules with the same action, or use fewer argument conditions',
      },
    );
  }
  return program;
}

/** sha256 of a compiled program, hex. */
export const seccompDigest = (program: Buffer): string => createHash('sha256').update(program).digest('hex');

interface Entry {
  args: SpecSeccompArg[];
  value: number;
}

/** A range of syscall numbers and what they get: entries to run, then `otherwise`. */
interface Range {
  from: number;
  entries: Entry[];
  otherwise: number;
}

function section(a: Asm, s: SpecSeccomp, arch: Arch): void {
  const table: Record<string, number> = syscallNumbers[arch];
  const def = actionValue(s.defaultAction, s.defaultRet);
  const byNr = new Map<number, Entry[]>();
  for (const rule of s.rules) {
    const value = actionValue(rule.action, rule.ret);
    for (const nr of new Set(rule.syscalls.filter((n) => Object.hasOwn(table, n)).map((n) => table[n]))) {
      byNr.set(nr, [...(byNr.get(nr) ?? []), { args: rule.args, value }]);
    }
  }
  const named = [...byNr.keys()].sort((x, y) => x - y);
  const refusing = ['errno', 'kill_process', 'kill_thread', 'trap'].includes(s.defaultAction);
  const beyond = refusing && named.length ? actionValue('errno', ENOSYS) : def;
  const last = arch === 'x86_64' ? X32_SYSCALL_BIT - 1 : 0xffffffff;

  const ranges: Range[] = [];
  const add = (from: number, entries: Entry[], otherwise: number) => {
    const r = simplify({ from, entries, otherwise });
    const prev = ranges.at(-1);
    if (prev && sameRange(prev, r)) return;
    ranges.push(r);
  };
  let from = 0;
  for (const nr of named) {
    if (nr > from) add(from, [], def);
    add(nr, byNr.get(nr)!, def);
    from = nr + 1;
  }
  if (from <= last) add(from, [], beyond);
  if (arch === 'x86_64') add(X32_SYSCALL_BIT, [], seccompRet.kill_process);

  a.ld(NR);
  search(a, ranges, 0, ranges.length - 1);
}

/** Entries that cannot change the outcome are dropped: a rule after an unconditional one, or one giving the default anyway. */
function simplify(r: Range): Range {
  let entries = r.entries;
  const always = entries.findIndex((e) => e.args.length === 0);
  let otherwise = r.otherwise;
  if (always >= 0) {
    otherwise = entries[always].value;
    entries = entries.slice(0, always);
  }
  // Trailing entries that give what follows them anyway are no-ops.
  while (entries.length && entries.at(-1)!.value === otherwise) entries = entries.slice(0, -1);
  return { from: r.from, entries, otherwise };
}

const sameRange = (x: Range, y: Range) => x.otherwise === y.otherwise && JSON.stringify(x.entries) === JSON.stringify(y.entries);

/** Binary search over ranges[lo..hi], which together cover every nr that can reach here. */
function search(a: Asm, ranges: Range[], lo: number, hi: number): void {
  if (lo === hi) return leaf(a, ranges[lo]);
  const mid = (lo + hi + 1) >> 1;
  const left = a.label();
  const right = a.label();
  a.jump('jge', ranges[mid].from, right, left);
  a.at(left);
  search(a, ranges, lo, mid - 1);
  a.at(right);
  search(a, ranges, mid, hi);
}

function leaf(a: Asm, r: Range): void {
  for (const e of r.entries) {
    const fail = a.label();
    for (const c of e.args) condition(a, c, fail);
    a.ret(e.value);
    a.at(fail);
  }
  a.ret(r.otherwise);
}

const u64 = (s: string): bigint => {
  const n = parseDecimalU64(s);
  if (n === undefined) throw new CtcError('CT_SHAPE', `seccomp: '${s}' is not a 64-bit value`);
  return n;
};
const high = (n: bigint) => Number(n >> 32n);
const low = (n: bigint) => Number(n & 0xffffffffn);

/** Falls through when the condition holds; jumps to fail when it does not. */
function condition(a: Asm, c: SpecSeccompArg, fail: Label): void {
  if (!Number.isInteger(c.index) || c.index < 0 || c.index > 5)
    throw new CtcError('CT_SHAPE', `seccomp: argument index ${c.index} is not 0..5`);
  const pass = a.label();
  const v = u64(c.value);
  const [vh, vl] = [high(v), low(v)];
  // A test on the high word that, when it does not decide, goes on to the low word.
  const onHigh = (kind: Cond, k: number, t: Label | 'on', f: Label | 'on') => {
    const on = a.label();
    a.jump(kind, k, t === 'on' ? on : t, f === 'on' ? on : f);
    a.at(on);
  };
  switch (c.op) {
    case 'eq':
      a.ld(argHigh(c.index));
      onHigh('jeq', vh, 'on', fail);
      a.ld(argLow(c.index));
      a.jump('jeq', vl, pass, fail);
      break;
    case 'ne':
      a.ld(argHigh(c.index));
      onHigh('jeq', vh, 'on', pass);
      a.ld(argLow(c.index));
      a.jump('jeq', vl, fail, pass);
      break;
    case 'gt':
    case 'ge':
      // high > vh: holds; high < vh: fails; equal: the low words decide.
      a.ld(argHigh(c.index));
      onHigh('jgt', vh, pass, 'on');
      onHigh('jeq', vh, 'on', fail);
      a.ld(argLow(c.index));
      a.jump(c.op === 'gt' ? 'jgt' : 'jge', vl, pass, fail);
      break;
    case 'lt':
    case 'le':
      a.ld(argHigh(c.index));
      onHigh('jgt', vh, fail, 'on');
      onHigh('jeq', vh, 'on', pass);
      a.ld(argLow(c.index));
      a.jump(c.op === 'lt' ? 'jge' : 'jgt', vl, fail, pass);
      break;
    case 'masked_eq': {
      if (c.valueTwo === undefined) throw new CtcError('CT_SHAPE', 'seccomp: masked_eq needs valueTwo');
      const w = u64(c.valueTwo);
      const [wh, wl] = [high(w), low(w)];
      // With a zero high mask the high word always masks to 0: no test needed.
      if (vh !== 0 || wh !== 0) {
        a.ld(argHigh(c.index));
        a.and(vh);
        onHigh('jeq', wh, 'on', fail);
      }
      a.ld(argLow(c.index));
      a.and(vl);
      a.jump('jeq', wl, pass, fail);
      break;
    }
    default:
      throw new CtcError('CT_SHAPE', `seccomp: unknown comparison '${String(c.op)}'`);
  }
  a.at(pass);
}
