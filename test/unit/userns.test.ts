// User namespaces in the compiler: mappings checked (each error at its
// position), and what a user namespace changes in the plan: the maps written
// by the host after the clone, the init becoming root inside first, device
// nodes bound from the host, cgroups bound rather than mounted.

import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { tempDir } from '../helpers.ts';
import { errorsOf, writeSource } from '../sources.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const MAP = '[{ containerID: 0, hostID: 100000, size: 65536 }]';
const ts = (name: string, body: string) =>
  writeSource(
    tmp.dir,
    name,
    `import { container, defaultMounts, hostRootfs } from 'ctc';\n\nexport default container({\n  rootfs: hostRootfs(),\n  mounts: defaultMounts,\n${body}\n});\n`,
  );
const USERNS = "  namespaces: ['user', 'mount', 'uts', 'ipc', 'pid', 'network', 'cgroup'],";

test('a user namespace: maps after the clone, root inside first, devices bound from the host, cgroups bound', async () => {
  const file = ts('ok.ct.ts', `${USERNS}\n  uidMappings: ${MAP},\n  gidMappings: ${MAP},\n  process: { args: ['/bin/true'] },`);
  const steps = (await build(file)).plan.steps;
  const at = (kind: string) => steps.findIndex((s) => s.kind === kind);
  assert.ok(at('ns.clone') < at('user.map') && at('user.map') < at('user.root'));
  assert.equal(steps.find((s) => s.kind === 'user.map')!.args, { uid: ['0 100000 65536'], gid: ['0 100000 65536'] });
  assert.is(
    steps.find((s) => s.kind.includes('.') && s.n > steps[at('user.map')].n && s.kind !== 'net.veth' && s.kind !== 'proc.oom-score')!.kind,
    'user.root',
    'the first init step',
  );
  assert.ok((steps.find((s) => s.kind === 'ns.clone')!.args.ns as string[]).includes('user'));
  assert.not.ok(
    steps.some((s) => s.kind === 'dev.node'),
    'no mknod in a user namespace',
  );
  assert.ok(steps.some((s) => s.kind === 'mount.bind' && s.args.src === '/dev/null' && s.args.dst === '/dev/null'));
  assert.is(steps.find((s) => s.kind === 'mount.cgroup')!.args.path, '/ctc/{id}');
});

test('an unmapped process user, group or device owner is an error at its position', async () => {
  const file = ts(
    'unmapped.ct.ts',
    `${USERNS}\n  uidMappings: [{ containerID: 0, hostID: 100000, size: 1000 }],\n  gidMappings: ${MAP},\n  devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o666, uid: 5000 }],\n  process: { args: ['/bin/true'], user: { uid: 1000, gid: 1000 } },`,
  );
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source, e.message]),
    [
      ['CT_USERNS_UNMAPPED', 'unmapped.ct.ts:10:35', 'the process user: uid 1000 is not mapped by uidMappings'],
      ['CT_USERNS_UNMAPPED', 'unmapped.ct.ts:9:13', 'device /dev/fuse: uid 5000 is not mapped by uidMappings'],
    ],
  );
  assert.match(errors[0].hint ?? '', /mapped: 0\.\.999/);
});

test('mappings: overlaps, root not mapped, none at all, or without the user namespace', async () => {
  const codes = async (body: string) =>
    (await errorsOf(ts(`m${Math.random().toString(36).slice(2)}.ct.ts`, body))).map((e) => `${e.code} ${e.message}`);
  assert.equal(
    await codes(
      `${USERNS}\n  uidMappings: [{ containerID: 0, hostID: 100000, size: 10 }, { containerID: 5, hostID: 200000, size: 10 }],\n  gidMappings: ${MAP},\n  process: { args: ['/bin/true'] },`,
    ),
    ['CT_USERNS_MAP uidMappings[1] maps container ids that uidMappings[0] maps too'],
  );
  assert.equal(
    await codes(
      `${USERNS}\n  uidMappings: [{ containerID: 1, hostID: 100000, size: 10 }],\n  gidMappings: ${MAP},\n  process: { args: ['/bin/true'], user: { uid: 1, gid: 0 } },`,
    ),
    ['CT_USERNS_UNMAPPED root inside the container (the init sets the container up as it): uid 0 is not mapped by uidMappings'],
  );
  assert.equal(await codes(`${USERNS}\n  process: { args: ['/bin/true'] },`), [
    'CT_USERNS_MAP a user namespace needs uidMappings',
    'CT_USERNS_MAP a user namespace needs gidMappings',
  ]);
  assert.equal(await codes(`  uidMappings: ${MAP},\n  process: { args: ['/bin/true'] },`), [
    "CT_NS_REQUIRED uidMappings needs the 'user' namespace",
  ]);
  assert.equal(
    await codes(
      `  namespaces: ['user', 'mount', 'pid', 'ipc'],\n  uidMappings: ${MAP},\n  gidMappings: ${MAP},\n  process: { args: ['/bin/true'] },`,
    ),
    ['CT_USERNS_MOUNT sysfs at /sys: in a user namespace the kernel mounts sysfs only with a network namespace of its own'],
  );
});

