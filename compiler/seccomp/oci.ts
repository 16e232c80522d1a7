// An OCI `linux.seccomp` (config-linux.md, libseccomp's names) → SpecSeccomp,
// with runc's meaning where the runtime spec leaves it open:
//
// - SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD (libseccomp's alias). An errno or
//   trace action without errnoRet returns EPERM (runc's default), for the
//   default action (defaultErrnoRet) as for a rule.
// - Conditions on one argument index given more than once in a rule are ORed,
//   not ANDed: libseccomp refuses such a rule, so runc adds each condition of
//   it as a rule of its own. ctc does the same (rules[i] in the spec may then
//   be a later rule of the config: seccompOriginsOfOci maps them).
// - SCMP_CMP_MASKED_EQ: `value` is the mask and `valueTwo` what the masked
//   argument must equal; a missing valueTwo is 0 (Go's omitempty drops it
//   from Docker's profile). valueTwo on any other operator is ignored.
// - Architectures: x86_64 and aarch64 are filtered. SCMP_ARCH_X86, X32 and ARM
//   are the 32-bit ABIs those kernels also run; ctc has no tables for them,
//   so they are dropped here, and their syscalls meet the architecture check
//   of the compiled program: the process is killed (KILL_PROCESS), as an
//   unlisted architecture is. Any other SCMP_ARCH_* is kept, and the checks
//   refuse it. No architectures at all means both of ctc's.
// - listenerPath and listenerMetadata belong to SCMP_ACT_NOTIFY, which the
//   checks refuse for now; they are not read.
// - A name that is a syscall on no architecture is skipped, with a warning
//   (seccompSkippedOfOci): runc and crun skip the names libseccomp cannot
//   resolve, and orchestrators' profiles carry some (podman's: swapcontext,
//   syscall, timerfd). A rule left with no name is dropped. Typed sources
//   keep the error: there such a name is a typo.

import { isSyscallName } from '../check/seccomp.ts';
import { CtcError } from '../../common/error.ts';
import { Reader } from '../frontend/def.ts';
import { element, member } from '../oci/json.ts';
import type { OciSeccomp } from '../oci/config.ts';
import type { Origins } from '../spec.ts';
import type { SeccompAction, SpecSeccomp, SpecSeccompArg, SpecSeccompRule } from '../../plan/seccomp/types.ts';
import { EPERM } from '../../plan/seccomp/values.ts';
import { defaultArchitectures } from './policy.ts';

const actions: Record<string, SeccompAction> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_KILL: 'kill_thread',
  SCMP_ACT_KILL_THREAD: 'kill_thread',
  SCMP_ACT_KILL_PROCESS: 'kill_process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_LOG: 'log',
  SCMP_ACT_NOTIFY: 'notify',
};

const ops: Record<string, SpecSeccompArg['op']> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked_eq',
};

const arches: Record<string, string | null> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_X86: null,
  SCMP_ARCH_X32: null,
  SCMP_ARCH_ARM: null,
};

const list = (names: Record<string, unknown>) => `one of ${Object.keys(names).join(', ')}`;

interface Read {
  spec: SpecSeccomp;
  /** spec path → the JSON path it was read from */
  paths: [string, string][];
  /** syscall names no architecture has, left out, with their JSON paths */
  skipped: { name: string; json: string }[];
}

