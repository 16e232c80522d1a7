// Networking against the kernel. The machine's own network is never touched:
// the test makes a network namespace of its own and runs ctc in it (nsenter
// --net), so the "host" side of every veth, bridge and nft table is that
// namespace, and every address used lives there or in the containers. The
// containers run the host's python3 for a TCP echo (a bounded exchange).

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, killedBefore, tempDir, until } from '../helpers.ts';
import { writeSource } from '../sources.ts';

const tmp = tempDir();
const root = join(tmp.dir, 'state');
const NS = `ctc-nettest-${process.pid}`;
const ids = ['srv', 'cli', 'fail', 'crash', 'taken', 'join', 'ipam1', 'ipam2'];

/** Runs a command in the test's network namespace (and nothing else changed). */
const inNs = (cmd: string, args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync('nsenter', [`--net=/run/netns/${NS}`, '--', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};
const ctcIn = (args: string[], env: Record<string, string> = {}) => inNs(process.execPath, [cli, '--root', root, ...args], env);

/** `ctc run -d`: the container keeps the stdio it is given, so it gets a file, not a pipe this test would wait on. */
function runDetached(id: string, plan: string): { status: number | null; log: () => string } {
  const log = join(tmp.dir, `${id}.log`);
  const fd = openSync(log, 'w');
  try {
    const r = spawnSync('nsenter', [`--net=/run/netns/${NS}`, '--', process.execPath, cli, '--root', root, 'run', '-d', '--id', id, plan], {
      stdio: ['ignore', fd, fd],
      timeout: 60_000,
    });
    return { status: r.status, log: () => readFileSync(log, 'utf8') };
  } finally {
    closeSync(fd);
  }
}
const ipJson = (...args: string[]) => JSON.parse(execFileSync('ip', ['-n', NS, '-j', ...args], { encoding: 'utf8' }) || '[]');
const links = () => (ipJson('link') as { ifname: string }[]).map((l) => l.ifname).sort();
const nftTables = () => inNs('nft', ['list', 'tables']).stdout.trim();

test.before(() => {
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
});
test.after(() => {
  for (const id of ids) ctcIn(['delete', '--force', id]);
  spawnSync('ip', ['netns', 'del', NS]);
  tmp.remove();
});

const ECHO_SERVER = `
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', 80))
s.listen(8)
while True:
    c, a = s.accept()
    c.sendall(b'echo ' + c.recv(100) + b' from ' + a[0].removeprefix('::ffff:').encode())
    c.close()
`;
/** argv: host port word ...; prints each answer on a line */
const ECHO_CLIENT = `
import socket, sys
args = sys.argv[1:]
for i in range(0, len(args), 3):
    c = socket.create_connection((args[i], int(args[i + 1])), timeout=5)
    c.sendall(args[i + 2].encode())
    print(c.recv(200).decode())
    c.close()
`;

/** A container on the bridge ctcbr0, which the first one makes (10.88.0.1/24, fd00:88::1/64). */
function source(name: string, veth: string, process: string, extra = '') {
  return writeSource(
    tmp.dir,
    `${name}.ct.ts`,
    `import { container, hostRootfs } from 'ctc';
export default container({
  rootfs: hostRootfs({ files: { '/echo-client.py': ${JSON.stringify(ECHO_CLIENT)}, '/echo-server.py': ${JSON.stringify(ECHO_SERVER)} } }),
  hostname: '${name}',
  network: {
    interfaces: [{ type: 'veth', bridge: { name: 'ctcbr0', create: true, addresses: ['10.88.0.1/24', 'fd00:88::1/64'] }, gateway: '10.88.0.1', ipv6Gateway: 'fd00:88::1', ${veth} }],${extra}
  },
  process: { args: ${process}, env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
});
`,
  );
}

function build(file: string): string {
  const plan = file.replace(/\.ct\.ts$/, '.plan');
  const r = spawnSync(process.execPath, [cli, 'build', file, '-o', plan], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return plan;
}

const server = () =>
  build(
    source(
      'srv',
      "addresses: ['10.88.0.2/24', 'fd00:88::2/64'], hairpin: true",
      JSON.stringify(['python3', '/echo-server.py']),
      "\n    ports: [{ host: 8080, container: 80 }],\n    dns: { servers: ['10.88.0.1'], search: ['ctc.test'], hosts: { db: '10.88.0.9' } },",
    ),
  );

const client = () =>
  build(
    source(
      'cli',
      "name: 'eth0', addresses: ['10.88.0.3/24', 'fd00:88::3/64'], mac: '02:42:0a:58:00:03', mtu: 1400, txQueueLen: 500",
      JSON.stringify([
        '/bin/sh',
        '-c',
        'ip -j link show eth0; ip -j addr show eth0; ip -j route; ip -j -6 route; python3 /echo-client.py 10.88.0.2 80 v4 fd00:88::2 80 v6',
      ]),
      "\n    routes: [{ destination: '10.99.0.0/16', gateway: '10.88.0.254' }],",
    ),
  );

test('two containers on one bridge talk over IPv4 and IPv6; each sees its MAC, MTU, addresses and routes; a published port reaches the server', async () => {
  const started = runDetached('srv', server());
  assert.is(started.status, 0, started.log());
  try {
    await talk();
  } finally {
    ctcIn(['delete', '--force', 'srv']);
  }
  assert.equal(links(), ['lo'], 'the last container takes the bridge ctc made with it');
  assert.is(nftTables(), '', 'and its table');
});

async function talk() {
  // the host side: the bridge is ctc's, the veth is attached to it in hairpin mode
  const bridge = ipJson('-d', 'link', 'show', 'ctcbr0')[0];
  assert.is(bridge.ifalias, 'ctc');
  const port = (
    ipJson('-d', 'link', 'show', 'master', 'ctcbr0') as {
      ifname: string;
      ifalias?: string;
      linkinfo: { info_slave_data: { hairpin: boolean } };
    }[]
  )[0];
  assert.match(port.ifname, /^ctc[0-9a-f]{8}0$/, 'the host end is named from the container id');
  assert.is(port.ifalias, 'ctc:srv');
  assert.is(port.linkinfo.info_slave_data.hairpin, true);
  const probe = () => inNs('python3', ['-c', ECHO_CLIENT, '10.88.0.2', '80', 'up']).status === 0;
  await until(probe, 'the echo server in the container', 15_000);

  const r = ctcIn(['run', '--id', 'cli', client()]);
  assert.is(r.status, 0, r.stdout + r.stderr);
  const [link, addr, route4, route6, ...echoes] = r.stdout.trim().split('\n');
  const l = JSON.parse(link)[0];
  assert.equal([l.address, l.mtu, l.txqlen], ['02:42:0a:58:00:03', 1400, 500]);
  const addrs = JSON.parse(addr)[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
  assert.ok(addrs.includes('10.88.0.3/24') && addrs.includes('fd00:88::3/64'), addrs.join(' '));
  const r4 = JSON.parse(route4).map((x: { dst: string; gateway?: string }) => `${x.dst} ${x.gateway ?? ''}`.trim());
  assert.ok(r4.includes('default 10.88.0.1') && r4.includes('10.99.0.0/16 10.88.0.254') && r4.includes('10.88.0.0/24'), r4.join(', '));
  const r6 = JSON.parse(route6).map((x: { dst: string; gateway?: string }) => `${x.dst} ${x.gateway ?? ''}`.trim());
  assert.ok(r6.includes('default fd00:88::1'), r6.join(', '));
  assert.equal(echoes, ['echo v4 from 10.88.0.3', 'echo v6 from fd00:88::3'], 'container to container, no NAT');

  // published: the namespace's own address, port 8080, goes to the server's port 80
  const pub = inNs('python3', ['-c', ECHO_CLIENT, '10.88.0.1', '8080', 'p4', 'fd00:88::1', '8080', 'p6']);
  assert.is(pub.status, 0, pub.stdout + pub.stderr);
  assert.equal(pub.stdout.trim().split('\n'), ['echo p4 from 10.88.0.1', 'echo p6 from fd00:88::1']);
  assert.match(nftTables(), /^table inet ctc-[0-9a-f]{8}$/);

  // the generated files, seen from inside
  const files = ctcIn(['exec', 'srv', 'cat', '/etc/resolv.conf', '/etc/hosts']);
  assert.is(files.status, 0, files.stderr);
  assert.match(files.stdout, /^nameserver 10\.88\.0\.1\nsearch ctc\.test\n/);
  assert.match(files.stdout, /10\.88\.0\.2\tsrv\n/);
  assert.match(files.stdout, /10\.88\.0\.9\tdb\n/);

  // the client is gone: its veth went, the bridge stays for the server
  assert.equal(links(), ['ctcbr0', port.ifname, 'lo'].sort());
}

test('a failure at each network step leaves no interface, bridge, route, nft table or state behind', () => {
  const plan = server();
  const steps = parseSteps(plan);
  const from = steps.find((s) => s.kind === 'net.bridge')!.n;
  const to = steps.filter((s) => s.kind.startsWith('net.')).at(-1)!.n + 1;
  let tried = 0;
  for (const { n, kind } of steps.filter((s) => s.n >= from && s.n <= to)) {
    const r = ctcIn(['run', '--id', 'fail', plan], { CTC_FAIL_STEP: String(n) });
    assert.is.not(r.status, 0, `step ${n} ${kind}`);
    assert.match(r.stderr, new RegExp(`CT_STEP_FAILED[^]*step ${n}`), `step ${n} ${kind}: ${r.stderr}`);
    assert.equal(links(), ['lo'], `after a failure at step ${n} ${kind}`);
    assert.is(nftTables(), '', `after a failure at step ${n} ${kind}`);
    assert.equal(
      readdirSync(root).filter((e) => e === 'fail'),
      [],
      `after a failure at step ${n} ${kind}`,
    );
    tried++;
  }
  assert.ok(tried >= 8, `${tried} steps tried`);
});

test('ctc killed in the middle of the network steps: delete --force removes what the journal says', async () => {
  const plan = server();
  const n = parseSteps(plan).find((s) => s.kind === 'net.publish')!.n;
  await killedBefore(
    ['nsenter', `--net=/run/netns/${NS}`, '--', process.execPath, cli, '--root', root, 'run', '--id', 'crash', plan],
    {},
    n,
  );
  assert.ok(links().includes('ctcbr0'), 'the bridge was made before the kill');
  const r = ctcIn(['delete', '--force', 'crash']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(links(), ['lo']);
  assert.is(nftTables(), '');
  assert.not.ok(existsSync(join(root, 'crash')));
});

test('a veth whose host name is taken fails with EEXIST, and the link that was there stays', () => {
  execFileSync('ip', ['-n', NS, 'link', 'add', 'ctctaken0', 'type', 'veth', 'peer', 'name', 'ctctaken1']);
  try {
    const plan = build(source('taken', "hostName: 'ctctaken0', addresses: ['10.88.0.4/24', 'fd00:88::4/64']", '["/bin/true"]'));
    const r = ctcIn(['run', '--id', 'taken', plan]);
    assert.is(r.status, 1);
    assert.match(r.stderr, /CT_STEP_FAILED/);
    assert.match(r.stderr, /EEXIST/);
    assert.match(r.stderr, /give the veth another hostName/);
    assert.equal(links(), ['ctctaken0', 'ctctaken1', 'lo'], 'not ours: not removed; the bridge ctc made for it is gone');
  } finally {
    spawnSync('ip', ['-n', NS, 'link', 'del', 'ctctaken0']);
  }
});

test('joining a network namespace by path: the container sees its links, and ctc changes nothing there', () => {
  const file = writeSource(
    tmp.dir,
    'join.ct.ts',
    `import { container, hostRootfs } from 'ctc';
export default container({
  rootfs: hostRootfs(),
  network: { join: '/run/netns/${NS}' },
  process: { args: ['/bin/sh', '-c', 'ip -j addr show lo'], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
});
`,
  );
  execFileSync('ip', ['-n', NS, 'addr', 'add', '10.77.0.1/32', 'dev', 'lo']);
  // run from the machine's own namespace: the container is in the test's all the same
  const r = spawnSync(process.execPath, [cli, '--root', root, 'run', '--id', 'join', build(file)], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const lo = JSON.parse(r.stdout)[0].addr_info.map((a: { local: string }) => a.local);
  assert.ok(lo.includes('10.77.0.1'), lo.join(' '));
  assert.ok(existsSync(`/run/netns/${NS}`));
});

test("addresses: 'auto' gives each container the next free address of the bridge's subnets, and takes it back", async () => {
  const auto = (name: string, args: string) =>
    build(source(name, "name: 'eth0', addresses: 'auto'", args, name === 'ipam1' ? '\n    ports: [{ host: 8081, container: 80 }],' : ''));
  const first = runDetached('ipam1', auto('ipam1', JSON.stringify(['python3', '/echo-server.py'])));
  assert.is(first.status, 0, first.log());
  try {
    assert.equal(readdirSync(join(root, '@ipam', 'ctcbr0')).sort(), ['10.88.0.2', 'fd00:88::2'], 'the first free ones: .1 is the bridge');
    const second = ctcIn(['run', '--id', 'ipam2', auto('ipam2', JSON.stringify(['ip', '-j', 'addr', 'show', 'eth0']))]);
    assert.is(second.status, 0, second.stderr);
    const addrs = JSON.parse(second.stdout)[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
    assert.ok(addrs.includes('10.88.0.3/24') && addrs.includes('fd00:88::3/64'), addrs.join(' '));
    assert.equal(readdirSync(join(root, '@ipam', 'ctcbr0')).sort(), ['10.88.0.2', 'fd00:88::2'], 'the second one gave its addresses back');
    // the published port goes to the address the first one was given
    await until(
      () => inNs('python3', ['-c', ECHO_CLIENT, '10.88.0.1', '8081', 'a']).status === 0,
      'the port published to an auto address',
      15_000,
    );
  } finally {
    ctcIn(['delete', '--force', 'ipam1']);
  }
  assert.not.ok(existsSync(join(root, '@ipam')), 'nothing of the IPAM is left once no container holds an address');
  assert.equal(links(), ['lo']);
});

function parseSteps(plan: string): { n: number; kind: string }[] {
  const text = readFileSync(plan, 'utf8');
  return [...text.matchAll(/^(\d+) (?:host|init) (\S+)/gm)].map((m) => ({ n: Number(m[1]), kind: m[2] }));
}

test.run();
