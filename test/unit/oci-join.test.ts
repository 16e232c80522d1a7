// Namespaces joined by path (issue 19): the configs containerd's CRI plugin
// writes for a pod's app containers (test/fixtures/cri, as generated; their
// /proc/4242/ns/* paths stand for the sandbox's) build into visible ns.join
// steps in the order the kernel needs; what a source can be checked for is
// refused at its line; `ctc diff` notes a join.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { diffPlans } from '../../compiler/review/diff.ts';
import { riskNotes } from '../../compiler/review/risk.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { ociFromSpec } from '../../compiler/oci/emit.ts';
import { root, tempDir } from '../helpers.ts';
import { errorsOf, writeSource } from '../sources.ts';
import { effects } from '../../compiler/explain/effects.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

type Config = { linux: { namespaces: { type: string; path?: string }[] } } & Record<string, unknown>;
const cri = (name: string): Config => JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'cri', `${name}.config.json`), 'utf8'));

let n = 0;
function config(value: unknown): { file: string; text: string } {
  const dir = join(tmp.dir, `c${n++}`);
  mkdirSync(dir);
  const file = join(dir, 'config.json');
  const text = JSON.stringify(value, null, 2);
  writeFileSync(file, text);
  return { file, text };
}

/** `config.json:line:col` of the first character of needle (a member's origin is its key). */
function posOf(text: string, needle: string): string {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return `config.json:${before.length}:${before[before.length - 1].length + 1}`;
}

/** What `ctc explain` says a step does. */
const explained = (step: { kind: string; args: unknown }) =>
  (effects[step.kind as keyof typeof effects] as (args: unknown) => string)(step.args);

/** The plan's steps as `kind args` lines, the way `ctc plan` prints them. */
const lines = (plan: Parameters<typeof printPlan>[0]) =>
  printPlan(plan)
    .split('\n')
    .filter((l) => /^\d+ /.test(l));
const kinds = (plan: { steps: { kind: string }[] }) => plan.steps.map((s) => s.kind);

