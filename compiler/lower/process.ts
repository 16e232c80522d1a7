import type { Spec } from '../spec.ts';
import type { Emitter } from './emit.ts';

export function lowerProcess(spec: Spec, out: Emitter): void {
  if (spec.hostname !== undefined) out.emit('uts.hostname', { name: spec.hostname }, 'hostname');
  const { user, cwd, args, env } = spec.process;
  out.emit('proc.user', { uid: user.uid, gid: user.gid, groups: user.additionalGids }, 'process.user');
  out.emit('proc.cwd', { dir: cwd }, 'process.cwd');
  out.emit('proc.exec', { args, env }, 'process.args');
}
