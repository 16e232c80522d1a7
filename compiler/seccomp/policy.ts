// A TypeScript policy (stdlib Seccomp, from process.seccomp) → SpecSeccomp.
// The value comes out of the sandbox and may have got past the type checker
// (`as any`), so shapes are checked here, each at its source position; what
// the values mean (names, ranges) is compiler/check/seccomp.ts's job.
// Rules keep the author's order and index: rules[i] in the spec is rules[i]
// in the source.

import { CtcError } from '../../common/error.ts';
import { Reader } from '../frontend/def.ts';
import { type Origins, originOf } from '../spec.ts';
import type { SeccompAction, SpecSeccomp, SpecSeccompArg, SpecSeccompRule } from '../../plan/seccomp/types.ts';
import type { Seccomp, SeccompAction as PolicyAction } from '../../stdlib/seccomp.ts';
import { EPERM, errnoOf, u64Of } from '../../plan/seccomp/values.ts';

/** The architectures a policy filters when it names none: a plan runs on either. */
export const defaultArchitectures: readonly string[] = ['x86_64', 'aarch64'];

// The stdlib's action names and the spec's must stay the same union.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameActions: Same<PolicyAction, SeccompAction> = true;
void sameActions;

type Obj = Record<string, unknown>;

export function seccompSpecOf(policy: Seccomp, origins: Origins = new Map(), path = 'process.seccomp'): SpecSeccomp {
  const r = new Reader(origins);
  const o = r.obj(policy, path);
  const defaultAction = r.str(o.defaultAction, `${path}.defaultAction`) as SeccompAction;
  const defaultRet = retOf(r, origins, o, defaultAction, path, 'defaultErrno', 'defaultRet');
  return {
    defaultAction,
    ...(defaultRet === undefined ? {} : { defaultRet }),
    architectures: r.opt(o, 'architectures', path, r.strs.bind(r)) ?? [...defaultArchitectures],
    flags: r.opt(o, 'flags', path, r.strs.bind(r)) ?? [],
    rules: r.arr(o.rules, `${path}.rules`).map((x, i) => readRule(r, origins, x, `${path}.rules[${i}]`)),
  };
}

function readRule(r: Reader, origins: Origins, v: unknown, path: string): SpecSeccompRule {
  const o = r.obj(v, path);
  const action = r.str(o.action, `${path}.action`) as SeccompAction;
  const ret = retOf(r, origins, o, action, path, 'errno', 'ret');
  return {
    syscalls: r.strs(o.syscalls, `${path}.syscalls`),
    action,
    ...(ret === undefined ? {} : { ret }),
    args: r.arr(o.args ?? [], `${path}.args`).map((a, k) => readArg(r, a, `${path}.args[${k}]`)),
  };
}

function readArg(r: Reader, v: unknown, path: string): SpecSeccompArg {
  const o = r.obj(v, path);
  const valueTwo = o.valueTwo === undefined ? undefined : value(r, o.valueTwo, `${path}.valueTwo`);
  return {
    index: r.int(o.index, `${path}.index`),
    op: r.str(o.op, `${path}.op`) as SpecSeccompArg['op'],
    value: value(r, o.value, `${path}.value`),
    ...(valueTwo === undefined ? {} : { valueTwo }),
  };
}

function value(r: Reader, v: unknown, path: string): string {
  const n = u64Of(v);
  return n === undefined ? r.fail(path, "a 64-bit value: a whole number, a bigint, or a decimal or '0x…' string") : n.toString();
}

/**
 * The value an errno or trace action carries: the errno (EPERM when none is
 * given) or what the tracer sees (0 when none is given). Either key on
 * another action is a mistake: it would silently mean nothing.
 */
function retOf(r: Reader, origins: Origins, o: Obj, action: string, path: string, errnoKey: string, retKey: string): number | undefined {
  for (const [key, owner] of [
    [errnoKey, 'errno'],
    [retKey, 'trace'],
  ]) {
    if (o[key] !== undefined && action !== owner) {
      throw new CtcError('CT_SHAPE', `${path}.${key}: only an '${owner}' action takes ${key}`, {
        source: originOf(origins, `${path}.${key}`),
      });
    }
  }
  if (action === 'errno') {
    if (o[errnoKey] === undefined) return EPERM;
    return errnoOf(o[errnoKey]) ?? r.fail(`${path}.${errnoKey}`, 'an errno number, or a name such as EPERM');
  }
  if (action === 'trace') return o[retKey] === undefined ? 0 : r.int(o[retKey], `${path}.${retKey}`);
  return undefined;
}
