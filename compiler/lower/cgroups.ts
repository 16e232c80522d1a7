import type { Spec } from '../spec.ts';
import { cgroupLimits } from '../../plan/limits.ts';
import { defaultDevices } from '../../stdlib/devices.ts';
import type { Emitter } from './emit.ts';

/** The cgroup is made and limited before the init exists, so no container code runs unlimited. */
export function lowerCgroup(spec: Spec, out: Emitter): void {
  const path = spec.cgroupsPath;
  out.emit('cgroup.create', { path }, 'cgroupsPath');
  for (const { key, value, cause } of cgroupLimits(spec.resources)) out.emit('cgroup.limit', { path, key, value }, cause);
  if (spec.resources.devices.length) out.emit('cgroup.devices', { path, rules: deviceRules(spec) }, 'resources.devices');
}

export function lowerCgroupJoin(spec: Spec, out: Emitter): void {
  out.emit('cgroup.join', { path: spec.cgroupsPath }, 'cgroupsPath');
  const oom = spec.process.oomScoreAdj;
  if (oom !== undefined) out.emit('proc.oom-score', { value: oom }, 'process.oomScoreAdj');
}

/**
 * Device rules as the kernel's v1 syntax, after the spec's own rules the
 * devices every container has and the ones it asked for (the runtime spec
 * says they must be usable), so a deny-all list still leaves them working.
 */
export function deviceRules(spec: Spec): string[] {
  const n = (x: number) => (x === -1 ? '*' : String(x));
  const rule = (allow: boolean, type: string, major: number, minor: number, access: string) =>
    `${allow ? 'allow' : 'deny'} ${type} ${type === 'a' ? '*:*' : `${n(major)}:${n(minor)}`} ${access}`;
  const own = spec.resources.devices.map((r) => rule(r.allow, r.type, r.major, r.minor, r.access));
  const always = [
    ...defaultDevices.map((d) => rule(true, d.type, d.major, d.minor, 'rwm')),
    rule(true, 'c', 5, 1, 'rwm'), // /dev/console
    rule(true, 'c', 5, 2, 'rwm'), // /dev/ptmx
    rule(true, 'c', 136, -1, 'rwm'), // /dev/pts/*
    ...spec.devices.filter((d) => d.type !== 'p').map((d) => rule(true, d.type, d.major, d.minor, 'rwm')),
  ];
  return [...own, ...always];
}
