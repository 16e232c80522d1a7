// Checks of a seccomp policy: names (OCI sources are not typed, and a name
// that is no syscall would silently filter nothing), actions and their
// values, argument conditions, architectures, flags, and the compiled size.

import { CtcError } from '../../common/error.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';
import type { SeccompAction, SpecSeccompArg } from '../../plan/seccomp/types.ts';
import { auditArch, compileSeccomp } from '../../plan/seccomp/bpf.ts';
import { parseDecimalU64 } from '../../plan/seccomp/values.ts';
import { otherAbiSyscalls, syscallNumbers } from '../../stdlib/syscalls.ts';

const actions: readonly SeccompAction[] = ['allow', 'errno', 'kill_process', 'kill_thread', 'trap', 'trace', 'log', 'notify'];
const ops: readonly SpecSeccompArg['op'][] = ['ne', 'lt', 'le', 'eq', 'ge', 'gt', 'masked_eq'];
/** new_listener and wait_killable_recv only make sense with a notify listener. */
const flags = { tsync: true, log: true, spec_allow: true, new_listener: false, wait_killable_recv: false, tsync_esrch: false } as const;
const NOTIFY = 'seccomp notify needs a listener, which ctc does not run yet';

const known = new Set([...Object.keys(syscallNumbers.x86_64), ...Object.keys(syscallNumbers.aarch64)]);
const elsewhere = new Set(otherAbiSyscalls);

/** A syscall of some architecture: filtered where ctc filters it, harmless elsewhere. */
export const isSyscallName = (name: string) => known.has(name) || elsewhere.has(name);

export function checkSeccomp(spec: Spec, origins: Origins): CtcError[] {
  const s = spec.process.seccomp;
  if (!s) return [];
  const base = 'process.seccomp';
  const errors: CtcError[] = [];
  const fail = (code: CtcError['code'], path: string, message: string, hint?: string) =>
    errors.push(new CtcError(code, `${path}: ${message}`, { source: originOf(origins, path), ...(hint ? { hint } : {}) }));

  const action = (a: SeccompAction, ret: number | undefined, path: string, retPath: string) => {
    if (!actions.includes(a)) return fail('CT_SHAPE', path, `unknown action '${a}'`, `one of ${actions.join(', ')}`);
    if (a === 'notify') return fail('CT_NOT_YET', path, NOTIFY);
    if (ret === undefined) return;
    if (a === 'errno' && !(Number.isInteger(ret) && ret >= 1 && ret <= 4095))
      fail('CT_LIMIT_RANGE', retPath, `errno ${ret} is not 1..4095`);
    else if (a === 'trace' && !(Number.isInteger(ret) && ret >= 0 && ret <= 0xffff))
      fail('CT_LIMIT_RANGE', retPath, `the tracer's value ${ret} is not 0..65535`);
    else if (a !== 'errno' && a !== 'trace') fail('CT_SHAPE', retPath, `'${a}' carries no value; only errno and trace do`);
  };

  action(s.defaultAction, s.defaultRet, `${base}.defaultAction`, `${base}.defaultRet`);

  if (s.architectures.length === 0) {
    fail(
      'CT_SECCOMP_ARCH',
      `${base}.architectures`,
      'no architecture ctc filters',
      'list x86_64, aarch64 or both; 32-bit x86 and arm programs are killed by the architecture check',
    );
  }
  s.architectures.forEach((arch, i) => {
    const path = `${base}.architectures[${i}]`;
    if (!Object.hasOwn(auditArch, arch))
      fail(
        'CT_SECCOMP_ARCH',
        path,
        `ctc cannot filter the ${arch} architecture`,
        'ctc filters x86_64 and aarch64 programs; remove the others',
      );
    else if (s.architectures.indexOf(arch) !== i) fail('CT_SHAPE', path, `${arch} is listed twice`);
  });

  s.flags.forEach((f, i) => {
    const path = `${base}.flags[${i}]`;
    if (!Object.hasOwn(flags, f))
      fail(
        'CT_SHAPE',
        path,
        `unknown seccomp flag '${f}'`,
        `one of ${Object.keys(flags)
          .filter((k) => flags[k as keyof typeof flags])
          .join(', ')}`,
      );
    else if (!flags[f as keyof typeof flags]) fail('CT_NOT_YET', path, `${f}: ${NOTIFY}`);
  });

  s.rules.forEach((rule, i) => {
    const path = `${base}.rules[${i}]`;
    action(rule.action, rule.ret, `${path}.action`, `${path}.ret`);
    if (rule.syscalls.length === 0) fail('CT_SHAPE', `${path}.syscalls`, 'the rule names no syscall');
    rule.syscalls.forEach((name, j) => {
      if (isSyscallName(name)) return;
      const near = nearest(name);
      fail(
        'CT_SYSCALL_UNKNOWN',
        `${path}.syscalls[${j}]`,
        `'${name}' is not a syscall on x86_64 or aarch64`,
        near ? `did you mean '${near}'?` : undefined,
      );
    });
    rule.args.forEach((c, k) => checkArg(c, `${path}.args[${k}]`, fail));
  });

  // Only a policy that passed everything above can be compiled.
  if (errors.length === 0) {
    try {
      compileSeccomp(s);
    } catch (e) {
      if (!(e instanceof CtcError)) throw e;
      errors.push(new CtcError(e.code, `${base}: ${e.message}`, { source: originOf(origins, base), ...(e.hint ? { hint: e.hint } : {}) }));
    }
  }
  return errors;
}

function checkArg(
  c: SpecSeccompArg,
  path: string,
  fail: (code: CtcError['code'], path: string, message: string, hint?: string) => void,
): void {
  if (!(Number.isInteger(c.index) && c.index >= 0 && c.index <= 5))
    fail('CT_SHAPE', `${path}.index`, `argument index ${c.index} is not 0..5`);
  if (!ops.includes(c.op)) fail('CT_SHAPE', `${path}.op`, `unknown comparison '${c.op}'`, `one of ${ops.join(', ')}`);
  if (parseDecimalU64(c.value) === undefined) fail('CT_SHAPE', `${path}.value`, `'${c.value}' is not a 64-bit value`);
  if (c.op === 'masked_eq') {
    if (c.valueTwo === undefined) fail('CT_SHAPE', path, 'masked_eq needs valueTwo: (argument & value) == valueTwo');
    else if (parseDecimalU64(c.valueTwo) === undefined) fail('CT_SHAPE', `${path}.valueTwo`, `'${c.valueTwo}' is not a 64-bit value`);
  } else if (c.valueTwo !== undefined) {
    fail('CT_SHAPE', `${path}.valueTwo`, `only masked_eq takes valueTwo, not ${c.op}`);
  }
}

/** The known syscall closest to a misspelled one, if it is close (edit distance ≤ 2). */
function nearest(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestDistance) (best = k), (bestDistance = d);
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
