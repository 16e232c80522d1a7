// runc's update, events and stats (`ctc stats` is `events --stats`).

import { readFileSync } from 'node:fs';
import { CtcError } from '../common/error.ts';
import { Reader } from '../compiler/frontend/def.ts';
import { readResourceLimits } from '../compiler/resources.ts';
import type { SpecResources } from '../plan/limits.ts';
import type { Bytes } from '../stdlib/types.ts';
import { bytes, sizeForms } from '../stdlib/units.ts';
import { statsOf, streamEvents, updateResources } from '../executor/container/update.ts';
import { statsJson } from '../executor/host/cgroups/stats.ts';
import { type Globals, parseCommand } from './args.ts';
import { factory } from './lifecycle.ts';

/** runc's sizes (1024, 64m, 1G), the binary forms of sources (64Mi, 64MB), -1 or max (cgroup v2's word) for no limit. */
function size(flag: string, text: string): number {
  const n = ['-1', 'max'].includes(text.trim()) ? -1 : bytes(text.trim() as Bytes);
  if (!Number.isSafeInteger(n)) throw new CtcError('CT_USAGE', `${flag}: '${text}' is not a size: ${sizeForms}, or -1 or max for no limit`);
  return n;
}

function int(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new CtcError('CT_USAGE', `${flag}: '${text}' is not a whole number`);
  return Number(text);
}

const flags = {
  resources: { type: 'string', short: 'r' },
  'blkio-weight': { type: 'string' },
  'cpu-period': { type: 'string' },
  'cpu-quota': { type: 'string' },
  'cpu-burst': { type: 'string' },
  'cpu-share': { type: 'string' },
  'cpu-rt-period': { type: 'string' },
  'cpu-rt-runtime': { type: 'string' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
  memory: { type: 'string' },
  'memory-reservation': { type: 'string' },
  'memory-swap': { type: 'string' },
  'pids-limit': { type: 'string' },
  'l3-cache-schema': { type: 'string' },
  'mem-bw-schema': { type: 'string' },
} as const;

/** runc's -r FILE: an OCI linux.resources object ('-' reads stdin). */
function resourcesFile(file: string): Omit<SpecResources, 'devices'> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
  } catch (e) {
    throw new CtcError('CT_SOURCE_READ', `cannot read the resources ${file}: ${(e as Error).message}`);
  }
  const r = new Reader(new Map());
  const number = (x: unknown, p: string) => (x === undefined || x === -1 || x === 0 ? undefined : r.int(x, p));
  if (r.obj(json, 'resources').devices !== undefined) throw new CtcError('CT_NOT_YET', 'update of device rules is not supported yet');
  return readResourceLimits(r, r.obj(json, 'resources'), { bytes: number, count: number, at: (k) => `resources.${k}` });
}

export async function updateCommand(args: string[], g: Globals): Promise<number> {
  const { values: v, positionals } = parseCommand('update', args, flags);
  if (positionals.length !== 1) throw new CtcError('CT_USAGE', 'usage: ctc update [flags] ID');
  if (v['l3-cache-schema'] || v['mem-bw-schema'])
    throw new CtcError('CT_NOT_YET', 'Intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported');
  const res: Omit<SpecResources, 'devices'> = v.resources ? resourcesFile(v.resources) : {};
  const opt = <T>(x: string | undefined, f: (s: string) => T) => (x === undefined ? undefined : f(x));
  const memory = {
    ...res.memory,
    ...defined({
      limit: opt(v.memory, (x) => size('--memory', x)),
      reservation: opt(v['memory-reservation'], (x) => size('--memory-reservation', x)),
      swap: opt(v['memory-swap'], (x) => size('--memory-swap', x)),
    }),
  };
  const cpu = {
    ...res.cpu,
    ...defined({
      period: opt(v['cpu-period'], (x) => int('--cpu-period', x)),
      quota: opt(v['cpu-quota'], (x) => int('--cpu-quota', x)),
      burst: opt(v['cpu-burst'], (x) => int('--cpu-burst', x)),
      shares: opt(v['cpu-share'], (x) => int('--cpu-share', x)),
      realtimePeriod: opt(v['cpu-rt-period'], (x) => int('--cpu-rt-period', x)),
      realtimeRuntime: opt(v['cpu-rt-runtime'], (x) => int('--cpu-rt-runtime', x)),
      cpus: v['cpuset-cpus'],
      mems: v['cpuset-mems'],
    }),
  };
  const pidsLimit = opt(v['pids-limit'], (x) => int('--pids-limit', x));
  const blkio = opt(v['blkio-weight'], (x) => int('--blkio-weight', x));
  const update: Omit<SpecResources, 'devices'> = {
    ...res,
    ...(Object.keys(memory).length ? { memory } : {}),
    ...(Object.keys(cpu).length ? { cpu } : {}),
    ...(pidsLimit !== undefined ? { pids: { limit: pidsLimit } } : {}),
    ...(blkio !== undefined ? { blockIO: { ...res.blockIO, weight: blkio } } : {}),
  };
  if (!v.resources && Object.keys(update).length === 0) {
    throw new CtcError('CT_USAGE', `update of ${positionals[0]} names no limit to change`, {
      hint: 'give a limit, e.g. ctc update --memory 96m ID (ctc update --help lists them), or -r FILE',
    });
  }
  await updateResources(factory(g).load(positionals[0]), update);
  return 0;
}

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;

export function statsCommand(args: string[], g: Globals): number {
  const { positionals } = parseCommand('stats', args, {});
  if (positionals.length !== 1) throw new CtcError('CT_USAGE', 'usage: ctc stats ID');
  console.log(statsJson(statsOf(factory(g).load(positionals[0]))));
  return 0;
}

export async function eventsCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('events', args, { stats: { type: 'boolean' }, interval: { type: 'string', default: '5s' } });
  if (positionals.length !== 1) throw new CtcError('CT_USAGE', 'usage: ctc events [--stats] [--interval 5s] ID');
  const c = factory(g).load(positionals[0]);
  if (values.stats) return statsCommand(positionals, g);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(values.interval!);
  if (!m) throw new CtcError('CT_USAGE', `--interval takes a duration like 5s or 500ms, not ${values.interval}`);
  const ms = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm'];
  await streamEvents(c, ms, (line) => process.stdout.write(line + '\n'));
  return 0;
}
