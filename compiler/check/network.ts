// Network checks: every address, name and port is checked here, each error
// at the position of what is wrong, so a plan never asks the kernel for an
// address it would refuse or a route it could not reach.

import { CtcError, type ErrorCode } from '../../common/error.ts';
import { type Cidr, type Inet, contains, network, overlaps, parseCidr, parseInet, subnetText } from '../../plan/inet.ts';
import { type Origins, type Spec, type SpecVeth, originOf } from '../spec.ts';

/** Linux's IFNAMSIZ less the NUL; '/', ':' and white space are refused by the kernel or by tools. */
export const IFNAME_MAX = 15;

class NetCheck {
  readonly errors: CtcError[] = [];
  constructor(private readonly origins: Origins) {}

  error(code: ErrorCode, path: string, message: string, hint?: string): void {
    this.errors.push(new CtcError(code, message, { source: originOf(this.origins, path), ...(hint ? { hint } : {}) }));
  }

  ifname(name: string, path: string): void {
    const bytes = Buffer.byteLength(name);
    if (bytes === 0 || bytes > IFNAME_MAX)
      this.error('CT_NET_IFNAME', path, `interface name '${name}' is ${bytes} bytes; Linux allows 1 to ${IFNAME_MAX}`);
    else if (/[\s/:]/.test(name) || name === '.' || name === '..')
      this.error('CT_NET_IFNAME', path, `interface name '${name}' may not contain '/', ':' or white space`);
  }

  cidr(text: string, path: string): Cidr | undefined {
    const c = parseCidr(text);
    if (!c) this.error('CT_NET_ADDRESS', path, `'${text}' is not an address with a prefix length, like 10.88.0.2/24 or fd00::2/64`);
    return c;
  }

  inet(text: string, path: string): Inet | undefined {
    const a = parseInet(text);
    if (!a) this.error('CT_NET_ADDRESS', path, `'${text}' is not an IPv4 or IPv6 address`);
    return a;
  }

  range(v: number | undefined, min: number, max: number, path: string, what: string): void {
    if (v !== undefined && (v < min || v > max)) this.error('CT_LIMIT_RANGE', path, `${what} ${v} is out of range (${min}..${max})`);
  }
}

export function checkNetwork(spec: Spec, origins: Origins): CtcError[] {
  const c = new NetCheck(origins);
  const net = spec.network;
  const own = spec.namespaces.includes('network');
  const configured =
    net.interfaces.some((i) => i.type === 'veth') || net.routes.length > 0 || net.ports.length > 0 || net.dns !== undefined;
  if ((configured || net.join !== undefined) && !own) {
    c.error('CT_NS_REQUIRED', 'network', "a network configuration needs the 'network' namespace", "add 'network' to namespaces");
  }
  if (net.join !== undefined && !net.join.startsWith('/'))
    c.error('CT_PATH_RELATIVE', 'network.join', `network.join '${net.join}' must be an absolute path`);
  const subnets = checkInterfaces(c, spec);
  checkRoutes(c, spec, subnets);
  checkPorts(c, spec, subnets);
  checkDns(c, spec);
  return c.errors;
}

interface Subnet {
  cidr: Cidr;
  iface: string;
  path: string;
  /** given out when the container starts (addresses: 'auto'): its value is the bridge's */
  auto?: boolean;
}

function checkInterfaces(c: NetCheck, spec: Spec): Subnet[] {
  const subnets: Subnet[] = [];
  const names = new Map<string, string>([['lo', '']]);
  const hostNames = new Set<string>();
  spec.network.interfaces.forEach((iface, i) => {
    if (iface.type !== 'veth') return;
    const path = `network.interfaces[${i}]`;
    c.ifname(iface.name, `${path}.name`);
    if (names.has(iface.name)) c.error('CT_NET_IFNAME', `${path}.name`, `interface name '${iface.name}' is used twice in the container`);
    names.set(iface.name, path);
    if (iface.hostName !== undefined) {
      c.ifname(iface.hostName, `${path}.hostName`);
      if (hostNames.has(iface.hostName))
        c.error('CT_NET_IFNAME', `${path}.hostName`, `host interface name '${iface.hostName}' is used twice`);
      hostNames.add(iface.hostName);
    }
    if (iface.mac !== undefined) checkMac(c, iface.mac, `${path}.mac`);
    c.range(iface.mtu, 68, 65535, `${path}.mtu`, 'MTU');
    c.range(iface.txQueueLen, 0, 0xffffffff, `${path}.txQueueLen`, 'txQueueLen');
    if (iface.hairpin && !iface.bridge)
      c.error('CT_NET_CONFLICT', `${path}.hairpin`, 'hairpin mode is a property of a bridge port: this veth has no bridge');
    const own = checkAddresses(c, iface, path);
    for (const s of own) {
      const other = subnets.find((o) => overlaps(o.cidr, s.cidr));
      if (other) {
        c.error(
          'CT_NET_OVERLAP',
          s.path,
          `${subnetText(s.cidr)} on ${iface.name} overlaps ${subnetText(other.cidr)} on ${other.iface}`,
          'each interface needs its own subnet, or the kernel cannot tell which one a packet leaves by',
        );
      }
    }
    subnets.push(...own);
    checkGateway(c, iface, own, 4, 'gateway', path);
    checkGateway(c, iface, own, 6, 'ipv6Gateway', path);
    if (iface.bridge) checkBridge(c, iface, own, `${path}.bridge`);
  });
  return subnets;
}

