// The network part of a ContainerDef, read into the Spec. Shapes only; the
// addresses, names and overlaps are checked in compiler/check/network.ts.

import type { SpecBridge, SpecDns, SpecNetwork, SpecPort, SpecRoute } from '../spec.ts';
import type { Reader } from './def.ts';

export const noNetwork = (): SpecNetwork => ({ interfaces: [], routes: [], ports: [] });

/** 'host' is no network namespace at all: the caller leaves it out of the default namespaces. */
export function readNetwork(r: Reader, v: unknown): SpecNetwork | 'host' {
  if (v === undefined || v === 'none') return noNetwork();
  if (v === 'host') return 'host';
  const o = r.obj(v, 'network');
  if (o.join !== undefined) return { ...noNetwork(), join: r.str(o.join, 'network.join') };
  const dns = r.opt(o, 'dns', 'network', (x, p) => readDns(r, x, p));
  const interfaces = r.arr(o.interfaces ?? [], 'network.interfaces');
  return {
    interfaces: interfaces.map((x, i) => readInterface(r, x, `network.interfaces[${i}]`)),
    routes: r.arr(o.routes ?? [], 'network.routes').map((x, i) => readRoute(r, x, `network.routes[${i}]`)),
    ports: r.arr(o.ports ?? [], 'network.ports').map((x, i) => readPort(r, x, `network.ports[${i}]`)),
    ...(dns ? { dns } : {}),
  };
}

function readInterface(r: Reader, v: unknown, path: string): SpecNetwork['interfaces'][number] {
  const o = r.obj(v, path);
  if (o.type === 'loopback') return { type: 'loopback' };
  if (o.type !== 'veth') return r.fail(`${path}.type`, "'loopback' or 'veth'");
  const s = (k: string) => r.opt(o, k, path, r.str.bind(r));
  const n = (k: string) => r.opt(o, k, path, r.int.bind(r));
  return defined({
    type: 'veth',
    name: s('name') ?? 'eth0',
    hostName: s('hostName'),
    bridge: r.opt(o, 'bridge', path, (x, p) => readBridge(r, x, p)),
    mac: s('mac'),
    addresses: o.addresses === 'auto' ? [] : (r.opt(o, 'addresses', path, r.strs.bind(r)) ?? []),
    ipam: o.addresses === 'auto',
    gateway: s('gateway'),
    ipv6Gateway: s('ipv6Gateway'),
    mtu: n('mtu'),
    txQueueLen: n('txQueueLen'),
    hairpin: r.opt(o, 'hairpin', path, r.bool.bind(r)) ?? false,
  });
}

function readBridge(r: Reader, v: unknown, path: string): SpecBridge {
  if (typeof v === 'string') return { name: v, create: false, addresses: [] };
  const o = r.obj(v, path);
  return defined({
    name: r.str(o.name, `${path}.name`),
    create: r.opt(o, 'create', path, r.bool.bind(r)) ?? false,
    addresses: r.opt(o, 'addresses', path, r.strs.bind(r)) ?? [],
    mtu: r.opt(o, 'mtu', path, r.int.bind(r)),
  });
}

function readRoute(r: Reader, v: unknown, path: string): SpecRoute {
  const o = r.obj(v, path);
  const s = (k: string) => r.opt(o, k, path, r.str.bind(r));
  return defined({
    destination: r.str(o.destination, `${path}.destination`),
    gateway: s('gateway'),
    source: s('source'),
    interface: s('interface'),
  });
}

function readPort(r: Reader, v: unknown, path: string): SpecPort {
  const o = r.obj(v, path);
  const protocol = r.opt(o, 'protocol', path, r.str.bind(r)) ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') r.fail(`${path}.protocol`, "'tcp' or 'udp'");
  return defined({
    host: r.int(o.host, `${path}.host`),
    container: r.int(o.container, `${path}.container`),
    protocol,
    hostIp: r.opt(o, 'hostIp', path, r.str.bind(r)),
  });
}

function readDns(r: Reader, v: unknown, path: string): SpecDns {
  const o = r.obj(v, path);
  const list = (k: string) => r.opt(o, k, path, r.strs.bind(r)) ?? [];
  const hosts = r.obj(o.hosts ?? {}, `${path}.hosts`);
  return {
    servers: list('servers'),
    search: list('search'),
    options: list('options'),
    hosts: Object.fromEntries(Object.entries(hosts).map(([k, a]) => [k, r.str(a, `${path}.hosts.${k}`)])),
  };
}

/** Leaves out the keys whose value is undefined, so specs compare and print cleanly. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}
