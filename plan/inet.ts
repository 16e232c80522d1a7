// IP addresses and subnets as numbers: what the checks compare (overlap,
// gateway inside the subnet) and what the executor sends to the kernel
// (the address bytes of a wire op). Both read the same parse.

import { isIPv4, isIPv6 } from 'node:net';

export interface Inet {
  family: 4 | 6;
  /** the address as one number (32 or 128 bits) */
  value: bigint;
}

export interface Cidr extends Inet {
  prefix: number;
}

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

/** An address ('10.88.0.2', 'fd00::2'), or undefined if it is not one. */
export function parseInet(text: string): Inet | undefined {
  if (isIPv4(text)) return { family: 4, value: text.split('.').reduce((v, o) => (v << 8n) | BigInt(o), 0n) };
  if (!isIPv6(text) || text.includes('%')) return undefined;
  const double = text.indexOf('::');
  const groups = (s: string) => (s ? s.split(':') : []).flatMap((g) => (g.includes('.') ? v4Groups(g) : [parseInt(g, 16)]));
  const h = groups(double < 0 ? text : text.slice(0, double));
  const t = groups(double < 0 ? '' : text.slice(double + 2));
  const all = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return { family: 6, value: all.reduce((v, g) => (v << 16n) | BigInt(g), 0n) };
}

/** '1.2.3.4' at the end of an IPv6 address is its last two groups. */
const v4Groups = (s: string) => {
  const v = Number(parseInet(s)!.value);
  return [v >>> 16, v & 0xffff];
};

/** 'ADDR/PREFIX', or undefined if it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0 || !/^\d{1,3}$/.test(text.slice(slash + 1))) return undefined;
  const addr = parseInet(text.slice(0, slash));
  const prefix = Number(text.slice(slash + 1));
  return addr && prefix <= bits(addr.family) ? { ...addr, prefix } : undefined;
}

/** The first address of the subnet. */
export function network(c: Cidr): bigint {
  const host = bits(c.family) - c.prefix;
  return (c.value >> BigInt(host)) << BigInt(host);
}

export function contains(c: Cidr, a: Inet): boolean {
  return c.family === a.family && network({ ...a, prefix: c.prefix }) === network(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && contains({ ...a, prefix: Math.min(a.prefix, b.prefix) }, b);
}

/** The address as the kernel takes it: 4 or 16 bytes, network order. */
export function inetBytes(a: Inet): Buffer {
  const n = bits(a.family) / 8;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Number((a.value >> BigInt(8 * (n - 1 - i))) & 0xffn);
  return out;
}

/** The address as text: 10.88.0.2, fd00:88::2 (the longest run of zero groups as ::). */
export function inetText(a: Inet): string {
  const v = a.value;
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => (v >> s) & 0xffn).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((v >> BigInt(16 * (7 - i))) & 0xffffn).toString(16));
  const runs = [...groups.join(':').matchAll(/(?:^|:)0(?::0)+(?::|$)/g)].sort((x, y) => y[0].length - x[0].length);
  if (!runs.length) return groups.join(':');
  const text = groups.join(':');
  const r = runs[0];
  return `${text.slice(0, r.index)}::${text.slice(r.index! + r[0].length)}`;
}

/** The subnet as text, for messages: 10.88.0.0/24. */
export function subnetText(c: Cidr): string {
  return `${inetText({ family: c.family, value: network(c) })}/${c.prefix}`;
}

/** The last address of the subnet (IPv4's broadcast address). */
export function lastOf(c: Cidr): bigint {
  return network(c) + (1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix)) - 1n;
}