function read(v: unknown, at: Map<string, string>, base: string, into: string): Read {
  const r = new Reader(at);
  const o = r.obj(v, base);
  const paths: [string, string][] = [[into, base]];
  const field = (key: string) => member(base, key);

  const defaultAction = enumOf(r, o.defaultAction, field('defaultAction'), actions);
  paths.push([`${into}.defaultAction`, field('defaultAction')]);
  const defaultRet = retOf(r, defaultAction, o.defaultErrnoRet, field('defaultErrnoRet'));
  if (o.defaultErrnoRet !== undefined) paths.push([`${into}.defaultRet`, field('defaultErrnoRet')]);

  const architectures: string[] = [];
  const listed = r.arr(o.architectures ?? [], field('architectures'));
  listed.forEach((a, i) => {
    const p = element(field('architectures'), i);
    const name = r.str(a, p);
    if (!name.startsWith('SCMP_ARCH_')) r.fail(p, 'an architecture named SCMP_ARCH_*');
    const arch = Object.hasOwn(arches, name) ? arches[name] : name.slice('SCMP_ARCH_'.length).toLowerCase();
    if (arch === null || architectures.includes(arch)) return;
    paths.push([`${into}.architectures[${architectures.length}]`, p]);
    architectures.push(arch);
  });
  if (listed.length === 0) architectures.push(...defaultArchitectures);

  const flags = r.arr(o.flags ?? [], field('flags')).map((f, i) => {
    const p = element(field('flags'), i);
    paths.push([`${into}.flags[${i}]`, p]);
    const name = r.str(f, p);
    return name.startsWith('SECCOMP_FILTER_FLAG_')
      ? name.slice('SECCOMP_FILTER_FLAG_'.length).toLowerCase()
      : r.fail(p, 'a SECCOMP_FILTER_FLAG_* name');
  });

  const rules: SpecSeccompRule[] = [];
  const skipped: Read['skipped'] = [];
  r.arr(o.syscalls ?? [], field('syscalls')).forEach((x, i) => {
    const p = element(field('syscalls'), i);
    const s = r.obj(x, p);
    const listed = s.names !== undefined ? r.strs(s.names, member(p, 'names')) : [r.str(s.name, member(p, 'names'))];
    const nameAt = (j: number) => (s.names !== undefined ? element(member(p, 'names'), j) : member(p, 'name'));
    const kept: { name: string; json: string }[] = [];
    listed.forEach((name, j) => (isSyscallName(name) ? kept : skipped).push({ name, json: nameAt(j) }));
    const names = kept.map((k) => k.name);
    const action = enumOf(r, s.action, member(p, 'action'), actions);
    const ret = retOf(r, action, s.errnoRet, member(p, 'errnoRet'));
    const args = r.arr(s.args ?? [], member(p, 'args')).map((a, k) => readArg(r, a, element(member(p, 'args'), k)));
    const indices = args.map((a) => a.index);
    // runc: conditions on a repeated index are ORed, each its own rule.
    const groups = new Set(indices).size < indices.length ? args.map((a, k) => [[a, k]] as const) : [args.map((a, k) => [a, k] as const)];
    // only unknown names: nothing to filter (an empty list from the config is the checks' to refuse)
    if (names.length === 0 && listed.length > 0) return;
    for (const group of groups) {
      const to = `${into}.rules[${rules.length}]`;
      paths.push([to, p], [`${to}.action`, member(p, 'action')]);
      if (s.errnoRet !== undefined) paths.push([`${to}.ret`, member(p, 'errnoRet')]);
      kept.forEach(({ json }, j) => paths.push([`${to}.syscalls[${j}]`, json]));
      group.forEach(([, k], n) => paths.push([`${to}.args[${n}]`, element(member(p, 'args'), k)]));
      rules.push({ syscalls: [...names], action, ...(ret === undefined ? {} : { ret }), args: group.map(([a]) => a) });
    }
  });

  return { spec: { defaultAction, ...(defaultRet === undefined ? {} : { defaultRet }), architectures, flags, rules }, paths, skipped };
}

function enumOf<T>(r: Reader, v: unknown, path: string, names: Record<string, T>): T {
  const s = r.str(v, path);
  return Object.hasOwn(names, s) ? names[s] : r.fail(path, list(names));
}

function retOf(r: Reader, action: SeccompAction, v: unknown, path: string): number | undefined {
  if (action !== 'errno' && action !== 'trace') return undefined;
  return v === undefined ? EPERM : r.int(v, path);
}

