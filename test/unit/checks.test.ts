import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../../compiler/check/index.ts';
import { relax } from '../../compiler/check/relax.ts';
import { CtcError, CtcErrors, formatError } from '../../common/error.ts';
import { type Origins, type Spec, defaultEnv } from '../../compiler/spec.ts';
import { hostRootfs } from '../../stdlib/rootfs.ts';

const base = (): Spec => ({
  rootfs: { kind: 'dir', path: '/srv/root', readonly: false },
  process: {
    args: ['/bin/true'],
    env: [...defaultEnv],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    terminal: false,
    rlimits: [],
    noNewPrivileges: true,
  },
  namespaces: ['mount', 'uts', 'ipc', 'pid', 'network', 'cgroup'],
  network: { interfaces: [], routes: [], ports: [] },
  uidMappings: [],
  gidMappings: [],
  mounts: [],
  devices: [],
  maskedPaths: [],
  readonlyPaths: [],
  resources: { devices: [] },
  cgroupsPath: '/ctc/{id}',
  annotations: {},
  sysctl: {},
  hooks: {},
});

const origins: Origins = new Map([
  ['', 'app.ct.ts:3:26'],
  ['rootfs', 'app.ct.ts:4:3'],
  ['mounts[0]', 'app.ct.ts:6:5'],
  ['resources.memory.limit', 'app.ct.ts:9:15'],
]);

function codes(spec: Spec): [string, string | undefined][] {
  try {
    check(spec, origins);
    return [];
  } catch (e) {
    const all = e instanceof CtcErrors ? e.errors : [e as CtcError];
    return all.map((x) => [x.code, x.source]);
  }
}

test('a valid spec passes', () => {
  assert.equal(codes(base()), []);
});

test('a relative rootfs is refused at its line', () => {
  const s = base();
  s.rootfs = { kind: 'dir', path: 'rootfs', readonly: false };
  assert.equal(codes(s), [['CT_ROOTFS_RELATIVE', 'app.ct.ts:4:3']]);
});

test('a mount destination that climbs out with .. is refused', () => {
  const s = base();
  s.mounts = [{ destination: '/data/../../etc', type: 'tmpfs', source: 'tmpfs', options: [] }];
  assert.equal(codes(s), [['CT_PATH_ESCAPE', 'app.ct.ts:6:5']]);
});

test('relative mount destinations, unknown options and binds of relative host paths are refused', () => {
  const s = base();
  s.mounts = [{ destination: 'data', type: 'bind', source: 'src', options: ['rbind', 'nosiud'] }];
  assert.equal(
    codes(s).map(([c]) => c),
    ['CT_PATH_RELATIVE', 'CT_PATH_RELATIVE', 'CT_MOUNT_OPTION'],
  );
});

test('limits out of range are refused', () => {
  const s = base();
  s.resources = { memory: { limit: 1024 }, pids: { limit: 0 }, cpu: { period: 10 }, devices: [] };
  assert.equal(codes(s), [
    ['CT_LIMIT_RANGE', 'app.ct.ts:9:15'],
    ['CT_LIMIT_RANGE', 'app.ct.ts:3:26'],
    ['CT_LIMIT_RANGE', 'app.ct.ts:3:26'],
  ]);
});

test('a user name is resolved in the /etc/passwd the source writes, or refused', () => {
  const s = base();
  s.rootfs = hostRootfs() as Spec['rootfs'];
  s.process.user = { uid: -1, gid: -1, additionalGids: [], name: 'nobody' };
  assert.equal(check(s, origins).process.user, { uid: 65534, gid: 65534, additionalGids: [], name: 'nobody' });
  s.process.user = { uid: -1, gid: -1, additionalGids: [], name: 'www' };
  assert.equal(
    codes(s).map(([c]) => c),
    ['CT_USER_UNKNOWN'],
  );
  // a prepared directory's own files are read when the container runs, not now
  const d = base();
  d.process.user = { uid: -1, gid: -1, additionalGids: [], name: 'nobody' };
  assert.equal(codes(d), []);
  assert.is(check(d, origins).process.user.name, 'nobody');
});

test('namespaces: duplicates, not-yet ones, and ones a setting needs', () => {
  const s = base();
  s.namespaces = ['mount', 'pid', 'pid', 'time'];
  s.hostname = 'web';
  // no ipc namespace: the mount shows the host's queues, as under runc
  s.mounts = [{ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: [] }];
  assert.equal(
    codes(s).map(([c]) => c),
    ['CT_NS_DUPLICATE', 'CT_NS_UNSUPPORTED', 'CT_NS_REQUIRED'],
  );
});

test('an empty command is refused', () => {
  const s = base();
  s.process.args = [];
  assert.equal(
    codes(s).map(([c]) => c),
    ['CT_PROCESS_ARGS'],
  );
});

test('ambient capabilities the kernel would not raise are left out of the plan, with a warning (runc accepts them)', () => {
  const s = base();
  const caps = ['CAP_KILL', 'CAP_CHOWN'];
  s.process.capabilities = {
    bounding: caps,
    effective: caps,
    permitted: caps,
    inheritable: ['CAP_CHOWN'],
    ambient: ['CAP_KILL', 'CAP_CHOWN'],
  };
  const { spec, warnings } = relax(s, new Map([['process.capabilities.ambient', 'config.json:30:7']]));
  assert.equal(spec.process.capabilities?.ambient, ['CAP_CHOWN']);
  assert.equal(
    warnings.map((w) => [w.code, w.source]),
    [['CT_CAP_AMBIENT', 'config.json:30:7']],
  );
  assert.match(warnings[0].message, /CAP_KILL left out/);
  assert.equal(codes(spec), []);
  assert.equal(relax(spec, origins).warnings, [], 'nothing to say about a consistent set');
});

test('messages quoting a source show its control characters, never send them to the terminal', () => {
  const text = formatError(new CtcError('CT_SHAPE', 'unknown key \u001b[2Jx\r', { hint: 'not \u0007 this' }));
  assert.is(text, 'error CT_SHAPE: unknown key \\x1b[2Jx\\x0d\n  hint: not \\x07 this');
});

test('a NUL in any string of the spec, keys too, is CT_NUL at its field', () => {
  const s = base();
  s.process.args = ['/bin/true', 'A\0B'];
  s.process.cwd = '/srv\0';
  s.mounts = [{ destination: '/data\0/x', type: 'tmpfs', source: 'tmpfs', options: [] }];
  s.hostname = 'web\0';
  s.annotations = { 'k\0': 'v', ok: 'v\0' };
  s.sysctl = { 'net.ipv4.ip_forward': '1\0' };
  s.hooks = { prestart: [{ path: '/bin/hook', args: ['hook', 'x\0'], env: [] }] };
  const errors = (() => {
    try {
      check(s, origins);
    } catch (e) {
      return (e instanceof CtcErrors ? e.errors : [e as CtcError]).filter((x) => x.code === 'CT_NUL');
    }
    return [];
  })();
  assert.equal(errors.map((e) => e.message.split(':')[0]).sort(), [
    'annotations.k\\u0000',
    'annotations.ok',
    'hooks.prestart[0].args[1]',
    'hostname',
    'mounts[0].destination',
    'process.args[1]',
    'process.cwd',
    'sysctl.net.ipv4.ip_forward',
  ]);
  assert.is(
    errors.find((e) => e.message.startsWith('mounts'))!.source,
    'app.ct.ts:6:5',
    "a field without an origin of its own has its mount's",
  );
  assert.match(errors[0].message, /"A\\u0000B" holds a NUL byte/);
});

test.run();
