// Network lowering. The host side (bridges, veth pairs, published ports)
// is made by host steps, each undone on rollback; what is inside the
// container's network namespace (addresses, links up, routes) is done by
// the init, and goes with the namespace.

import { parseCidr, parseInet } from '../../plan/inet.ts';
import type { Spec, SpecVeth } from '../spec.ts';
import type { Emitter } from './emit.ts';

const veths = (spec: Spec) =>
  spec.network.interfaces.flatMap((iface, i) => (iface.type === 'veth' ? [{ veth: iface, at: `network.interfaces[${i}]` }] : []));

/** A host end named from the container id ({idhash}: 8 hex digits), so two containers never clash: ctc1a2b3c4d0. */
export const hostNameOf = (v: SpecVeth, index: number) => v.hostName ?? `ctc{idhash}${index}`;

/** Bridges ctc may make, before the clone: they need no pid. */
export function lowerBridges(spec: Spec, out: Emitter): void {
  const made = new Set<string>();
  for (const { veth, at } of veths(spec)) {
    const b = veth.bridge;
    if (!b?.create || made.has(b.name)) continue;
    made.add(b.name);
    out.emit('net.bridge', { name: b.name, mtu: b.mtu, addrs: b.addresses }, `${at}.bridge`);
  }
}

/** addresses: 'auto': one address per bridge subnet, given out before the clone; later steps name it {ipv4:DEV}. */
export function lowerIpam(spec: Spec, out: Emitter): void {
  for (const { veth, at } of veths(spec)) {
    if (veth.ipam) out.emit('net.ipam', { bridge: veth.bridge!.name, dev: veth.name, subnets: veth.bridge!.addresses }, `${at}.addresses`);
  }
}

/** What a veth's addresses are in the plan: as written, or the placeholders of the ones net.ipam gives out. */
function addressesOf(veth: SpecVeth): string[] {
  if (!veth.ipam) return veth.addresses;
  return veth.bridge!.addresses.flatMap((a) => {
    const c = parseCidr(a);
    return c ? [`${ipamPlace(c.family, veth.name)}/${c.prefix}`] : [];
  });
}

export const ipamPlace = (family: 4 | 6, dev: string) => `{ipv${family}:${dev}}`;

/** Generated /etc/resolv.conf and /etc/hosts, written into the state dir, bound in after the mounts. */
export function lowerDnsFiles(spec: Spec, out: Emitter): void {
  const dns = spec.network.dns;
  if (!dns) return;
  const resolv = [
    ...dns.servers.map((s) => `nameserver ${s}`),
    ...(dns.search.length ? [`search ${dns.search.join(' ')}`] : []),
    ...(dns.options.length ? [`options ${dns.options.join(' ')}`] : []),
  ];
  out.emit('state.file', { name: 'resolv.conf', data: resolv.map((l) => l + '\n').join('') }, 'network.dns');
  const own = spec.hostname ? ownAddresses(spec).map((a) => `${a}\t${spec.hostname}`) : [];
  const hosts = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    ...own,
    ...Object.entries(dns.hosts).map(([name, a]) => `${a}\t${name}`),
  ];
  out.emit('state.file', { name: 'hosts', data: hosts.map((l) => l + '\n').join('') }, 'network.dns.hosts');
}

export function lowerDnsMounts(spec: Spec, out: Emitter): void {
  if (!spec.network.dns) return;
  out.emit('mount.bind', { src: '{state}/resolv.conf', dst: '/etc/resolv.conf', flags: ['bind'] }, 'network.dns');
  out.emit('mount.bind', { src: '{state}/hosts', dst: '/etc/hosts', flags: ['bind'] }, 'network.dns.hosts');
}

/** After the clone: the pairs need the init's pid (the peer is made in its namespace). */
export function lowerVeths(spec: Spec, out: Emitter): void {
  veths(spec).forEach(({ veth, at }, i) => {
    out.emit(
      'net.veth',
      {
        host: hostNameOf(veth, i),
        peer: veth.name,
        mtu: veth.mtu,
        txqlen: veth.txQueueLen,
        mac: veth.mac,
        bridge: veth.bridge?.name,
        hairpin: veth.hairpin ? 1 : undefined,
      },
      at,
    );
  });
  if (spec.network.ports.length) out.emit('net.publish', { table: 'ctc-{idhash}', ports: portRules(spec) }, 'network.ports');
}

/** `tcp *:8080 -> 10.88.0.2:80`: one per port and address family that has somewhere to go. */
function portRules(spec: Spec): string[] {
  const target = (family: 4 | 6) => ownAddresses(spec).find((a) => familyOf(a) === family);
  const hostPort = (ip: string | undefined, port: number) => (ip === undefined ? `*:${port}` : withPort(ip, port));
  return spec.network.ports.flatMap((p) => {
    const families = p.hostIp ? [parseInet(p.hostIp)!.family] : ([4, 6] as const);
    return families.flatMap((f) => {
      const to = target(f);
      return to ? [`${p.protocol} ${hostPort(p.hostIp, p.host)} -> ${withPort(to, p.container)}`] : [];
    });
  });
}

const withPort = (ip: string, port: number) => (familyOf(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The container's addresses without their prefix, in the order written (placeholders for 'auto' ones). */
const ownAddresses = (spec: Spec) => veths(spec).flatMap(({ veth }) => addressesOf(veth).map((a) => a.slice(0, a.lastIndexOf('/'))));

const familyOf = (a: string) => (a.startsWith('{ipv') ? Number(a[4]) : parseInet(a)?.family);

/** Inside the namespace: lo, then each veth's addresses, the link up, its default routes; then the routes. */
export function lowerNetworkInit(spec: Spec, out: Emitter): void {
  const net = spec.network;
  if (!spec.namespaces.includes('network')) return;
  const at = `namespaces[${spec.namespaces.indexOf('network')}].path`; // an OCI config's
  if (net.join !== undefined) return out.emit('ns.join', { ns: 'network', path: net.join }, out.cause('network.join', at, 'network.join'));
  out.emit('net.up', { dev: 'lo' }, 'namespaces');
  for (const { veth, at } of veths(spec)) {
    addressesOf(veth).forEach((addr, j) =>
      out.emit('net.addr', { dev: veth.name, addr }, veth.ipam ? `${at}.addresses` : `${at}.addresses[${j}]`),
    );
    out.emit('net.up', { dev: veth.name }, at);
    if (veth.gateway) out.emit('net.route', { dst: 'default', gw: veth.gateway, dev: veth.name }, `${at}.gateway`);
    if (veth.ipv6Gateway) out.emit('net.route', { dst: '::/0', gw: veth.ipv6Gateway, dev: veth.name }, `${at}.ipv6Gateway`);
  }
  net.routes.forEach((r, i) => {
    const family = r.gateway ? parseInet(r.gateway)?.family : r.source ? parseInet(r.source)?.family : 4;
    const dst = r.destination === 'default' && family === 6 ? '::/0' : r.destination;
    out.emit('net.route', { dst, gw: r.gateway, src: r.source, dev: r.interface }, `network.routes[${i}]`);
  });
}