function checkMac(c: NetCheck, mac: string, path: string): void {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac))
    return c.error('CT_NET_MAC', path, `'${mac}' is not a MAC address like 02:42:0a:58:00:02`);
  if (parseInt(mac.slice(0, 2), 16) & 1)
    c.error('CT_NET_MAC', path, `${mac} is a multicast address; an interface needs a unicast one (the first byte even)`);
  if (/^00(:00){5}$/.test(mac)) c.error('CT_NET_MAC', path, `${mac} is not a usable address`);
}

function checkAddresses(c: NetCheck, iface: SpecVeth, path: string): Subnet[] {
  if (iface.ipam) return autoSubnets(c, iface, path);
  const out: Subnet[] = [];
  iface.addresses.forEach((text, j) => {
    const at = `${path}.addresses[${j}]`;
    const cidr = c.cidr(text, at);
    if (!cidr) return;
    const hostBits = (cidr.family === 4 ? 32 : 128) - cidr.prefix;
    if (
      cidr.family === 4 &&
      hostBits >= 2 &&
      (cidr.value === network(cidr) || cidr.value === network(cidr) + (1n << BigInt(hostBits)) - 1n)
    ) {
      c.error('CT_NET_ADDRESS', at, `${text} is the network or broadcast address of ${subnetText(cidr)}, not one an interface can have`);
    }
    if (out.some((o) => o.cidr.value === cidr.value && o.cidr.family === cidr.family))
      c.error('CT_NET_OVERLAP', at, `${text} is listed twice`);
    out.push({ cidr, iface: iface.name, path: at });
  });
  return out;
}

/** addresses: 'auto' takes one address from each of the bridge's subnets. */
function autoSubnets(c: NetCheck, iface: SpecVeth, path: string): Subnet[] {
  const subnets = (iface.bridge?.addresses ?? []).flatMap((a) => parseCidr(a) ?? []);
  if (!subnets.length) {
    c.error(
      'CT_NET_CONFLICT',
      `${path}.addresses`,
      "addresses: 'auto' takes them from the bridge's subnets, and this veth has no bridge with addresses",
      'give the bridge addresses (bridge: { name, create: true, addresses: [...] })',
    );
  }
  return subnets.map((cidr) => ({ cidr, iface: iface.name, path: `${path}.addresses`, auto: true }));
}

function checkGateway(c: NetCheck, iface: SpecVeth, own: Subnet[], family: 4 | 6, key: 'gateway' | 'ipv6Gateway', path: string): void {
  const text = iface[key];
  if (text === undefined) return;
  const at = `${path}.${key}`;
  const gw = c.inet(text, at);
  if (!gw) return;
  if (gw.family !== family) {
    return c.error(
      'CT_NET_GATEWAY',
      at,
      `${key} ${text} is IPv${gw.family}`,
      family === 4 ? 'an IPv6 gateway goes in ipv6Gateway' : 'an IPv4 gateway goes in gateway',
    );
  }
  const mine = own.filter((s) => s.cidr.family === family);
  if (mine.some((s) => !s.auto && s.cidr.value === gw.value))
    return c.error('CT_NET_GATEWAY', at, `${key} ${text} is the interface's own address`);
  if (!mine.some((s) => contains(s.cidr, gw))) {
    const subnets = mine.map((s) => subnetText(s.cidr)).join(', ') || `no IPv${family} address`;
    c.error('CT_NET_GATEWAY', at, `${key} ${text} is outside the subnets of ${iface.name} (${subnets}): the kernel could not reach it`);
  }
}

function checkBridge(c: NetCheck, iface: SpecVeth, own: Subnet[], path: string): void {
  const b = iface.bridge!;
  c.ifname(b.name, `${path}.name`);
  if (b.name === iface.hostName) c.error('CT_NET_IFNAME', `${path}.name`, `the bridge and the veth's host end are both named '${b.name}'`);
  c.range(b.mtu, 68, 65535, `${path}.mtu`, 'MTU');
  if (!b.create && (b.addresses.length || b.mtu !== undefined)) {
    c.error(
      'CT_NET_CONFLICT',
      path,
      `bridge ${b.name}: addresses and mtu apply only to a bridge ctc creates`,
      'add create: true, or leave them out',
    );
  }
  b.addresses.forEach((text, j) => {
    const at = `${path}.addresses[${j}]`;
    const cidr = c.cidr(text, at);
    const same = cidr && own.find((s) => !s.auto && s.cidr.family === cidr.family && s.cidr.value === cidr.value);
    if (same) c.error('CT_NET_OVERLAP', same.path, `${text} is both the bridge's address and ${iface.name}'s`);
  });
}