/** JSON numbers are doubles: a value from 2^53 up cannot have been read exactly. */
function u64(r: Reader, v: unknown, path: string): string {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
    ? String(v)
    : r.fail(path, 'a whole number from 0 to 2^53-1 (JSON cannot carry larger ones exactly)');
}

function readArg(r: Reader, v: unknown, path: string): SpecSeccompArg {
  const o = r.obj(v, path);
  const op = enumOf(r, o.op, member(path, 'op'), ops);
  return {
    index: r.int(o.index, member(path, 'index')),
    op,
    value: u64(r, o.value ?? 0, member(path, 'value')),
    ...(op === 'masked_eq' ? { valueTwo: u64(r, o.valueTwo ?? 0, member(path, 'valueTwo')) } : {}),
  };
}

/**
 * `linux.seccomp` of a config.json → SpecSeccomp. `at` gives JSON paths'
 * positions, for shape errors; `base` is where the object sits in the config.
 */
export function seccompSpecOfOci(linuxSeccomp: object, at: Map<string, string> = new Map(), base = 'linux.seccomp'): SpecSeccomp {
  return read(linuxSeccomp, at, base, 'process.seccomp').spec;
}

/** Spec path (process.seccomp.rules[3].syscalls[0]) → `config.json:line:col`, for the checks' messages. */
export function seccompOriginsOfOci(linuxSeccomp: object, at: Map<string, string>, base = 'linux.seccomp'): Origins {
  const origins: Origins = new Map();
  for (const [spec, json] of read(linuxSeccomp, at, base, 'process.seccomp').paths) {
    const source = at.get(json);
    if (source !== undefined) origins.set(spec, source);
  }
  return origins;
}

/** A warning for each syscall name of the config that no architecture has, which the spec leaves out. */
export function seccompSkippedOfOci(linuxSeccomp: object, at: Map<string, string>, base = 'linux.seccomp'): CtcError[] {
  return read(linuxSeccomp, at, base, 'process.seccomp').skipped.map(
    ({ name, json }) =>
      new CtcError(
        'CT_SYSCALL_UNKNOWN',
        `${json}: '${name}' is not a syscall on any architecture; skipped, as runc and crun skip names libseccomp cannot resolve`,
        {
          source: at.get(json),
        },
      ),
  );
}

const nameOf = <T extends string>(table: Record<string, T>, value: T): string =>
  Object.keys(table).find((k) => table[k] === value && k !== 'SCMP_ACT_KILL')!;
const number = (decimal: string): number | bigint =>
  BigInt(decimal) <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(decimal) : BigInt(decimal);

/** The other way, for `ctc build --emit-bundle`: a SpecSeccomp as runc reads it (first-match rules stay in order). */
export function ociSeccompOf(s: SpecSeccomp): OciSeccomp {
  const ret = (action: SeccompAction, value?: number) => (action === 'errno' || action === 'trace') && value !== undefined;
  return {
    defaultAction: nameOf(actions, s.defaultAction),
    ...(ret(s.defaultAction, s.defaultRet) ? { defaultErrnoRet: s.defaultRet } : {}),
    architectures: s.architectures.map((a) => Object.keys(arches).find((k) => arches[k] === a) ?? a),
    ...(s.flags.length ? { flags: s.flags.map((f) => `SECCOMP_FILTER_FLAG_${f.toUpperCase()}`) } : {}),
    syscalls: s.rules.map((r) => ({
      names: [...r.syscalls],
      action: nameOf(actions, r.action),
      ...(ret(r.action, r.ret) ? { errnoRet: r.ret } : {}),
      ...(r.args.length
        ? {
            args: r.args.map((a) => ({
              index: a.index,
              value: number(a.value),
              ...(a.valueTwo === undefined ? {} : { valueTwo: number(a.valueTwo) }),
              op: nameOf(ops, a.op),
            })),
          }
        : {}),
    })),
  };
}
