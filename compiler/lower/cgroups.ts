import type { Spec } from '../spec.ts';
import type { Emitter } from './emit.ts';

/** The cgroup is made and limited before the init exists, so no container code runs unlimited. */
export function lowerCgroup(spec: Spec, out: Emitter): void {
  const path = spec.cgroupsPath;
  out.emit('cgroup.create', { path }, 'cgroupsPath');
  const { memory, pids, cpu } = spec.resources;
  const limit = (key: string, value: number | string | undefined, cause: string) => {
    if (value !== undefined) out.emit('cgroup.limit', { path, key, value: String(value) }, cause);
  };
  limit('memory.limit', memory?.limit, 'resources.memory.limit');
  limit('memory.swap', memory?.swap, 'resources.memory.swap');
  limit('pids.limit', pids?.limit, 'resources.pids.limit');
  limit('cpu.shares', cpu?.shares, 'resources.cpu.shares');
  if (cpu?.quota !== undefined || cpu?.period !== undefined) {
    limit('cpu.max', `${cpu.quota ?? 'max'} ${cpu.period ?? 100000}`, 'resources.cpu');
  }
}

export function lowerCgroupJoin(spec: Spec, out: Emitter): void {
  out.emit('cgroup.join', { path: spec.cgroupsPath }, 'cgroupsPath');
}
