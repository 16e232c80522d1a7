// The OCI frontend: real configs build, every error names its JSON path at
// its exact config.json:line:col, unknown properties are ignored, known but
// unsupported ones are refused, and the plan's steps point at config lines.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { compileOci } from '../../compiler/frontend/oci.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { root, tempDir } from '../helpers.ts';
import { errorsOf } from '../sources.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const fixture = (name: string) => join(root, 'test', 'fixtures', 'oci', name, 'config.json');
const containerd = () => JSON.parse(readFileSync(fixture('containerd'), 'utf8'));

let n = 0;
/** Writes a config.json (pretty-printed, so positions have distinct lines) in its own folder. */
function config(value: unknown, text = JSON.stringify(value, null, 2)): { file: string; text: string } {
  const dir = join(tmp.dir, `c${n++}`);
  mkdirSync(dir);
  const file = join(dir, 'config.json');
  writeFileSync(file, text);
  return { file, text };
}

/** `config.json:line:col` of the first character of the `nth` occurrence of `needle`. */
function posOf(text: string, needle: string, nth = 0): string {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`${needle} is not in the config`);
  }
  return posAt(text, i);
}

/** The position of the `{` of the object whose first member is `needle`. */
const objectOf = (text: string, needle: string) => posAt(text, text.lastIndexOf('{', text.indexOf(needle)));

function posAt(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `config.json:${before.length}:${before[before.length - 1].length + 1}`;
}

test("containerd's config for `ctr run` builds, with what it asks for", async () => {
  const { spec, plan } = await build(fixture('containerd'));
  assert.equal(spec.rootfs, { kind: 'dir', path: '/tmp/cd/rootfs', readonly: false });
  assert.equal(spec.namespaces, ['pid', 'ipc', 'uts', 'mount', 'network']);
  assert.is(spec.cgroupsPath, '/default/t1');
  assert.is(spec.process.capabilities?.bounding.length, 14);
  assert.equal(spec.process.capabilities?.ambient, []);
  assert.equal(spec.process.env, [], 'OCI: no env means none');
  assert.is(spec.process.umask, 0o022, "runc's umask");
  assert.equal(spec.resources.cpu, { shares: 1024 });
  assert.equal(spec.resources.devices[8], { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' });
  const kinds = plan.steps.map((s) => s.kind);
  for (const k of ['rootfs.bind', 'proc.bounding', 'proc.caps', 'proc.rlimit', 'proc.no-new-privs', 'cgroup.devices'] as const) {
    assert.ok(kinds.includes(k), `a ${k} step`);
  }
  assert.is(kinds.filter((k) => k === 'fs.mask').length, 10);
  assert.is(kinds.filter((k) => k === 'fs.readonly').length, 5);
  assert.ok(!kinds.includes('rootfs.readonly'), 'root.readonly is absent: false');
  assert.ok(!kinds.includes('uts.hostname'), 'no hostname in the config: none set');
  assert.equal(plan.steps.find((s) => s.kind === 'ns.clone')?.args.ns, ['mount', 'uts', 'ipc', 'pid', 'network']);
  assert.equal(plan.steps.find((s) => s.kind === 'proc.exec')?.args, { args: ['sh', '-c', 'echo hi; exit 4'], env: [] });
  for (const s of plan.steps) assert.match(s.source ?? '', /^config\.json:1:\d+$/, `step ${s.n} ${s.kind} names its config position`);
  assert.equal(
    plan.sources.map((s) => s.path),
    ['config.json'],
  );
  assert.is(printPlan(parsePlan(printPlan(plan))), printPlan(plan));
});

test('the steps point at the lines of config.json that caused them', async () => {
  const { file, text } = config(JSON.parse(readFileSync(fixture('busybox'), 'utf8')));
  const { plan } = await build(file);
  const step = (kind: string, pred: (s: (typeof plan.steps)[number]) => boolean = () => true) =>
    plan.steps.find((s) => s.kind === kind && pred(s))?.source;
  assert.is(step('state.create'), 'config.json:1:1', 'the container itself: the top-level object');
  assert.is(step('cgroup.create'), 'config.json:1:1', 'no cgroupsPath: the default, at the top-level object');
  assert.is(step('rootfs.bind'), posOf(text, '"root"'));
  assert.is(step('rootfs.readonly'), posOf(text, '"readonly"'));
  assert.is(step('uts.hostname'), posOf(text, '"hostname"'));
  assert.is(step('ns.clone'), posOf(text, '"namespaces"'));
  assert.is(step('proc.exec'), posOf(text, '"args"'));
  assert.is(step('proc.rlimit'), objectOf(text, '"type": "RLIMIT_NOFILE"'));
  // a mount's steps point at its object
  assert.is(
    step('mount.fs', (s) => s.args.dst === '/proc'),
    objectOf(text, '"destination": "/proc"'),
  );
  assert.is(
    step('fs.mask', (s) => s.args.path === '/proc/kcore'),
    posOf(text, '"/proc/kcore"'),
  );
  assert.is(step('cgroup.devices'), posOf(text, '"devices"'));
});

test('a field ctc does not implement yet is refused at its line, with what brings it', async () => {
  const c = containerd();
  c.linux.netDevices = { eth1: { name: 'ceth1' } };
  const { file, text } = config(c);
  const [e, ...more] = await errorsOf(file);
  assert.is(more.length, 0);
  assert.is(e.code, 'CT_OCI_UNSUPPORTED');
  assert.match(e.message, /^linux\.netDevices: /);
  assert.is(e.source, posOf(text, '"netDevices"'));
  assert.match(e.hint ?? '', /veth/);
});

test('every unsupported field is reported, in document order, each with its issue', async () => {
  const c = containerd();
  c.process.user.username = 'root';
  c.linux.resources.blockIO = { leafWeight: 500 };
  c.linux.personality = { domain: 'LINUX32' };
  c.linux.netDevices = { eth1: { name: 'ceth1' } };
  c.windows = { layerFolders: ['C:\\x'] };
  const { file, text } = config(c);
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.message.split(':')[0], e.source, /issue (\d+)|not planned/.exec(e.hint ?? '')?.[0]]),
    [
      ['CT_OCI_UNSUPPORTED', 'process.user.username', posOf(text, '"username"'), 'not planned'],
      ['CT_OCI_UNSUPPORTED', 'linux.resources.blockIO.leafWeight', posOf(text, '"leafWeight"'), undefined],
      ['CT_OCI_UNSUPPORTED', 'linux.personality', posOf(text, '"personality"'), 'not planned'],
      ['CT_OCI_UNSUPPORTED', 'linux.netDevices', posOf(text, '"netDevices"'), undefined],
      ['CT_OCI_UNSUPPORTED', 'windows', posOf(text, '"windows"'), 'not planned'],
    ],
  );
});

