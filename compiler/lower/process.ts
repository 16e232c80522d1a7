import { afterExec, formatAfterExec, isRootUser } from '../../plan/after-exec.ts';
import { compileSeccomp, seccompDigest } from '../../plan/seccomp/bpf.ts';
import { formatSeccompAction, formatSeccompRule } from '../../plan/seccomp/text.ts';
import type { Spec } from '../spec.ts';
import type { SpecSeccomp } from '../../plan/seccomp/types.ts';
import type { Emitter } from './emit.ts';

const limit = (n: number) => (n === -1 ? 'unlimited' : String(n));

/** The container's names, before its startContainer hooks, which see them. */
export function lowerNames(spec: Spec, out: Emitter): void {
  if (spec.hostname !== undefined) out.emit('uts.hostname', { name: spec.hostname }, 'hostname');
  if (spec.domainname !== undefined) out.emit('uts.domainname', { name: spec.domainname }, 'domainname');
}

/**
 * The last steps, in runc's order: names, terminal, limits, then the
 * privilege drop (bounding set as root, the user switch keeping the
 * permitted set, the capability sets as the user), no_new_privs, and exec.
 */
export function lowerProcess(spec: Spec, out: Emitter): void {
  const p = spec.process;
  if (p.terminal) out.emit('proc.tty', { rows: p.consoleSize?.rows, cols: p.consoleSize?.cols }, 'process.terminal');
  p.rlimits.forEach((r, i) => out.emit('proc.rlimit', { type: r.type, soft: limit(r.soft), hard: limit(r.hard) }, `process.rlimits[${i}]`));
  if (p.umask !== undefined) out.emit('proc.umask', { mask: p.umask }, 'process.umask');
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while
  // still root with every capability, so the setup syscalls after it (setuid,
  // capset, chdir, execve) must pass it too, as in runc.
  if (p.seccomp && !p.noNewPrivileges) lowerSeccomp(p.seccomp, out);
  const caps = p.capabilities;
  if (caps) out.emit('proc.bounding', { caps: caps.bounding }, 'process.capabilities.bounding');
  const { uid, gid, additionalGids, name } = p.user;
  const who = name !== undefined && uid < 0 ? { name } : { uid, gid, groups: additionalGids };
  out.emit('proc.user', { ...who, keepcaps: caps ? 1 : undefined }, 'process.user');
  if (caps) {
    const { effective, permitted, inheritable, ambient } = caps;
    const held = afterExec({ ...caps, root: isRootUser(p.user), noNewPrivs: p.noNewPrivileges });
    out.emit('proc.caps', { effective, permitted, inheritable, ambient, 'after-exec': formatAfterExec(held) }, 'process.capabilities');
  }
  if (p.apparmorProfile !== undefined) out.emit('proc.apparmor', { profile: p.apparmorProfile }, 'process.apparmorProfile');
  if (p.selinuxLabel !== undefined) out.emit('proc.selinux', { label: p.selinuxLabel }, 'process.selinuxLabel');
  if (p.noNewPrivileges) out.emit('proc.no-new-privs', {}, 'process.noNewPrivileges');
  // After the user switch, which clears it.
  if (p.parentDeathSignal) out.emit('proc.pdeathsig', { signal: p.parentDeathSignal }, 'process.parentDeathSignal');
  out.emit('proc.cwd', { dir: p.cwd }, 'process.cwd');
  // Last before execve: every syscall after the filter must pass it.
  if (p.seccomp && p.noNewPrivileges) lowerSeccomp(p.seccomp, out);
  out.emit('proc.exec', { args: p.args, env: p.env }, 'process.args');
}

/** The policy as readable rules, plus the size and digest of the program it compiles to. */
function lowerSeccomp(s: SpecSeccomp, out: Emitter): void {
  const program = compileSeccomp(s);
  out.emit(
    'proc.seccomp',
    {
      default: formatSeccompAction(s.defaultAction, s.defaultRet),
      arches: s.architectures,
      flags: s.flags,
      rules: s.rules.map(formatSeccompRule),
      size: program.length / 8,
      sha256: seccompDigest(program),
    },
    'process.seccomp',
  );
}
