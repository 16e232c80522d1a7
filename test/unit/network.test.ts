// Networking in the compiler: the network spec in .ct.ts, .ct and OCI, its
// checks (each error at its position), the order of the steps it lowers to,
// and the nftables script for published ports. The kernel's side is in
// test/integration/network.test.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { contains, inetBytes, overlaps, parseCidr, parseInet, subnetText } from '../../plan/inet.ts';
import { publishScript } from '../../executor/host/network.ts';
import { example, tempDir } from '../helpers.ts';
import { errorsOf, writeSource } from '../sources.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const ts = (name: string, network: string, extra = '') =>
  writeSource(
    tmp.dir,
    name,
    `import { container, hostRootfs } from 'ctc';\n\nexport default container({\n  rootfs: hostRootfs(),\n  process: { args: ['/bin/true'] },${extra}\n  network: ${network},\n});\n`,
  );

const kinds = async (file: string) => (await build(file)).plan.steps.map((s) => s.kind);

test('addresses: IPv4 and IPv6 parse to numbers, subnets compare', () => {
  assert.is(inetBytes(parseInet('10.88.0.2')!).toString('hex'), '0a580002');
  assert.is(inetBytes(parseInet('fd00:88::2')!).toString('hex'), 'fd000088000000000000000000000002');
  assert.is(inetBytes(parseInet('::ffff:1.2.3.4')!).toString('hex'), '00000000000000000000ffff01020304');
  for (const bad of ['10.88.0.256', '10.88.0', 'fd00::g', 'fe80::1%eth0', '']) assert.is(parseInet(bad), undefined, bad);
  for (const bad of ['10.88.0.2', '10.88.0.2/33', 'fd00::/129', '10.88.0.2/x']) assert.is(parseCidr(bad), undefined, bad);
  assert.ok(overlaps(parseCidr('10.88.0.2/24')!, parseCidr('10.88.9.9/16')!));
  assert.not.ok(overlaps(parseCidr('10.88.0.2/24')!, parseCidr('10.88.1.2/24')!));
  assert.not.ok(overlaps(parseCidr('10.88.0.2/24')!, parseCidr('::/0')!), 'families never overlap');
  assert.ok(contains(parseCidr('fd00:88::2/64')!, parseInet('fd00:88::ffff')!));
  assert.is(subnetText(parseCidr('fd00:88::2/64')!), 'fd00:88::/64');
});

test('the bridge example lowers in the order the kernel needs', async () => {
  const steps = (await build(example('bridge.ct.ts'))).plan.steps;
  const at = (kind: string) => steps.findIndex((s) => s.kind === kind);
  // the bridge needs no pid; the veth's peer is made in the init's namespace, so after the clone
  assert.ok(at('net.bridge') < at('ns.clone') && at('ns.clone') < at('net.veth'));
  assert.ok(at('cgroup.join') < at('net.veth'), 'no container code runs before its cgroup is joined');
  assert.ok(at('net.veth') < at('net.addr') && at('net.addr') < at('rootfs.tmpfs'), 'addresses are set inside, before the root is built');
  const veth = steps.find((s) => s.kind === 'net.veth')!;
  assert.equal(veth.args, { host: 'ctc{idhash}0', peer: 'eth0', bridge: 'ctcbr0', hairpin: 1, mac: '02:42:0a:58:00:02', mtu: 1400 });
  assert.equal(
    steps.filter((s) => s.kind === 'net.route').map((s) => s.args),
    [
      { dst: 'default', gw: '10.88.0.1', dev: 'eth0' },
      { dst: '::/0', gw: 'fd00:88::1', dev: 'eth0' },
    ],
  );
  const publish = steps.find((s) => s.kind === 'net.publish')!;
  assert.equal(publish.args.ports, ['tcp *:8080 -> 10.88.0.2:80', 'tcp *:8080 -> [fd00:88::2]:80']);
});

