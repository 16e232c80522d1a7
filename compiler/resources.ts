// Reading `resources` (TypeScript sources) and `linux.resources` (OCI) into
// the Spec: one reader for both, since the shapes are the same. The
// frontends differ only in how a limit is written: the stdlib takes '64Mi',
// OCI takes numbers where -1 and 0 mean "no limit" (runc's reading).

import type { Reader } from './frontend/def.ts';
import type { SpecDeviceRate, SpecResources } from '../plan/limits.ts';

type Obj = Record<string, unknown>;

export interface ResourceUnits {
  /** a size in bytes, or undefined for "no limit" */
  bytes(v: unknown, path: string): number | undefined;
  /** a count or time, or undefined for "no limit" */
  count(v: unknown, path: string): number | undefined;
  /** how a path under resources is named in this source */
  at(key: string): string;
}

const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const nonEmpty = <T extends object>(o: T): T | undefined => (Object.keys(o).length ? o : undefined);

export function readResourceLimits(r: Reader, o: Obj, u: ResourceUnits): Omit<SpecResources, 'devices'> {
  const obj = (key: string) => (o[key] === undefined ? undefined : r.obj(o[key], u.at(key)));
  const m = obj('memory');
  const at = (group: string) => (key: string) => `${u.at(group)}.${key}`;
  const mem = m && {
    limit: u.bytes(m.limit, at('memory')('limit')),
    reservation: u.bytes(m.reservation, at('memory')('reservation')),
    swap: u.bytes(m.swap, at('memory')('swap')),
    swappiness: m.swappiness === undefined ? undefined : r.int(m.swappiness, at('memory')('swappiness')),
    disableOOMKiller:
      m.disableOOMKiller === undefined ? undefined : r.bool(m.disableOOMKiller, at('memory')('disableOOMKiller')) || undefined,
  };
  const c = obj('cpu');
  const cpu = c && {
    shares: u.count(c.shares, at('cpu')('shares')),
    quota: u.count(c.quota, at('cpu')('quota')),
    period: u.count(c.period, at('cpu')('period')),
    burst: u.count(c.burst, at('cpu')('burst')),
    realtimeRuntime: u.count(c.realtimeRuntime, at('cpu')('realtimeRuntime')),
    realtimePeriod: u.count(c.realtimePeriod, at('cpu')('realtimePeriod')),
    cpus: c.cpus === undefined || c.cpus === '' ? undefined : r.str(c.cpus, at('cpu')('cpus')),
    mems: c.mems === undefined || c.mems === '' ? undefined : r.str(c.mems, at('cpu')('mems')),
    idle: c.idle === undefined ? undefined : r.int(c.idle, at('cpu')('idle')) || undefined,
  };
  const p = obj('pids');
  const pidsLimit = p && u.count(p.limit, at('pids')('limit'));
  const b = obj('blockIO');
  const rates = (key: string): SpecDeviceRate[] | undefined =>
    b?.[key] === undefined
      ? undefined
      : r.arr(b[key], at('blockIO')(key)).map((x, i) => {
          const path = `${at('blockIO')(key)}[${i}]`;
          const d = r.obj(x, path);
          return { major: r.int(d.major, `${path}.major`), minor: r.int(d.minor, `${path}.minor`), rate: r.int(d.rate, `${path}.rate`) };
        });
  const blockIO = b && {
    weight: b.weight === undefined ? undefined : r.int(b.weight, at('blockIO')('weight')) || undefined,
    weightDevice:
      b.weightDevice === undefined
        ? undefined
        : r.arr(b.weightDevice, at('blockIO')('weightDevice')).map((x, i) => {
            const path = `${at('blockIO')('weightDevice')}[${i}]`;
            const d = r.obj(x, path);
            return {
              major: r.int(d.major, `${path}.major`),
              minor: r.int(d.minor, `${path}.minor`),
              weight: r.int(d.weight, `${path}.weight`),
            };
          }),
    throttleReadBpsDevice: rates('throttleReadBpsDevice'),
    throttleWriteBpsDevice: rates('throttleWriteBpsDevice'),
    throttleReadIOPSDevice: rates('throttleReadIOPSDevice'),
    throttleWriteIOPSDevice: rates('throttleWriteIOPSDevice'),
  };
  const hugepageLimits =
    o.hugepageLimits === undefined
      ? undefined
      : r.arr(o.hugepageLimits, u.at('hugepageLimits')).map((x, i) => {
          const path = `${u.at('hugepageLimits')}[${i}]`;
          const h = r.obj(x, path);
          return { pageSize: r.str(h.pageSize, `${path}.pageSize`), limit: u.bytes(h.limit, `${path}.limit`) ?? 0 };
        });
  const n = obj('network');
  const network = n && {
    classID: n.classID === undefined ? undefined : r.int(n.classID, at('network')('classID')) || undefined,
    priorities:
      n.priorities === undefined
        ? undefined
        : r.arr(n.priorities, at('network')('priorities')).map((x, i) => {
            const path = `${at('network')('priorities')}[${i}]`;
            const e = r.obj(x, path);
            return { name: r.str(e.name, `${path}.name`), priority: r.int(e.priority, `${path}.priority`) };
          }),
  };
  const unified =
    obj('unified') && Object.fromEntries(Object.entries(obj('unified')!).map(([k, v]) => [k, r.str(v, `${u.at('unified')}.${k}`)]));
  const rd = obj('rdma');
  const rdma =
    rd &&
    Object.fromEntries(
      Object.entries(rd).map(([dev, v]) => {
        const path = `${u.at('rdma')}.${dev}`;
        const e = r.obj(v, path);
        return [
          dev,
          defined({ hcaHandles: u.count(e.hcaHandles, `${path}.hcaHandles`), hcaObjects: u.count(e.hcaObjects, `${path}.hcaObjects`) }),
        ];
      }),
    );
  return defined({
    memory: mem && nonEmpty(defined(mem)),
    cpu: cpu && nonEmpty(defined(cpu)),
    pids: pidsLimit === undefined ? undefined : { limit: pidsLimit },
    blockIO: blockIO && nonEmpty(defined(blockIO)),
    hugepageLimits: hugepageLimits?.length ? hugepageLimits : undefined,
    network: network && nonEmpty(defined(network)),
    unified: unified && nonEmpty(unified),
    rdma: rdma && nonEmpty(rdma),
  });
}
