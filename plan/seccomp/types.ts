// Seccomp rules as a plan carries them: the rule text of `proc.seccomp`
// (text.ts) and its BPF program (bpf.ts) are written from these.

/** Seccomp actions, by the names the stdlib and plans use. */
export type SeccompAction = 'allow' | 'errno' | 'kill_process' | 'kill_thread' | 'trap' | 'trace' | 'log' | 'notify';

export interface SpecSeccompArg {
  /** 0..5 */
  index: number;
  op: 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked_eq';
  /** a decimal string: arguments are 64-bit */
  value: string;
  /** the mask's compare value, for masked_eq */
  valueTwo?: string;
}

export interface SpecSeccompRule {
  syscalls: string[];
  action: SeccompAction;
  /** for errno (the errno) and trace (the value the tracer sees) */
  ret?: number;
  /** all must hold (AND) */
  args: SpecSeccompArg[];
}

export interface SpecSeccomp {
  defaultAction: SeccompAction;
  /** for a default errno or trace action */
  defaultRet?: number;
  /** 'x86_64', 'aarch64' */
  architectures: string[];
  /** SECCOMP_FILTER_FLAG_* names without the prefix: 'log', 'spec_allow' */
  flags: string[];
  /** checked in order; the first that matches decides; none matches: the default */
  rules: SpecSeccompRule[];
}
