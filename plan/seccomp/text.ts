// Seccomp rules and actions as plan text: one rule per string, readable in a
// review and parsed back to the same SpecSeccompRule.
//
//   rule    = action names [" if " cond *(" && " cond)]
//   action  = name [":" uint]       allow kill_process kill_thread trap log notify
//                                   errno:N (the errno), trace:N (the tracer's value)
//   names   = *(" " syscall)        in the rule's order
//   cond    = "arg" I op value      I: 0..5; op: == != < <= > >=  (unsigned 64-bit)
//           | "arg" I "&" value "==" value      masked_eq: (arg & mask) == value
//   value   = decimal | "0x" hex    masks are printed in hex, other values
//                                   below 0x10000 in decimal, larger in hex
//
//   allow read write openat
//   errno:38 clone3
//   allow clone if arg0&0x7e020000==0
//   allow personality if arg0==0xffffffff
//   errno:1 kill if arg0==1 && arg1>=0x100000000
//
// Rules are ANDs of conditions; ORs are written as several rules, as they
// are in the spec.

import { CtcError } from '../../common/error.ts';
import type { SeccompAction, SpecSeccompArg, SpecSeccompRule } from './types.ts';
import { errnoNumbers } from '../../stdlib/syscalls.ts';
import { u64Of } from './values.ts';

const actions: readonly SeccompAction[] = ['allow', 'errno', 'kill_process', 'kill_thread', 'trap', 'trace', 'log', 'notify'];

const opText: Record<Exclude<SpecSeccompArg['op'], 'masked_eq'>, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
const textOp = new Map(Object.entries(opText).map(([op, t]) => [t, op as SpecSeccompArg['op']]));

export function formatSeccompAction(action: SeccompAction, ret?: number): string {
  return ret === undefined ? action : `${action}:${ret}`;
}

/** `errno:1` → { action: 'errno', ret: 1 }; an errno may also be named (`errno:EPERM`). */
export function parseSeccompAction(text: string): { action: SeccompAction; ret?: number } {
  const m = /^([a-z_]+)(?::(\d+|E[A-Z0-9]+))?$/.exec(text);
  const action = m?.[1] as SeccompAction;
  if (!m || !actions.includes(action)) throw syntax(text, `'${text}' is not a seccomp action (${actions.join(', ')}, errno:N, trace:N)`);
  if (m[2] === undefined) return { action };
  const ret = /^\d+$/.test(m[2])
    ? Number(m[2])
    : Object.hasOwn(errnoNumbers, m[2])
      ? errnoNumbers[m[2] as keyof typeof errnoNumbers]
      : undefined;
  if (ret === undefined) throw syntax(text, `unknown errno name ${m[2]}`);
  return { action, ret };
}

export function formatSeccompRule(rule: SpecSeccompRule): string {
  const head = [formatSeccompAction(rule.action, rule.ret), ...rule.syscalls].join(' ');
  return rule.args.length ? `${head} if ${rule.args.map(formatArg).join(' && ')}` : head;
}

function formatArg(c: SpecSeccompArg): string {
  if (c.op === 'masked_eq') return `arg${c.index}&${hex(c.value)}==${number(c.valueTwo ?? '0')}`;
  return `arg${c.index}${opText[c.op]}${number(c.value)}`;
}

const hex = (v: string) => `0x${BigInt(v).toString(16)}`;
const number = (v: string) => (BigInt(v) < 0x10000n ? v : hex(v));

export function parseSeccompRule(text: string): SpecSeccompRule {
  const [head, conds, extra] = text.split(' if ');
  if (extra !== undefined || head === undefined) throw syntax(text, "a seccomp rule has at most one ' if '");
  const [action, ...syscalls] = head.split(' ');
  for (const s of syscalls) if (!/^[a-z0-9_]+$/.test(s)) throw syntax(text, `'${s}' is not a syscall name`);
  return {
    syscalls,
    ...parseSeccompAction(action),
    args: conds === undefined ? [] : conds.split(' && ').map((c) => parseArg(c, text)),
  };
}

function parseArg(c: string, text: string): SpecSeccompArg {
  const masked = /^arg([0-5])&(\w+)==(\w+)$/.exec(c);
  if (masked) return { index: Number(masked[1]), op: 'masked_eq', value: value(masked[2], text), valueTwo: value(masked[3], text) };
  const m = /^arg([0-5])(==|!=|<=|>=|<|>)(\w+)$/.exec(c);
  if (!m) throw syntax(text, `'${c}' is not a condition like arg0==1 or arg0&0xff==0`);
  return { index: Number(m[1]), op: textOp.get(m[2])!, value: value(m[3], text) };
}

function value(v: string, text: string): string {
  const n = /^(0|[1-9]\d*|0x[0-9a-f]+)$/.test(v) ? u64Of(v) : undefined;
  if (n === undefined) throw syntax(text, `'${v}' is not a 64-bit value (decimal, or 0x and lower-case hex)`);
  return n.toString();
}

const syntax = (text: string, message: string) => new CtcError('CT_PLAN_SYNTAX', `seccomp rule '${text}': ${message}`);