test("the rootless preset: 'self' and 'subordinate' become {self} and {subordinate}, looked up when it runs", async () => {
  const file = writeSource(
    tmp.dir,
    'rl.ct.ts',
    "import { container, hostRootfs, rootless } from 'ctc';\nexport default container({ ...rootless, rootfs: hostRootfs(), process: { args: ['/bin/true'] } });\n",
  );
  const steps = (await build(file)).plan.steps;
  assert.equal(steps.find((s) => s.kind === 'user.map')!.args, {
    uid: ['0 {self} 1', '1 {subordinate} 65535'],
    gid: ['0 {self} 1', '1 {subordinate} 65535'],
  });
  assert.not.ok(
    steps.some((s) => s.kind === 'mount.cgroup'),
    'no cgroup mount: an ordinary user seldom has a cgroup',
  );
  const bad = ts(
    'self2.ct.ts',
    `${USERNS}\n  uidMappings: [{ containerID: 0, hostID: 'self', size: 2 }],\n  gidMappings: ${MAP},\n  process: { args: ['/bin/true'] },`,
  );
  assert.equal(
    (await errorsOf(bad)).map((e) => e.message),
    ["uidMappings[0]: hostID 'self' is one id: size must be 1"],
  );
});

test("'idmap' binds: a host step between the init's mounts; refused without a user namespace or on a non-bind", async () => {
  const file = writeSource(
    tmp.dir,
    'idmap.ct.ts',
    `import { container, defaultMounts, hostRootfs } from 'ctc';\nexport default container({\n  rootfs: hostRootfs(),\n${USERNS}\n  uidMappings: ${MAP},\n  gidMappings: ${MAP},\n  mounts: [...defaultMounts, { destination: '/data', type: 'bind', source: '/srv/data', options: ['idmap', 'ro'] }],\n  process: { args: ['/bin/true'] },\n});\n`,
  );
  const steps = (await build(file)).plan.steps;
  const idmap = steps.find((s) => s.kind === 'mount.idmap')!;
  assert.equal(idmap.args, { root: '{state}/rootfs', src: '/srv/data', dst: '/data', flags: ['ro'] });
  const at = (kind: string) => steps.findIndex((s) => s.kind === kind);
  assert.ok(at('rootfs.tmpfs') < steps.indexOf(idmap) && steps.indexOf(idmap) < at('rootfs.pivot'));
  const plain = writeSource(
    tmp.dir,
    'idmap-bad.ct.ts',
    "import { container, hostRootfs } from 'ctc';\nexport default container({\n  rootfs: hostRootfs(),\n  mounts: [{ destination: '/data', type: 'bind', source: '/srv/data', options: ['idmap'] }, { destination: '/t', type: 'tmpfs', options: ['idmap'] }],\n  process: { args: ['/bin/true'] },\n});\n",
  );
  assert.equal(
    (await errorsOf(plain)).map((e) => e.message),
    ["mounts[0]: 'idmap' needs the user namespace, whose mapping it applies", "mounts[1]: 'idmap' applies only to bind mounts"],
  );
});

test('OCI: linux.uidMappings and gidMappings are read', async () => {
  const dir = join(tmp.dir, 'oci');
  mkdirSync(dir);
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const config = {
    ociVersion: '1.2.0',
    root: { path: '/' },
    process: { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: map, gidMappings: map },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const steps = (await build(join(dir, 'config.json'))).plan.steps;
  assert.equal(steps.find((s) => s.kind === 'user.map')!.args, { uid: ['0 100000 65536'], gid: ['0 100000 65536'] });
});

test.run();