test("network 'host' has no network namespace; with 'network' in namespaces it is a conflict", async () => {
  assert.not.ok((await kinds(ts('host.ct.ts', "'host'"))).includes('net.up'));
  const [e] = await errorsOf(ts('host-conflict.ct.ts', "'host'", "\n  namespaces: ['mount', 'network'],"));
  assert.is(e.code, 'CT_NET_CONFLICT');
  assert.is(e.source, 'host-conflict.ct.ts:7:3', 'at network:');
});

test("network 'none' (the default) brings up lo and nothing else", async () => {
  const plan = (await build(ts('none.ct.ts', "'none'"))).plan;
  assert.equal(
    plan.steps.filter((s) => s.kind.startsWith('net.')).map((s) => [s.kind, s.args]),
    [['net.up', { dev: 'lo' }]],
  );
});

test('an invalid address, an overlapping subnet, and a host name over 15 bytes are errors at their positions', async () => {
  const file = ts(
    'bad.ct.ts',
    `{
    interfaces: [
      { type: 'veth', hostName: 'a-very-long-veth-name', addresses: ['10.88.0.300/24'] },
      { type: 'veth', name: 'eth1', addresses: ['10.88.0.2/24'], gateway: '10.88.1.1' },
      { type: 'veth', name: 'eth2', addresses: ['10.88.0.9/16'] },
    ],
  }`,
  );
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source]),
    [
      ['CT_NET_IFNAME', 'bad.ct.ts:8:23'], // hostName
      ['CT_NET_ADDRESS', 'bad.ct.ts:8:58'], // the address itself, in its list
      ['CT_NET_GATEWAY', 'bad.ct.ts:9:66'],
      ['CT_NET_OVERLAP', 'bad.ct.ts:10:37'], // eth2's address
    ],
  );
  assert.match(errors[0].message, /'a-very-long-veth-name' is 21 bytes; Linux allows 1 to 15/);
  assert.match(errors[3].message, /10\.88\.0\.0\/16 on eth2 overlaps 10\.88\.0\.0\/24 on eth1/);
});

test('MACs, MTUs, routes, ports and DNS are checked too', async () => {
  const file = ts(
    'more.ct.ts',
    `{
    interfaces: [{ type: 'veth', addresses: ['10.88.0.2/24'], mac: '01:00:5e:00:00:01', mtu: 40, hairpin: true }],
    routes: [{ destination: '10.1.2.3/8', interface: 'eth9' }],
    ports: [{ host: 80, container: 80 }, { host: 80, container: 81 }, { host: 53, container: 53, hostIp: 'fd00::1' }],
    dns: { servers: ['10.88.0.1', 'nameserver'] },
  }`,
  );
  const codes = (await errorsOf(file)).map((e) => e.code);
  assert.equal(codes.sort(), [
    'CT_LIMIT_RANGE', // mtu 40
    'CT_NET_ADDRESS', // dns server 'nameserver'
    'CT_NET_CONFLICT', // hairpin without a bridge
    'CT_NET_MAC', // multicast
    'CT_NET_PORT', // 80 twice
    'CT_NET_PORT', // an IPv6 host address, and no IPv6 address to send it to
    'CT_NET_ROUTE', // host bits set
    'CT_NET_ROUTE', // no interface eth9
  ]);
});

