import { CtcError } from '../../common/error.ts';
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
  add('resources.memory.reservation', r.memory?.reservation, 0, 2 ** 62, ' bytes');
  add('resources.memory.swappiness', r.memory?.swappiness, 0, 100);
  add('resources.cpu.burst', r.cpu?.burst, 0, 2 ** 40, ' µs');
  add('resources.cpu.realtimePeriod', r.cpu?.realtimePeriod, 1, 2 ** 40, ' µs');
  add('resources.cpu.realtimeRuntime', r.cpu?.realtimeRuntime, 0, 2 ** 40, ' µs');
  add('resources.cpu.idle', r.cpu?.idle, 0, 1);
  add('resources.blockIO.weight', r.blockIO?.weight, 10, 1000);
  r.blockIO?.weightDevice?.forEach((d, i) => add(`resources.blockIO.weightDevice[${i}]`, d.weight, 10, 1000));
  for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
    r.blockIO?.[key]?.forEach((d, i) => add(`resources.blockIO.${key}[${i}]`, d.rate, 0, 2 ** 62));
  }
  r.hugepageLimits?.forEach((h, i) => add(`resources.hugepageLimits[${i}]`, h.limit, 0, 2 ** 62, ' bytes'));
  add('resources.network.classID', r.network?.classID, 0, 2 ** 32 - 1);
  r.network?.priorities?.forEach((p, i) => add(`resources.network.priorities[${i}]`, p.priority, 0, 2 ** 32 - 1));
  return out;
}

/** Shapes the kernel parses: CPU lists, page sizes, interface and file names. */
function formats(spec: Spec): [string, boolean, string][] {
  const r = spec.resources;
  const list = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
  return [
    ['resources.cpu.cpus', r.cpu?.cpus === undefined || list.test(r.cpu.cpus), "a CPU list like '0-3,6'"],
    ['resources.cpu.mems', r.cpu?.mems === undefined || list.test(r.cpu.mems), "a memory node list like '0,1'"],
    ...(r.hugepageLimits ?? []).map((h, i): [string, boolean, string] => [
      `resources.hugepageLimits[${i}].pageSize`,
      /^\d+(KB|MB|GB)$/.test(h.pageSize),
      "a page size like '2MB'",
    ]),
    ...(r.network?.priorities ?? []).map((p, i): [string, boolean, string] => [
      `resources.network.priorities[${i}].name`,
      /^[\w.:-]{1,15}$/.test(p.name),
      'an interface name',
    ]),
    ...Object.keys(r.unified ?? {}).map((f): [string, boolean, string] => [
      `resources.unified.${f}`,
      /^[a-z_]+\.[a-z0-9_.]+$/.test(f) && !f.startsWith('cgroup.'),
      'a controller file name like memory.high (not cgroup.*)',
    ]),
  ];
}

export function checkResources(spec: Spec, origins: Origins): CtcError[] {
  const shapes = formats(spec)
    .filter(([, ok]) => !ok)
    .map(([path, , what]) => new CtcError('CT_SHAPE', `${path}: expected ${what}`, { source: originOf(origins, path) }));
  const errors = limits(spec)
    .filter(([, v, min, max]) => v < min || v > max)
    .map(
      ([path, v, min, max, unit]) =>
        new CtcError('CT_LIMIT_RANGE', `${path} is ${v}${unit}; it must be between ${min} and ${max}${unit}`, {
          source: originOf(origins, path),
        }),
    );
  errors.push(...shapes);
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
