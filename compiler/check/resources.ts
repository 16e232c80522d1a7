import { CtcError } from '../error.ts';
import { type Origins, type Spec, originOf } from '../spec.ts';

const MiB = 2 ** 20;

/** [path, value, min, max, unit] for every limit that is set. */
function limits(spec: Spec): [string, number, number, number, string][] {
  const r = spec.resources;
  const out: [string, number, number, number, string][] = [];
  const add = (path: string, v: number | undefined, min: number, max: number, unit = '') => {
    if (v !== undefined) out.push([path, v, min, max, unit]);
  };
  // Below a few MiB the kernel OOM-kills the container's first exec.
  add('resources.memory.limit', r.memory?.limit, 4 * MiB, 2 ** 62, ' bytes');
  add('resources.memory.swap', r.memory?.swap, 4 * MiB, 2 ** 62, ' bytes');
  add('resources.pids.limit', r.pids?.limit, 1, 4194304);
  add('resources.cpu.shares', r.cpu?.shares, 2, 262144);
  add('resources.cpu.quota', r.cpu?.quota, 1000, 2 ** 40, ' µs');
  add('resources.cpu.period', r.cpu?.period, 1000, 1000000, ' µs');
  return out;
}

export function checkResources(spec: Spec, origins: Origins): CtcError[] {
  const errors = limits(spec)
    .filter(([, v, min, max]) => v < min || v > max)
    .map(
      ([path, v, min, max, unit]) =>
        new CtcError('CT_LIMIT_RANGE', `${path} is ${v}${unit}; it must be between ${min} and ${max}${unit}`, { source: originOf(origins, path) }),
    );
  const m = spec.resources.memory;
  if (m?.swap !== undefined && (m.limit === undefined || m.swap < m.limit)) {
    errors.push(
      new CtcError('CT_LIMIT_RANGE', 'resources.memory.swap is memory plus swap: it needs a limit and must be at least the limit', {
        source: originOf(origins, 'resources.memory.swap'),
      }),
    );
  }
  return errors;
}