test("addresses: 'auto' lowers to net.ipam and placeholders, and needs a bridge with addresses", async () => {
  const file = ts(
    'auto.ct.ts',
    "{ interfaces: [{ type: 'veth', bridge: { name: 'ctcbr0', create: true, addresses: ['10.88.0.1/24', 'fd00:88::1/64'] }, addresses: 'auto', gateway: '10.88.0.1' }], ports: [{ host: 80, container: 8080 }] }",
  );
  const steps = (await build(file)).plan.steps;
  assert.equal(steps.find((s) => s.kind === 'net.ipam')!.args, {
    bridge: 'ctcbr0',
    dev: 'eth0',
    subnets: ['10.88.0.1/24', 'fd00:88::1/64'],
  });
  assert.equal(
    steps.filter((s) => s.kind === 'net.addr').map((s) => s.args.addr),
    ['{ipv4:eth0}/24', '{ipv6:eth0}/64'],
  );
  assert.equal(steps.find((s) => s.kind === 'net.publish')!.args.ports, ['tcp *:80 -> {ipv4:eth0}:8080', 'tcp *:80 -> [{ipv6:eth0}]:8080']);
  assert.ok(steps.findIndex((s) => s.kind === 'net.ipam') < steps.findIndex((s) => s.kind === 'ns.clone'));
  const [e] = await errorsOf(ts('auto-bad.ct.ts', "{ interfaces: [{ type: 'veth', bridge: 'br0', addresses: 'auto' }] }"));
  assert.is(e.code, 'CT_NET_CONFLICT');
  assert.match(e.message, /addresses: 'auto' takes them from the bridge's subnets/);
});

test('the .ct language takes the same network, positions included', async () => {
  const file = writeSource(
    tmp.dir,
    'net.ct',
    `container {
  rootfs use preset.hostRootfs
  process { args /bin/true }
  network {
    interfaces {
      { type veth; bridge { name ctcbr0; create; addresses 10.88.0.1/24 }; addresses 10.88.0.2/24 10.88.0.1/24 }
    }
  }
}
`,
  );
  const [e] = await errorsOf(file);
  assert.is(e.code, 'CT_NET_OVERLAP');
  assert.match(e.message, /10\.88\.0\.1\/24 is both the bridge's address and eth0's/);
  assert.is(e.source, 'net.ct:6:99', "the veth's second address");
});

test("OCI: a network namespace with a path is joined by the init; a mount namespace's path is refused", async () => {
  const dir = join(tmp.dir, 'oci');
  mkdirSync(dir);
  const config = (namespaces: object[]) =>
    JSON.stringify(
      {
        ociVersion: '1.2.0',
        root: { path: '/' },
        process: { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 } },
        linux: { namespaces },
      },
      null,
      2,
    );
  const file = join(dir, 'config.json');
  writeFileSync(file, config([{ type: 'mount' }, { type: 'network', path: '/var/run/netns/web' }]));
  const steps = (await build(file)).plan.steps;
  assert.equal(steps.find((s) => s.kind === 'ns.clone')!.args.ns, ['mount'], 'no new network namespace');
  assert.equal(steps.find((s) => s.kind === 'ns.join')!.args, { ns: 'network', path: '/var/run/netns/web' });
  assert.not.ok(
    steps.some((s) => s.kind === 'net.up'),
    "a joined namespace's links are left alone",
  );
  writeFileSync(file, config([{ type: 'mount', path: '/proc/1/ns/mnt' }]));
  const [e] = await errorsOf(file);
  assert.is(e.code, 'CT_OCI_UNSUPPORTED');
  assert.match(e.message, /linux\.namespaces\[0\]\.path: cannot join an existing mount namespace/);
});

test('published ports: one inet table, prerouting and output chains, DNAT per family', () => {
  const script = publishScript('ctc-1a2b3c4d', ['tcp *:8080 -> 10.88.0.2:80', 'udp [fd00::1]:53 -> [fd00:88::2]:53'], 'ctc container web');
  assert.match(script, /^create table inet ctc-1a2b3c4d \{ comment "ctc container web"; \}\ntable inet ctc-1a2b3c4d \{\n/);
  assert.match(
    script,
    /chain prerouting \{\n    type nat hook prerouting priority -100; policy accept;\n    meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 10\.88\.0\.2:80\n    ip6 daddr fd00::1 udp dport 53 dnat ip6 to \[fd00:88::2\]:53\n  \}/,
  );
  assert.match(script, /chain output \{\n    type nat hook output priority -100;/);
  assert.throws(() => publishScript('t', ['tcp 8080 -> x'], ''), /not a published port/);
});

test.run();