function checkRoutes(c: NetCheck, spec: Spec, subnets: Subnet[]): void {
  const defaults = new Set<number>();
  spec.network.interfaces.forEach((i) => {
    if (i.type === 'veth' && i.gateway) defaults.add(4);
    if (i.type === 'veth' && i.ipv6Gateway) defaults.add(6);
  });
  const names = new Set(['lo', ...spec.network.interfaces.flatMap((i) => (i.type === 'veth' ? [i.name] : []))]);
  spec.network.routes.forEach((r, i) => {
    const path = `network.routes[${i}]`;
    const gw = r.gateway === undefined ? undefined : c.inet(r.gateway, `${path}.gateway`);
    const src = r.source === undefined ? undefined : c.inet(r.source, `${path}.source`);
    const dst = r.destination === 'default' ? undefined : c.cidr(r.destination, `${path}.destination`);
    const family = dst?.family ?? gw?.family ?? src?.family ?? 4;
    if (dst && network(dst) !== dst.value) {
      c.error(
        'CT_NET_ROUTE',
        `${path}.destination`,
        `${r.destination} has host bits set: the kernel takes only a subnet's first address`,
        `did you mean ${subnetText(dst)}?`,
      );
    }
    for (const [a, key] of [
      [gw, 'gateway'],
      [src, 'source'],
    ] as const) {
      if (a && a.family !== family)
        c.error(
          'CT_NET_ROUTE',
          `${path}.${key}`,
          `${key} ${key === 'gateway' ? r.gateway : r.source} is IPv${a.family}, the route IPv${family}`,
        );
    }
    if (r.interface !== undefined && !names.has(r.interface)) {
      c.error(
        'CT_NET_ROUTE',
        `${path}.interface`,
        `the container has no interface '${r.interface}'`,
        `its interfaces: ${[...names].join(', ')}`,
      );
    }
    if (r.gateway === undefined && r.interface === undefined)
      c.error('CT_NET_ROUTE', path, 'a route needs a gateway, an interface, or both');
    if (gw && gw.family === family) {
      const on = subnets.filter((s) => r.interface === undefined || s.iface === r.interface);
      if (!on.some((s) => contains(s.cidr, gw)))
        c.error(
          'CT_NET_GATEWAY',
          `${path}.gateway`,
          `gateway ${r.gateway} is outside every subnet of ${r.interface ?? "the container's interfaces"}: the kernel could not reach it`,
        );
    }
    if (r.destination === 'default' && defaults.has(family)) {
      c.error(
        'CT_NET_ROUTE',
        `${path}.destination`,
        `a default IPv${family} route is already made by an interface's ${family === 4 ? 'gateway' : 'ipv6Gateway'}`,
      );
    }
    if (r.destination === 'default') defaults.add(family);
  });
}

function checkPorts(c: NetCheck, spec: Spec, subnets: Subnet[]): void {
  const seen = new Set<string>();
  spec.network.ports.forEach((p, i) => {
    const path = `network.ports[${i}]`;
    c.range(p.host, 1, 65535, `${path}.host`, 'port');
    c.range(p.container, 1, 65535, `${path}.container`, 'port');
    const ip = p.hostIp === undefined ? undefined : c.inet(p.hostIp, `${path}.hostIp`);
    const key = `${p.protocol} ${p.host} ${p.hostIp ?? '*'}`;
    if (seen.has(key)) c.error('CT_NET_PORT', path, `${p.protocol} port ${p.host}${p.hostIp ? ` on ${p.hostIp}` : ''} is published twice`);
    seen.add(key);
    const families = ip ? [ip.family] : [4, 6];
    if (!subnets.some((s) => families.includes(s.cidr.family))) {
      c.error(
        'CT_NET_PORT',
        path,
        `port ${p.host} has nowhere to go: no veth has an IPv${families.join(' or IPv')} address`,
        'give a veth an address',
      );
    }
  });
}

function checkDns(c: NetCheck, spec: Spec): void {
  const dns = spec.network.dns;
  if (!dns) return;
  dns.servers.forEach((s, i) => c.inet(s, `network.dns.servers[${i}]`));
  for (const [name, addr] of Object.entries(dns.hosts)) {
    c.inet(addr, `network.dns.hosts.${name}`);
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name))
      c.error('CT_NET_ADDRESS', `network.dns.hosts.${name}`, `'${name}' is not a host name`);
  }
  for (const key of ['search', 'options'] as const) {
    dns[key].forEach((v, i) => {
      if (!v || /\s/.test(v)) c.error('CT_SHAPE', `network.dns.${key}[${i}]`, `'${v}' must be one word (no white space)`);
    });
  }
}
