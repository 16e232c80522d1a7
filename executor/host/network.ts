// The host side of a container's network: bridges and veth pairs over
// rtnetlink (through `ctc-init net`, native/init/net-host.c: Node has no netlink
// socket), and published ports as one nftables table per container (through
// nft, which speaks nf_tables' netlink for us). Each is undone by the
// functions at the bottom, which may be repeated.

import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { type Step, int, list, str } from '../../plan/steps.ts';
import { helperMode } from '../native-bridge/helper.ts';

/** `ctc-init net ARGS`; a failure throws an Error whose code is the errno name. */
const netHelper = (args: string[]) => helperMode(['net', ...args]);

/** The network namespace this process is in (its inode), recorded with each undo. */
export const currentNetns = () => String(statSync('/proc/self/ns/net').ino);

/** An undo acts on links and tables by name: only in the namespace they were made in. */
export function inNetns(netns: string, undo: () => void): void {
  const here = currentNetns();
  if (netns !== here) {
    throw new Error(
      `it was made in network namespace ${netns}, and ctc runs in ${here}: run ctc delete --force from that namespace (nsenter --net=…)`,
    );
  }
  undo();
}

const opt = (key: string, v: string | number | undefined) => (v === undefined || v === '' ? [] : [`${key}=${v}`]);

export function makeBridge(s: Step): void {
  netHelper(['bridge', str(s, 'name'), ...opt('mtu', s.args.mtu as number | undefined), ...list(s, 'addrs').map((a) => `addr=${a}`)]);
}

/** The host end's ifalias: what proves a link by that name is this container's (ctc:ID). */
export const vethAlias = (id: string) => `ctc:${id}`;

export function makeVeth(s: Step, pid: number, id: string): void {
  netHelper([
    'veth',
    `alias=${vethAlias(id)}`,
    `host=${str(s, 'host')}`,
    `peer=${str(s, 'peer')}`,
    `pid=${pid}`,
    ...opt('mtu', s.args.mtu as number | undefined),
    ...opt('txqlen', s.args.txqlen as number | undefined),
    ...opt('mac', str(s, 'mac')),
    ...opt('bridge', str(s, 'bridge')),
    ...(int(s, 'hairpin') ? ['hairpin=1'] : []),
  ]);
}

export const releaseBridge = (name: string) => netHelper(['bridge-release', name]);
/** Only a link with this alias: one by the same name that is not ours (a failed create's EEXIST) stays. */
export const deleteLink = (name: string, alias: string) => netHelper(['link-del', name, `alias=${alias}`]);

/** `tcp *:8080 -> 10.88.0.2:80`, `udp [fd00::1]:53 -> [fd00::2]:53` */
const RULE = /^(tcp|udp) (\*|[0-9.]+|\[[0-9a-fA-F:.]+\]):(\d+) -> ([0-9.]+|\[[0-9a-fA-F:.]+\]):(\d+)$/;

/**
 * The table's script. Connections from elsewhere meet the prerouting chain;
 * the host's own meet output. Without a host address, any local address of
 * the host matches (fib daddr type local), loopback excepted: the kernel
 * drops packets to 127.0.0.0/8 that leave by another interface.
 */
export function publishScript(table: string, ports: string[], comment: string): string {
  const rules = ports.map((p) => {
    const m = RULE.exec(p);
    if (!m) throw Object.assign(new Error(`not a published port: ${p}`), { code: 'EINVAL' });
    const [, proto, hostIp, hostPort, to, toPort] = m;
    const family = to.startsWith('[') ? 'ip6' : 'ip';
    const match =
      hostIp === '*'
        ? `meta nfproto ${family === 'ip' ? 'ipv4' : 'ipv6'} fib daddr type local`
        : `${family} daddr ${hostIp.replace(/[[\]]/g, '')}`;
    return `${match} ${proto} dport ${hostPort} dnat ${family} to ${to}:${toPort}`;
  });
  const chain = (name: string) => [
    `  chain ${name} {`,
    `    type nat hook ${name} priority -100; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
  ];
  // `create` fails on an existing table (EEXIST) rather than adding to it; its block takes no chains
  return [
    `create table inet ${table} { comment ${JSON.stringify(comment)}; }`,
    `table inet ${table} {`,
    ...chain('prerouting'),
    ...chain('output'),
    '}',
    '',
  ].join('\n');
}

function nft(script: string): void {
  try {
    execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer; code?: string };
    const failure = new Error(
      err.code === 'ENOENT' ? 'nft is not installed' : String(err.stderr ?? '').trim() || `nft failed (${err.status})`,
    ) as NodeJS.ErrnoException;
    failure.code = err.code === 'ENOENT' ? 'ENOENT' : 'EINVAL';
    throw failure;
  }
}

const tableComment = (id: string) => `ctc container ${id}`;

export function publish(s: Step, id: string): void {
  nft(publishScript(str(s, 'table'), list(s, 'ports'), tableComment(id)));
}

/**
 * Deletes the table if it is this container's (its comment says so; nft 1.0's
 * JSON leaves table comments out, so the listing is read); a missing one is fine.
 */
export function unpublish(table: string, id: string): void {
  let listing: string;
  try {
    listing = execFileSync('nft', ['list', 'table', 'inet', table], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' });
  } catch {
    return; // no such table (or no nft: then nothing was published either)
  }
  if (listing.includes(`comment ${JSON.stringify(tableComment(id))}`)) nft(`delete table inet ${table}\n`);
}