test('unsupported fields that ask for nothing are accepted: null, false, empty, (r)private, a zero that runc reads as unset', async () => {
  const c = containerd();
  c.hooks = { prestart: [] };
  c.linux.seccomp = null;
  c.linux.sysctl = {};
  c.linux.mountLabel = '';
  c.linux.rootfsPropagation = 'rprivate';
  c.linux.resources.memory = { limit: 67108864, kernel: 0, disableOOMKiller: false };
  c.linux.resources.blockIO = { weightDevice: [] };
  c.process.apparmorProfile = '';
  const { plan } = await build(config(c).file);
  assert.ok(plan.steps.some((s) => s.kind === 'cgroup.limit' && s.args.key === 'memory.limit'));
});

test('properties the OCI spec does not define are ignored, as the spec requires', async () => {
  const c = containerd();
  c.vendorExtension = { anything: [1, 2] };
  c.process.notAField = true;
  c.process.capabilities.sometimes = ['CAP_NOPE'];
  c.linux.resources.memory = { limit: 67108864, fancy: 'yes' };
  c.linux.namespaces[0].extra = 1;
  c.mounts[0].note = 'hi';
  c.root.verity = 'x';
  const plain = containerd();
  plain.linux.resources.memory = { limit: 67108864 };
  const a = await build(config(c).file);
  const b = await build(config(plain).file);
  assert.equal(a.spec, b.spec);
  assert.equal(
    a.plan.steps.map((s) => [s.kind, s.args]),
    b.plan.steps.map((s) => [s.kind, s.args]),
  );
});

test('an unsupported field and a shape error are reported together', async () => {
  const c = containerd();
  c.linux.netDevices = { eth1: { name: 'ceth1' } };
  c.process.terminal = 'no';
  const errors = await errorsOf(config(c).file);
  assert.equal(
    errors.map((e) => e.code),
    ['CT_OCI_UNSUPPORTED', 'CT_SHAPE'],
  );
});

