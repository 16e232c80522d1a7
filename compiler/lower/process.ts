import type { Spec } from '../spec.ts';
import type { Emitter } from './emit.ts';

const limit = (n: number) => (n === -1 ? 'unlimited' : String(n));

/**
 * The last steps, in runc's order: names, terminal, limits, then the
 * privilege drop (bounding set as root, the user switch keeping the
 * permitted set, the capability sets as the user), no_new_privs, and exec.
 */
export function lowerProcess(spec: Spec, out: Emitter): void {
  if (spec.hostname !== undefined) out.emit('uts.hostname', { name: spec.hostname }, 'hostname');
  if (spec.domainname !== undefined) out.emit('uts.domainname', { name: spec.domainname }, 'domainname');
  const p = spec.process;
  if (p.terminal) out.emit('proc.tty', { rows: p.consoleSize?.rows, cols: p.consoleSize?.cols }, 'process.terminal');
  p.rlimits.forEach((r, i) => out.emit('proc.rlimit', { type: r.type, soft: limit(r.soft), hard: limit(r.hard) }, `process.rlimits[${i}]`));
  if (p.umask !== undefined) out.emit('proc.umask', { mask: p.umask }, 'process.umask');
  const caps = p.capabilities;
  if (caps) out.emit('proc.bounding', { caps: caps.bounding }, 'process.capabilities.bounding');
  const { uid, gid, additionalGids } = p.user;
  out.emit('proc.user', { uid, gid, groups: additionalGids, keepcaps: caps ? 1 : undefined }, 'process.user');
  if (caps) {
    const { effective, permitted, inheritable, ambient } = caps;
    out.emit('proc.caps', { effective, permitted, inheritable, ambient }, 'process.capabilities');
  }
  if (p.noNewPrivileges) out.emit('proc.no-new-privs', {}, 'process.noNewPrivileges');
  // After the user switch, which clears it.
  if (p.parentDeathSignal) out.emit('proc.pdeathsig', { signal: p.parentDeathSignal }, 'process.parentDeathSignal');
  out.emit('proc.cwd', { dir: p.cwd }, 'process.cwd');
  out.emit('proc.exec', { args: p.args, env: p.env }, 'process.args');
}