test("CRI's app container: ipc, uts and network joined by path, mount and pid made; the joins come before any mount", async () => {
  const { spec, plan } = await build(config(cri('container')).file);
  assert.equal(spec.joins, { ipc: '/proc/4242/ns/ipc', uts: '/proc/4242/ns/uts' });
  assert.is(spec.network.join, '/proc/4242/ns/net');
  assert.equal(plan.steps.find((s) => s.kind === 'ns.clone')?.args.ns, ['mount', 'pid']);
  const joins = plan.steps.filter((s) => s.kind === 'ns.join').map((s) => s.args);
  assert.equal(joins, [
    { ns: 'uts', path: '/proc/4242/ns/uts' },
    { ns: 'ipc', path: '/proc/4242/ns/ipc' },
    { ns: 'network', path: '/proc/4242/ns/net' },
  ]);
  const firstMount = kinds(plan).findIndex((k) => k.startsWith('mount.') && k !== 'mount.propagation');
  assert.ok(
    kinds(plan).lastIndexOf('ns.join') < firstMount,
    'joined before the mqueue (the ipc namespace its mount shows) and the rest are mounted',
  );
  assert.ok(
    lines(plan).some((l) => /^\d+ init ns\.join ns=ipc path=\/proc\/4242\/ns\/ipc  # config\.json:/.test(l)),
    'a visible, reviewable step',
  );
  assert.is(printPlan(parsePlan(printPlan(plan))), printPlan(plan));
});

test("CRI's app container sharing the pod's processes: the pid namespace is joined right after the clone, none is made", async () => {
  const { plan } = await build(config(cri('container-shared-pid')).file);
  const clone = plan.steps.findIndex((s) => s.kind === 'ns.clone');
  assert.equal(plan.steps[clone].args.ns, ['mount'], 'only the mount namespace is new');
  assert.equal(
    [plan.steps[clone + 1].kind, plan.steps[clone + 1].args],
    ['ns.join', { ns: 'pid', path: '/proc/4242/ns/pid' }],
    "the monitor's join, before the init is cloned",
  );
  assert.equal(
    plan.steps.filter((s) => s.kind === 'ns.join').map((s) => s.args.ns),
    ['pid', 'uts', 'ipc', 'network'],
  );
  assert.match(
    explained(plan.steps[clone + 1]),
    /^has ctc-init enter the existing pid namespace \/proc\/4242\/ns\/pid before it clones the init, so the init is born there/,
    'ctc explain says when it happens',
  );
});

test('a cgroup namespace joined by path is entered after the init is in its cgroup, instead of unshared', async () => {
  const c = cri('container');
  c.linux.namespaces.push({ type: 'cgroup', path: '/proc/4242/ns/cgroup' });
  const { plan } = await build(config(c).file);
  assert.ok(!kinds(plan).includes('ns.unshare'), 'no cgroup namespace made');
  const at = plan.steps.findIndex((s) => s.kind === 'ns.join' && s.args.ns === 'cgroup');
  assert.ok(at > kinds(plan).indexOf('cgroup.join'), 'after cgroup.join');
});

test('the OCI config ctc writes for a plan keeps the paths (ctc spec, bundles)', async () => {
  const { spec } = await build(config(cri('container-shared-pid')).file);
  const out = ociFromSpec(spec, { id: 'x', rootPath: '/r' }) as unknown as Config;
  assert.equal(out.linux.namespaces, cri('container-shared-pid').linux.namespaces);
});

test('a mount namespace cannot be joined: refused at the path, by name', async () => {
  const c = cri('container');
  c.linux.namespaces = c.linux.namespaces.map((x) => (x.type === 'mount' ? { type: 'mount', path: '/proc/4242/ns/mnt' } : x));
  const { file, text } = config(c);
  const errors = await errorsOf(file);
  const why =
    "ctc builds the container's root in a mount namespace of its own: pivot_root in a shared one would move the root of every process in it";
  assert.equal(
    errors.map((e) => [e.code, e.source, e.message]),
    [
      [
        'CT_OCI_UNSUPPORTED',
        posOf(text, '"path": "/proc/4242/ns/mnt"'),
        `linux.namespaces[3].path: cannot join an existing mount namespace: ${why}`,
      ],
    ],
  );
});

test("a user namespace joined by path: the monitor's join right after the clone, before the pid namespace's; no maps written, the init still becomes its root", async () => {
  const c = cri('container-shared-pid');
  c.linux.namespaces.push({ type: 'user', path: '/proc/4242/ns/user' });
  // containerd passes the sandbox's maps with the path: they describe the joined namespace
  const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
  Object.assign(c.linux, { uidMappings: maps, gidMappings: maps });
  const { plan } = await build(config(c).file);
  const clone = plan.steps.findIndex((s) => s.kind === 'ns.clone');
  assert.equal(plan.steps[clone].args.ns, ['mount'], 'no user namespace is made');
  assert.equal(
    plan.steps.slice(clone + 1, clone + 3).map((s) => [s.kind, s.args.ns]),
    [
      ['ns.join', 'user'],
      ['ns.join', 'pid'],
    ],
  );
  assert.ok(!kinds(plan).includes('user.map'), 'the joined namespace has its maps');
  assert.ok(kinds(plan).includes('user.root'), 'the init becomes root of the joined namespace');
  assert.match(explained(plan.steps[clone + 1]), /user namespace/);
  // a process user the given maps do not map is refused at build, as for a namespace of its own
  (c.process as { user: { uid: number } }).user.uid = 70000;
  assert.equal(
    (await errorsOf(config(c).file)).map((e) => e.code),
    ['CT_USERNS_UNMAPPED'],
  );
});

test('a time namespace can be joined (ctc-init enters it before the root is built), not made', async () => {
  const c = cri('container');
  c.linux.namespaces.push({ type: 'time', path: '/proc/4242/ns/time_for_children' });
  const { plan } = await build(config(c).file);
  assert.equal(
    plan.steps.filter((s) => s.kind === 'ns.join').map((s) => s.args.ns),
    ['uts', 'ipc', 'time', 'network'],
  );
  c.linux.namespaces.pop();
  c.linux.namespaces.push({ type: 'time' });
  assert.equal(
    (await errorsOf(config(c).file)).map((e) => [e.code, e.message]),
    [['CT_NS_UNSUPPORTED', 'time namespaces are not supported yet']],
  );
});

test('a namespace both made and joined is CT_NS_DUPLICATE; a path to another kind of namespace or a relative one is refused at its line', async () => {
  const twice = cri('container-shared-pid');
  twice.linux.namespaces.push({ type: 'pid' });
  const dup = await errorsOf(config(twice).file);
  assert.equal(
    dup.map((e) => [e.code, e.message]),
    [['CT_NS_DUPLICATE', "namespace 'pid' is listed twice"]],
  );

  const wrong = cri('container');
  wrong.linux.namespaces[1] = { type: 'ipc', path: '/proc/4242/ns/net' };
  wrong.linux.namespaces[2] = { type: 'uts', path: 'proc/4242/ns/uts' };
  const { file, text } = config(wrong);
  assert.equal(
    (await errorsOf(file)).map((e) => [e.code, e.source, e.message, e.hint]),
    [
      [
        'CT_NS_JOIN',
        posOf(text, '"path": "/proc/4242/ns/net"'),
        "/proc/4242/ns/net is a process's net namespace, not its ipc namespace",
        'join /proc/PID/ns/ipc',
      ],
      [
        'CT_PATH_RELATIVE',
        posOf(text, '"path": "proc/4242/ns/uts"'),
        "the uts namespace to join, 'proc/4242/ns/uts', must be an absolute path",
        undefined,
      ],
    ],
  );
});

test("ctc diff: joining the pod sandbox's pid namespace is a risk note naming what is shared, at the path in the config", async () => {
  const before = await build(config(cri('container')).file);
  const c = cri('container-shared-pid');
  const { file, text } = config(c);
  const after = await build(file);
  const notes = riskNotes(diffPlans(before.plan, after.plan), before.plan, after.plan).filter((r) => r.code === 'RISK_NETNS_JOINED');
  assert.equal(
    notes.map((r) => [r.message, r.source]),
    [
      [
        "joins the pid namespace /proc/4242/ns/pid (the host's or another container's): it shares its processes, which the container sees and, as root, can signal and trace",
        posOf(text, '"path": "/proc/4242/ns/pid"'),
      ],
    ],
  );
});

const ctTs = (joins: string) => `import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  rootfs: hostRootfs(),
  mounts: defaultMounts,
  joins: ${joins},
  process: { args: ['/bin/true'] },
});
`;

test('.ct.ts and .ct: joins enters namespaces by path, each step at the line of its path; a path to another kind is CT_NS_JOIN', async () => {
  const dir = join(tmp.dir, 'typed');
  const ts = await build(writeSource(dir, 'app.ct.ts', ctTs("{ pid: '/proc/4242/ns/pid', ipc: '/proc/4242/ns/ipc' }")));
  const joins = ts.plan.steps.filter((s) => s.kind === 'ns.join').map((s) => [s.args.ns, s.args.path, s.source]);
  assert.equal(joins, [
    ['pid', '/proc/4242/ns/pid', 'app.ct.ts:6:12'],
    ['ipc', '/proc/4242/ns/ipc', 'app.ct.ts:6:38'],
  ]);
  assert.ok(!(ts.plan.steps.find((s) => s.kind === 'ns.clone')!.args.ns as string[]).includes('pid'), 'no pid namespace is made');
  const ct = await build(
    writeSource(
      dir,
      'app.ct',
      'container {\n  rootfs use preset.hostRootfs\n  joins {\n    uts /proc/4242/ns/uts\n  }\n  process {\n    args /bin/true\n  }\n}\n',
    ),
  );
  assert.equal(
    ct.plan.steps.filter((s) => s.kind === 'ns.join').map((s) => [s.args.ns, s.args.path]),
    [['uts', '/proc/4242/ns/uts']],
  );
  const wrong = await errorsOf(writeSource(dir, 'wrong.ct.ts', ctTs("{ ipc: '/proc/4242/ns/uts' }")));
  assert.equal(
    wrong.map((e) => [e.code, e.message]),
    [['CT_NS_JOIN', "/proc/4242/ns/uts is a process's uts namespace, not its ipc namespace"]],
  );
  const user = await errorsOf(
    writeSource(dir, 'user.ct.ts', ctTs("{ user: '/proc/4242/ns/net' }").replace('joins:', "namespaces: ['mount', 'user'],\n  joins:")),
  );
  assert.equal(
    user.map((e) => [e.code, e.message]),
    [['CT_NS_JOIN', "/proc/4242/ns/net is a process's net namespace, not its user namespace"]],
  );
});

test.run();