test('a value of the wrong type names its JSON path at its line', async () => {
  const c = containerd();
  c.process.terminal = 'yes';
  const { file, text } = config(c);
  const [e] = await errorsOf(file);
  assert.equal([e.code, e.message, e.source], ['CT_SHAPE', 'process.terminal: expected true or false', posOf(text, '"terminal"')]);

  const d = containerd();
  d.linux.resources.devices[3].major = '1';
  const bad = config(d);
  const [f] = await errorsOf(bad.file);
  assert.equal(
    [f.code, f.message, f.source],
    ['CT_SHAPE', 'linux.resources.devices[3].major: expected a whole number', posOf(bad.text, '"major": "1"')],
  );

  const g = containerd();
  delete g.process.cwd;
  const noCwd = config(g);
  const [h] = await errorsOf(noCwd.file);
  assert.equal(
    [h.code, h.message, h.source],
    ['CT_SHAPE', 'process.cwd: expected a string', posOf(noCwd.text, '"process"')],
    'a missing field: at its parent',
  );
});

test('a relative mount destination is refused at its line', async () => {
  const c = containerd();
  c.mounts[3].destination = 'dev/shm';
  const { file, text } = config(c);
  const [e, ...more] = await errorsOf(file);
  assert.is(more.length, 0);
  assert.equal([e.code, e.source], ['CT_PATH_RELATIVE', posOf(text, '"destination": "dev/shm"')]);
  assert.match(e.message, /^mounts\[3\]\.destination: /);
});

test('a misspelled capability is refused at the element itself, in each set', async () => {
  const c = containerd();
  for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set][2] = 'CAP_FSETDI';
  const { file, text } = config(c);
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source]),
    [0, 1, 2].map((k) => ['CT_CAP_UNKNOWN', posOf(text, '"CAP_FSETDI"', k)]),
  );
});

test('a mount option ctc does not know is refused at the option', async () => {
  const c = containerd();
  c.mounts[1].options.push('tmpcopyup');
  const { file, text } = config(c);
  const [e] = await errorsOf(file);
  assert.equal([e.code, e.source], ['CT_MOUNT_OPTION', posOf(text, '"tmpcopyup"')]);
});

test('invalid JSON is CT_JSON at the first syntax error', async () => {
  const trailing = config(null, '{\n  "ociVersion": "1.0.2",\n  "process": {"args": ["sh",]}\n}\n');
  const [e] = await errorsOf(trailing.file);
  assert.equal(
    [e.code, e.source, e.message],
    ['CT_JSON', 'config.json:3:28', 'config.json is not valid JSON: a trailing comma (not allowed in JSON)'],
  );
  const trailingMember = config(null, '{\n  "ociVersion": "1.0.2",\n  "root": {"path": "r"  ,\n}}\n');
  const [t] = await errorsOf(trailingMember.file);
  assert.equal([t.code, t.source], ['CT_JSON', 'config.json:3:25']);
  const missing = config(null, '{\n  "ociVersion": "1.0.2"\n  "root": {}\n}\n');
  const [m] = await errorsOf(missing.file);
  assert.equal([m.code, m.source, m.message], ['CT_JSON', 'config.json:3:3', "config.json is not valid JSON: expected ','"]);
  const comment = config(null, '{\n  // containerd never writes this\n  "ociVersion": "1.0.2"\n}\n');
  const [f] = await errorsOf(comment.file);
  assert.equal([f.code, f.source], ['CT_JSON', 'config.json:2:3']);
  const [g] = await errorsOf(config(null, '').file);
  assert.is(g.code, 'CT_JSON');
  const [h] = await errorsOf(config(null, '[1, 2]').file);
  assert.equal([h.code, h.source], ['CT_SHAPE', 'config.json:1:1']);
});

test('ociVersion: every 1.x is read (silently up to 1.2.x, with a warning above), anything else is CT_OCI_VERSION', async () => {
  for (const v of ['1.0.0', '1.0.2', '1.0.2-dev', '1.1.0', '1.2.0', '1.2.1']) {
    const c = containerd();
    c.ociVersion = v;
    assert.equal((await build(config(c).file)).warnings, [], `${v}: no warning`);
  }
  for (const v of ['1.3.0', '1.10.2-dev']) {
    const c = containerd();
    c.ociVersion = v;
    const { file, text } = config(c);
    const { warnings } = await build(file);
    assert.equal(
      warnings.map((w) => [w.code, w.source]),
      [['CT_OCI_VERSION', posOf(text, '"ociVersion"')]],
      v,
    );
    assert.match(warnings[0].message, new RegExp(`ociVersion "${v.replace(/\./g, '\\.')}" is newer than 1\\.2`));
  }
  for (const v of ['2.0.0', '0.6.0', '1', '1.3', 'latest', 1]) {
    const c = containerd();
    c.ociVersion = v;
    const { file, text } = config(c);
    const [e] = await errorsOf(file);
    assert.equal([e.code, e.source], ['CT_OCI_VERSION', posOf(text, '"ociVersion"')], String(v));
  }
  const c = containerd();
  delete c.ociVersion;
  const [e] = await errorsOf(config(c).file);
  assert.equal([e.code, e.source], ['CT_OCI_VERSION', 'config.json:1:1']);
});

