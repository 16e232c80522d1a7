// The other direction: a Spec written as an OCI config (ctc build
// --emit-bundle) and the config `ctc spec` writes. Read back by the OCI
// frontend, an emitted config must make the same plan as its source.

import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import type { CtcError } from '../../common/error.ts';
import { writeBundle } from '../../compiler/oci/bundle.ts';
import { printConfig } from '../../compiler/oci/config.ts';
import { ociFromSpec } from '../../compiler/oci/emit.ts';
import { exampleConfig } from '../../compiler/oci/example.ts';
import type { Plan } from '../../plan/steps.ts';
import type { Spec } from '../../compiler/spec.ts';
import { defaultMounts } from '../../stdlib/mounts.ts';
import { maskedPaths, readonlyPaths } from '../../stdlib/paths.ts';
import { tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

let n = 0;
const fresh = () => {
  const dir = join(tmp.dir, `d${n++}`);
  mkdirSync(dir);
  return dir;
};

/** What a plan does, without where its steps came from. */
const effect = (plan: Plan) => plan.steps.map((s) => [s.kind, s.args]);

const rich = `import { container, defaultMounts, dirRootfs } from 'ctc';
export default container({
  hostname: 'rich',
  domainname: 'example.org',
  rootfs: dirRootfs('/srv/rich', { readonly: true }),
  mounts: [...defaultMounts, { destination: '/data', type: 'bind', source: '/srv/data', options: ['ro'] }],
  devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o660, gid: 5 }],
  resources: { memory: { limit: '64Mi', swap: '128Mi' }, pids: { limit: 32 }, cpu: { shares: 512, quota: 50000, period: 100000 } },
  annotations: { 'org.example/owner': 'ops' },
  process: {
    args: ['/bin/sh', '-c', 'echo hi'],
    env: ['PATH=/bin', 'A=b c'],
    cwd: '/tmp',
    user: { uid: 1000, gid: 1000, additionalGids: [5, 6] },
    capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: 'unlimited', hard: 'unlimited' }],
    umask: 0o027,
    oomScoreAdj: 100,
  },
});
`;

test('an emitted config, read back by the OCI frontend, makes the same plan as its source', async () => {
  const dir = fresh();
  writeFileSync(join(dir, 'rich.ct.ts'), rich);
  const source = await build(join(dir, 'rich.ct.ts'));
  const bundle = writeBundle(join(dir, 'bundle'), source.spec);
  assert.not.ok(bundle.rootfs, 'a prepared directory needs no rootfs in the bundle');
  const text = readFileSync(bundle.config, 'utf8');
  assert.match(text, /"hard": 18446744073709551615/, 'unlimited is RLIM_INFINITY, a uint64');
  const config = JSON.parse(text);
  assert.is(config.root.path, '/srv/rich');
  assert.is(config.linux.cgroupsPath, '/ctc/bundle', '{id} is the bundle folder: runc does not substitute it');
  assert.is(config.linux.rootfsPropagation, 'rprivate', "what ctc does, not runc's rslave");
  const back = await build(bundle.config);
  const subst = effect(source.plan).map(([k, a]) => [k, JSON.parse(JSON.stringify(a).replaceAll('/ctc/{id}', '/ctc/bundle'))]);
  assert.equal(effect(back.plan), subst);
  assert.ok(back.plan.steps.every((s) => /^config\.json:\d+:\d+$/.test(s.source ?? '')));
});

test('a host root becomes DIR/rootfs: symlinks as symlinks, the rest empty with a read-only rbind, dirs and files written', async () => {
  const dir = fresh();
  const host = join(dir, 'host');
  mkdirSync(join(host, 'usr'), { recursive: true });
  writeFileSync(join(host, 'cache'), 'x');
  symlinkSync('usr', join(host, 'lib'));
  const spec = hostSpec({
    mirror: [join(host, 'usr'), join(host, 'lib'), join(host, 'cache'), join(host, 'absent')],
    dirs: { '/tmp': 0o1777 },
    files: { '/etc/passwd': 'root:x:0:0::/:/bin/sh\n' },
  });
  const bundle = writeBundle(join(dir, 'b1'), spec);
  const rootfs = bundle.rootfs!;
  const inRoot = (p: string) => join(rootfs, p);
  assert.ok(statSync(inRoot(join(host, 'usr'))).isDirectory());
  assert.is(readlinkSync(inRoot(join(host, 'lib'))), 'usr');
  assert.is(readFileSync(inRoot(join(host, 'cache')), 'utf8'), '', 'a mirrored file is an empty mount point');
  assert.not.ok(existsSync(inRoot(join(host, 'absent'))), 'a path the host lacks is skipped, as rootfs.mirror does');
  assert.is(statSync(inRoot('/tmp')).mode & 0o7777, 0o1777);
  assert.is(readFileSync(inRoot('/etc/passwd'), 'utf8'), 'root:x:0:0::/:/bin/sh\n');
  assert.is(statSync(inRoot('/etc/passwd')).mode & 0o777, 0o644);
  const config = JSON.parse(readFileSync(bundle.config, 'utf8'));
  assert.is(config.root.path, 'rootfs');
  assert.equal(config.mounts.slice(0, 2), [
    { destination: join(host, 'usr'), type: 'bind', source: join(host, 'usr'), options: ['rbind', 'ro'] },
    { destination: join(host, 'cache'), type: 'bind', source: join(host, 'cache'), options: ['rbind', 'ro'] },
  ]);
  assert.is(config.mounts[2].destination, '/proc', "then the spec's own mounts");
});

test('a bundle is never overwritten, and nothing is written through a symlink in the root', () => {
  const dir = fresh();
  const spec = hostSpec({ mirror: [], dirs: {}, files: {} });
  writeBundle(join(dir, 'b'), spec);
  assert.throws(
    () => writeBundle(join(dir, 'b'), spec),
    (e: CtcError) => e.code === 'CT_EXISTS' && /config\.json exists/.test(e.message),
  );

  const victim = join(dir, 'victim');
  mkdirSync(victim);
  symlinkSync(victim, join(dir, 'link')); // an absolute target: followed, it leaves the bundle
  const evil = hostSpec({ mirror: [join(dir, 'link')], dirs: {}, files: { [join(dir, 'link', 'x')]: 'owned' } });
  assert.throws(
    () => writeBundle(join(dir, 'b2'), evil),
    (e: CtcError) => e.code === 'CT_WRITE',
  );
  assert.not.ok(existsSync(join(victim, 'x')), 'nothing was written on the host');
  assert.not.ok(existsSync(join(dir, 'b2', 'rootfs')), 'the half-made rootfs is removed');
  assert.not.ok(existsSync(join(dir, 'b2', 'config.json')));
});

test("ctc spec's config is runc's example with ctc's presets, and builds", async () => {
  const c = exampleConfig();
  assert.is(c.ociVersion, '1.2.0');
  assert.equal(
    [c.process.terminal, c.process.args, c.process.cwd, c.root, c.hostname],
    [true, ['sh'], '/', { path: 'rootfs', readonly: true }, 'ctc'],
  );
  assert.equal(c.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']);
  for (const set of ['bounding', 'effective', 'permitted'] as const)
    assert.equal(c.process.capabilities?.[set], ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
  assert.equal(c.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
  assert.is(c.process.noNewPrivileges, true);
  assert.equal(
    c.mounts.map((m) => m.destination),
    defaultMounts.map((m) => m.destination),
  );
  assert.equal(c.linux.maskedPaths, maskedPaths.default);
  assert.equal(c.linux.readonlyPaths, readonlyPaths.default);
  assert.equal(c.linux.resources, { devices: [{ allow: false, access: 'rwm' }] });
  assert.equal(c.linux.namespaces.map((x) => x.type).sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);

  const dir = fresh();
  c.root.path = dir;
  c.process.terminal = false;
  writeFileSync(join(dir, 'config.json'), printConfig(c));
  const { plan } = await build(join(dir, 'config.json'));
  assert.ok(plan.steps.some((s) => s.kind === 'rootfs.readonly'));
});

test('ctc spec --rootless makes the changes runc spec --rootless makes', () => {
  const c = exampleConfig({ rootless: { uid: 1000, gid: 100 } });
  assert.equal(c.linux.namespaces.map((x) => x.type).sort(), ['cgroup', 'ipc', 'mount', 'pid', 'user', 'uts']);
  assert.equal(c.linux.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.equal(c.linux.gidMappings, [{ containerID: 0, hostID: 100, size: 1 }]);
  assert.equal(
    c.mounts.find((m) => m.destination === '/sys'),
    { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] },
  );
  assert.not.ok(c.mounts.some((m) => m.options?.some((o) => /^(uid|gid)=/.test(o))));
  assert.is(c.linux.resources, undefined);
});

test('the emitted config of a host root is what runc needs, no more', async () => {
  const spec = hostSpec({ mirror: [], dirs: {}, files: {} });
  const c = ociFromSpec(spec, { rootPath: 'rootfs', id: 'web' });
  assert.is(c.linux.cgroupsPath, '/ctc/web');
  assert.is(c.process.capabilities, undefined, 'none in the spec: none in the config');
  assert.equal(c.root, { path: 'rootfs', readonly: false });
});

function hostSpec(rootfs: { mirror: string[]; dirs: Record<string, number>; files: Record<string, string> }): Spec {
  return {
    rootfs: { kind: 'host', readonly: false, ...rootfs },
    process: {
      args: ['/bin/true'],
      env: [],
      cwd: '/',
      user: { uid: 0, gid: 0, additionalGids: [] },
      terminal: false,
      rlimits: [],
      noNewPrivileges: true,
    },
    namespaces: ['mount'],
    network: { interfaces: [], routes: [], ports: [] },
    uidMappings: [],
    gidMappings: [],
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc', options: [] }],
    devices: [],
    maskedPaths: [],
    readonlyPaths: [],
    resources: { devices: [] },
    cgroupsPath: '/ctc/{id}',
    annotations: {},
    sysctl: {},
    hooks: {},
  };
}

test.run();