test('kernel memory limits (gone from current kernels) are accepted with one warning and not applied, as runc ignores them', async () => {
  const c = containerd();
  c.linux.resources.memory = { limit: 67108864, kernel: 1048576, kernelTCP: 2097152 };
  const { file, text } = config(c);
  const { plan, warnings } = await build(file);
  assert.equal(
    warnings.map((w) => [w.code, w.source]),
    [['CT_OCI_DEPRECATED', posOf(text, '"kernel"')]],
  );
  assert.match(warnings[0].message, /^linux\.resources\.memory\.kernel, linux\.resources\.memory\.kernelTCP: /);
  const limits = plan.steps.filter((s) => s.kind === 'cgroup.limit').map((s) => String(s.args.key));
  assert.ok(limits.includes('memory.limit') && !limits.some((k) => /kmem|kernel/.test(k)), limits.join(' '));
  const plain = containerd();
  plain.linux.resources.memory = { limit: 67108864 };
  assert.equal(
    plan.steps.map((s) => [s.kind, s.args]),
    (await build(config(plain).file)).plan.steps.map((s) => [s.kind, s.args]),
  );
});

test("OCI's defaults, not the stdlib's: what a config leaves out is not done", () => {
  const { file } = config({
    ociVersion: '1.0.2',
    root: { path: 'rootfs' },
    process: { user: { uid: 1000, gid: 1000 }, args: ['/bin/true'], cwd: '/' },
    linux: { namespaces: [{ type: 'mount' }] },
  });
  const { spec } = compileOci(file);
  assert.equal(spec.rootfs, { kind: 'dir', path: join(file, '..', 'rootfs'), readonly: false }, 'root.path is relative to the bundle');
  assert.equal(spec.process.env, []);
  assert.is(spec.process.noNewPrivileges, false);
  assert.is(spec.process.capabilities, undefined, 'no capabilities: left as they are');
  assert.is(spec.process.terminal, false);
  assert.is(spec.process.umask, 0o022);
  assert.equal([spec.maskedPaths, spec.readonlyPaths, spec.devices, spec.mounts], [[], [], [], []]);
  assert.equal(spec.resources, { devices: [] }, 'no device rules: no device filter');
  assert.is(spec.cgroupsPath, '/ctc/{id}');
  assert.is(spec.hostname, undefined);
});

test('no namespaces: the checks refuse it, since a root needs a mount namespace', async () => {
  const c = containerd();
  delete c.linux.namespaces;
  const { file, text } = config(c);
  const [e] = await errorsOf(file);
  assert.equal([e.code, e.source], ['CT_NS_REQUIRED', posOf(text, '"root"')]);
});

test("no mount namespace: refused by name (runc would mount into the host's mount namespace and leave the mounts there)", async () => {
  const c = containerd();
  c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
  const { file, text } = config(c);
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source, e.message]),
    [['CT_NS_REQUIRED', posOf(text, '"root"'), "a container root needs the 'mount' namespace"]],
  );
  assert.match(errors[0].hint ?? '', /does not mount a container's root and mounts in the host's mount namespace/);
});

test("no ipc namespace and an mqueue mount builds: the container's mqueue is the host's, as under runc", async () => {
  const c = containerd();
  c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc');
  c.mounts.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] });
  const { plan, warnings } = await build(config(c).file);
  assert.equal(warnings, []);
  assert.ok(!(plan.steps.find((s) => s.kind === 'ns.clone')!.args.ns as string[]).includes('ipc'), 'no ipc namespace is made');
  assert.ok(
    plan.steps.some((s) => s.kind === 'mount.fs' && s.args.dst === '/dev/mqueue'),
    'mqueue is mounted',
  );
});

test('seccomp: names no architecture has are skipped with a warning each (runc and crun skip them); the rest is filtered as written', async () => {
  const c = containerd();
  c.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['swapcontext'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['read', 'syscall', 'write', 'timerfd', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
    ],
  };
  const { file, text } = config(c);
  const { spec, plan, warnings } = await build(file);
  assert.equal(
    warnings.map((w) => [w.code, w.source, w.message]),
    [
      [
        'CT_SYSCALL_UNKNOWN',
        posOf(text, '"swapcontext"'),
        "linux.seccomp.syscalls[0].names[0]: 'swapcontext' is not a syscall on any architecture; skipped, as runc and crun skip names libseccomp cannot resolve",
      ],
      [
        'CT_SYSCALL_UNKNOWN',
        posOf(text, '"syscall"'),
        "linux.seccomp.syscalls[1].names[1]: 'syscall' is not a syscall on any architecture; skipped, as runc and crun skip names libseccomp cannot resolve",
      ],
      [
        'CT_SYSCALL_UNKNOWN',
        posOf(text, '"timerfd"'),
        "linux.seccomp.syscalls[1].names[3]: 'timerfd' is not a syscall on any architecture; skipped, as runc and crun skip names libseccomp cannot resolve",
      ],
    ],
  );
  assert.equal(
    spec.process.seccomp?.rules,
    [{ syscalls: ['read', 'write', 'exit_group'], action: 'allow', args: [] }],
    'a rule of unknown names only is dropped',
  );
  assert.ok(plan.steps.some((s) => s.kind === 'proc.seccomp'));
  const typo = containerd();
  typo.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['opne'], action: 'SCMP_ACT_ERRNO' }] };
  const second = config(typo);
  assert.equal(
    (await build(second.file)).warnings.map((w) => w.code),
    ['CT_SYSCALL_UNKNOWN'],
    'OCI input: a warning, not an error',
  );
});

test('a user namespace without mappings is left to the checks; the mappings are read at their lines', async () => {
  const c = containerd();
  c.linux.namespaces.push({ type: 'user' });
  const { file } = config(c);
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => e.code),
    ['CT_USERNS_MAP', 'CT_USERNS_MAP'],
  );
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 10 }];
  c.process.user = { uid: 0, gid: 20 };
  const second = config(c);
  const [e] = await errorsOf(second.file);
  assert.equal([e.code, e.source], ['CT_USERNS_UNMAPPED', posOf(second.text, '"user"')]);
});

test('mounts, limits and paths as runc reads them', async () => {
  const c = containerd();
  c.mounts.push({ destination: '/data', type: 'none', source: 'data', options: ['rbind', 'ro'] });
  c.mounts.push({ destination: '/etc/hosts', source: '/etc/hosts', options: ['bind'] });
  c.linux.cgroupsPath = 'k8s/pod1';
  c.linux.resources.memory = { limit: -1, swap: 0 };
  c.linux.resources.pids = { limit: 0 };
  c.linux.resources.cpu = { shares: 512, quota: -1, period: 100000 };
  // biome-ignore lint/correctness/noPrecisionLoss: RLIM_INFINITY as containerd writes it; JSON.parse rounds it to this same double
  c.process.rlimits.push({ type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 0 });
  c.process.user.umask = 0o077;
  c.process.terminal = true;
  c.process.consoleSize = { height: 24, width: 80 };
  c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o20666 }];
  const { file } = config(c);
  const { spec, plan } = await build(file);
  assert.equal(spec.mounts.at(-2), { destination: '/data', type: 'bind', source: join(file, '..', 'data'), options: ['rbind', 'ro'] });
  assert.equal(spec.mounts.at(-1), { destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['bind'] });
  assert.is(spec.cgroupsPath, 'k8s/pod1', 'relative: it goes under CTC_CGROUP_PARENT when it runs');
  assert.is(spec.resources.memory, undefined, '-1 and 0 are no limit');
  assert.is(spec.resources.pids, undefined);
  assert.equal(spec.resources.cpu, { shares: 512, period: 100000 });
  assert.equal(spec.process.rlimits[1], { type: 'RLIMIT_CORE', soft: 0, hard: -1 });
  assert.is(spec.process.umask, 0o077);
  assert.equal(spec.process.consoleSize, { rows: 24, cols: 80 });
  assert.equal(spec.devices, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o666, uid: 0, gid: 0 }]);
  const find = (kind: string) => plan.steps.filter((s) => s.kind === kind).map((s) => s.args);
  assert.equal(find('cgroup.limit'), [
    { path: 'k8s/pod1', key: 'cpu.shares', value: '512' },
    { path: 'k8s/pod1', key: 'cpu.max', value: 'max 100000' },
  ]);
  assert.equal(find('proc.rlimit')[1], { type: 'RLIMIT_CORE', soft: '0', hard: 'unlimited' });
  assert.equal(find('proc.tty'), [{ rows: 24, cols: 80 }]);
  assert.equal(
    find('mount.bind').map((a) => a.dst),
    ['/data', '/etc/hosts'],
  );
});

test.run();
