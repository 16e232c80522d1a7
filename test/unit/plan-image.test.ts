// The run image the launcher builds in C from a plan's text on its first run
// (native/launcher/plan-image.h) against executor/native-bridge/run-image.ts encodeImage, the
// image Node writes after a run: the same bytes for the same plan, id
// markers, state dir and this host's cgroup driver. And the plans C refuses
// (then the launcher hands the run to Node): those it cannot build, those
// the executor's checks refuse.
//
// The C side is test/native/plan-image-dump.c, compiled here from the
// launcher's sources without main.c.

import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { compileDeviceFilter } from '../../executor/host/cgroups/device-filter.ts';
import { detectCgroups } from '../../executor/host/cgroups/index.ts';
import { CgroupV2 } from '../../executor/host/cgroups/v2.ts';
import { encodeImage } from '../../executor/native-bridge/run-image.ts';
import { parsePlan, printPlan } from '../../plan/text.ts';
import { validatePlanSteps } from '../../plan/validate.ts';
import { checkAfterExec } from '../../executor/run/host-limits.ts';
import { type ArgValue, type KindSpec, type Plan, type Step, type StepKind, actorOf, stepKinds } from '../../plan/steps.ts';
import { root, tempDir } from '../helpers.ts';
import { resign } from '../resign.ts';

const tmp = tempDir('ctc-plan-image-');
const dump = join(tmp.dir, 'plan-image-dump');

const sanitized = join(tmp.dir, 'plan-image-dump-asan');

function compileDriver(): void {
  const cFiles = (...dir: string[]) =>
    readdirSync(join(root, ...dir))
      .filter((f) => f.endsWith('.c'))
      .map((f) => join(root, ...dir, f));
  const launcher = cFiles('native', 'launcher').filter((f) => !f.endsWith('/main.c'));
  const sources = [
    join(root, 'test', 'native', 'plan-image-dump.c'),
    ...launcher,
    join(root, 'native', 'init', 'device-filter.c'),
    ...cFiles('native'),
    ...cFiles('native', 'common'),
  ];
  const cc = (out: string, ...flags: string[]) =>
    execFileSync(
      process.env.CC || 'cc',
      ['-O1', '-Wall', '-Wextra', '-Werror', '-std=gnu11', ...flags, '-I', join(root, 'dist', 'gen'), '-o', out, ...sources, '-lnettle'],
      { stdio: 'inherit' },
    );
  cc(dump);
  cc(sanitized, '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined');
}

/** The sanitized driver on a plan: whatever it answers, no memory error, undefined behaviour or leak. */
function sanitizedRun(text: string, args: string[] = []): void {
  const file = join(tmp.dir, 'asan.plan');
  writeFileSync(file, text);
  const r = spawnSync(sanitized, [...args, file], { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' }, maxBuffer: 1 << 26 });
  assert.ok([0, 3].includes(r.status!), `the sanitized driver: ${r.stderr}`);
  assert.not.match(r.stderr.toString(), /Sanitizer|runtime error/);
}

/** The C image of a plan text (for this host, or a pure v2 one), or why there is none. */
function cImage(text: string, v2 = false): { image?: Buffer; why?: string } {
  const file = join(tmp.dir, 'plan.plan');
  writeFileSync(file, text);
  const r = spawnSync(dump, [...(v2 ? ['--v2'] : []), file], { maxBuffer: 1 << 26 });
  if (r.status === 0) return { image: r.stdout };
  assert.is(r.status, 3, `plan-image-dump failed: ${r.stderr}`);
  return { why: r.stderr.toString().trim() };
}

/** plan_read + plan_check alone: undefined, or why C refuses the plan. */
function cCheck(text: string): string | undefined {
  const file = join(tmp.dir, 'check.plan');
  writeFileSync(file, text);
  const r = spawnSync(dump, ['--check', file]);
  return r.status === 0 ? undefined : r.stderr.toString().trim() || `exit ${r.status}`;
}

const driver = detectCgroups();
/** a pure v2 host's driver: its writes and mounts need no v2 tree here (memory.swap, which reads one, is not compared) */
const v2Driver = new CgroupV2('/sys/fs/cgroup');
const tsImage = (text: string, v2 = false) =>
  encodeImage({
    plan: parsePlan(text),
    planText: text,
    source: { kind: 'plan', bytes: Buffer.from(text) },
    id: 'c1',
    stateDir: '/run/ctc/c1',
    driver: v2 ? v2Driver : driver,
  });

/** Both images of a plan; C's must exist and be TS's, byte for byte. */
function same(text: string, what: string, v2 = false): void {
  const ts = tsImage(text, v2);
  assert.ok(ts, `${what}: encodeImage gives an image`);
  const c = cImage(text, v2);
  assert.ok(c.image, `${what}: C builds an image (${c.why})`);
  if (!c.image!.equals(ts!)) {
    const at = [...c.image!].findIndex((b, i) => b !== ts![i]);
    assert.unreachable(`${what}: C's image differs from encodeImage's at byte ${at} (C ${c.image!.length} bytes, TS ${ts!.length})`);
  }
}

const renumber = (steps: Step[]): Step[] => steps.map((s, i) => ({ ...s, n: i + 1 }));
const withSteps = (plan: Plan, steps: Step[]): string => printPlan({ ...plan, steps: renumber(steps) });
/** A plan without its seccomp step: the rest compared on its own. */
const withoutSeccomp = (text: string) => {
  const plan = parsePlan(text);
  return withSteps(
    plan,
    plan.steps.filter((s) => s.kind !== 'proc.seccomp'),
  );
};

const goldens = readdirSync(join(root, 'test', 'golden')).filter((f) => f.endsWith('.plan'));
const unsupported = new Set(['bridge.plan', 'rootless.plan']); // network and user namespace host steps: Node's

test('setup: the driver compiles from the launcher sources', compileDriver);

for (const name of goldens) {
  const text = readFileSync(join(root, 'test', 'golden', name), 'utf8');
  if (unsupported.has(name)) {
    test(`golden ${name}: C builds no image (its host steps are Node's)`, () => {
      assert.ok(cImage(text).why);
    });
    continue;
  }
  test(`golden ${name}: C's image is encodeImage's (without its seccomp step)`, () => same(withoutSeccomp(text), name));
  test(`golden ${name}: C's image is encodeImage's, seccomp included, on this host and a pure v2 one`, () => {
    same(text, name);
    same(text, `${name} (v2)`, true);
  });
}

for (const example of ['hello', 'limits', 'dir']) {
  test(`examples/${example}.ct.ts built: C's image is encodeImage's`, async () => {
    const { text } = await build(join(root, 'examples', `${example}.ct.ts`));
    same(withoutSeccomp(text), example);
    same(text, example);
    same(text, `${example} (v2)`, true);
  });
}

for (const fixture of ['busybox', 'containerd']) {
  test(`OCI fixture ${fixture}: C's image is encodeImage's, or neither has one`, async () => {
    const { text } = await build(join(root, 'test', 'fixtures', 'oci', fixture, 'config.json'));
    const plan = parsePlan(text);
    const nodeOnly = plan.steps.some((s) =>
      ['net.bridge', 'net.veth', 'user.map', 'hook.run', 'image.unpack', 'state.file', 'mount.idmap', 'net.publish', 'net.ipam'].includes(
        s.kind,
      ),
    );
    if (nodeOnly) return assert.ok(cImage(text).why, 'a plan with host steps only Node runs has no C image');
    same(withoutSeccomp(text), fixture);
    same(text, fixture);
  });
}

/** A plan from hello's, with steps replaced: more kinds and arguments than the examples use. */
function variant(edit: (steps: Step[]) => Step[]): string {
  const plan = parsePlan(readFileSync(join(root, 'test', 'golden', 'hello.plan'), 'utf8'));
  return withSteps(plan, edit(plan.steps.filter((s) => s.kind !== 'proc.seccomp')));
}
const step = (kind: Step['kind'], args: Step['args']): Step => ({ n: 0, kind, args });
const before = (steps: Step[], kind: string, added: Step[]) => {
  const i = steps.findIndex((s) => s.kind === kind);
  return [...steps.slice(0, i), ...added, ...steps.slice(i)];
};

function moreKinds(v1: boolean): string {
  const limits = [
    ['memory.limit', '67108864'],
    ['memory.reservation', '-1'],
    ['pids.limit', '-1'],
    ['cpu.shares', '1024'],
    ['cpu.max', 'max 100000'],
    ['cpuset.cpus', '0'],
    ...(v1
      ? [['memory.swappiness', '10']]
      : [
          ['blkio.weight', '500'],
          ['blkio.weight-device', '8:0 300'],
          ['blkio.read-bps', '8:0 1048576'],
          ['hugetlb.limit', '2MB 4194304'],
          ['cpu.idle', '1'],
          ['unified', 'memory.high 1000000'],
        ]),
  ];
  const text = variant((steps) => {
    let out = before(steps, 'ns.clone', [
      ...limits.map(([key, value]) => step('cgroup.limit', { path: '/ctc/{id}', key, value })),
      step('cgroup.devices', { path: 'x/{id}', rules: ['allow a *:* rwm', 'deny c 1:3 r', 'deny b *:7 w'] }),
    ]);
    out = before(out, 'cgroup.join', [step('proc.oom-score', { value: -500 })]);
    out = before(out, 'rootfs.pivot', [
      step('mount.bind', { src: '{state}', dst: '/mnt', flags: ['rbind', 'ro', 'rslave'] }),
      step('mount.cgroup', { dst: '/sys/fs/cgroup/own', flags: ['ro', 'nosuid'], path: '{id}' }),
    ]);
    out = before(out, 'proc.exec', [
      step('proc.rlimit', { type: 'RLIMIT_NOFILE', soft: '512', hard: '1024' }),
      step('proc.pdeathsig', { signal: 'SIGKILL' }),
      step('proc.sysctl', { key: 'net.ipv4.ip_forward', value: '1' }),
      step('uts.domainname', { name: 'example.org' }),
      step('rootfs.readonly', {}),
    ]);
    return out;
  });
  return text;
}

test('more kinds: binds, limits, the process steps, a joined namespace, an own cgroup bound in', () => {
  same(moreKinds(driver.layout === 'v1'), 'variant');
  same(moreKinds(false), 'variant (v2)', true);
});

test('a user by name and groups, a bound root, a joined namespace', () => {
  const text = variant((steps) => {
    const out = steps.map((s) => (s.kind === 'proc.user' ? step('proc.user', { name: 'nobody', keepcaps: 0 }) : s));
    const clone = out.findIndex((s) => s.kind === 'ns.clone');
    out.splice(clone + 2, 0, step('ns.join', { ns: 'uts', path: '/proc/1/ns/uts' }));
    return out.map((s) => (s.kind === 'rootfs.tmpfs' ? step('rootfs.bind', { dir: '/srv/root' }) : s));
  });
  // proc.caps' after-exec= was root's: the user is another one now
  assert.ok(cCheck(text), 'C refuses an after-exec= the steps no longer give');
  const fixed = variant((steps) =>
    steps
      .filter((s) => s.kind !== 'proc.caps')
      .map((s) => (s.kind === 'proc.user' ? step('proc.user', { uid: 1000, gid: 1000, groups: [5, 100] }) : s)),
  );
  same(fixed, 'user');
});

// The executor's checks (plan/validate.ts, host-limits.ts checkAfterExec) and the reader's refusals.
const hello = readFileSync(join(root, 'test', 'golden', 'hello.plan'), 'utf8');
const refusals: [string, string][] = [
  ['an edited plan (its digest no longer matches)', hello.replace('uts.hostname name=hello', 'uts.hostname name=other')],
  ['CRLF line ends', hello.replaceAll('\n', '\r\n')],
  ['a climbing mount', variant((s) => before(s, 'rootfs.pivot', [step('mount.bind', { src: '/etc/../root', dst: '/x' })]))],
  [
    'a cgroup path out of its parent',
    variant((s) => s.map((x) => (x.kind === 'cgroup.join' ? step('cgroup.join', { path: '../../x' }) : x))),
  ],
  [
    'a state dir other than {state}',
    variant((s) => s.map((x) => (x.kind === 'state.create' ? step('state.create', { dir: '/tmp/x' }) : x))),
  ],
  [
    'a pid namespace joined after other init steps',
    variant((s) => before(s, 'fs.mask', [step('ns.join', { ns: 'pid', path: '/proc/1/ns/pid' })])),
  ],
  [
    'an after-exec= its steps do not give',
    variant((s) =>
      s.map((x) =>
        x.kind === 'proc.caps' ? { ...x, args: { ...x.args, 'after-exec': 'CapInh:-/CapPrm:-/CapEff:-/CapBnd:-/CapAmb:-' } } : x,
      ),
    ),
  ],
];
for (const [what, text] of refusals) {
  test(`C refuses ${what}, as the executor does`, () => {
    assert.ok(cCheck(text), 'plan_read or plan_check refuses it');
    assert.ok(cImage(text).why, 'no image');
  });
}

test("annotations: C's state record is encodeImage's (the plan's order, a repeated key kept), and both refuse an index-like key", () => {
  const annotated = (annotations: string[]) =>
    variant((s) => s.map((x) => (x.kind === 'state.create' ? step('state.create', { dir: '{state}', annotations }) : x)));
  same(annotated(['io.kubernetes.cri.container-type=container', 'b=x"y\\z', 'a=1=2', 'b=again', 'e=é']), 'annotations');
  const indexLike = annotated(['a=1', '42=x']);
  assert.is(tsImage(indexLike), undefined, 'JS would put "42" first in state.json');
  assert.ok(cImage(indexLike).why);
  // a stranger's plan (digest made again) with an annotation that is no key=value: neither builds an image
  const bare = annotated(['a=1', 'no-equals-sign']);
  assert.is(tsImage(bare), undefined);
  assert.ok(cImage(bare).why);
});

test('C refuses what it does not build: hooks, a terminal, an LSM label, an unknown capability', () => {
  const cases = [
    variant((s) => before(s, 'proc.exec', [step('proc.tty', {})])),
    variant((s) => before(s, 'proc.exec', [step('proc.apparmor', { profile: 'x' })])),
    variant((s) => before(s, 'ns.clone', [step('hook.run', { when: 'prestart', path: '/bin/true', args: [] })])),
    variant((s) => s.map((x) => (x.kind === 'proc.bounding' ? step('proc.bounding', { caps: ['CAP_NOPE'] }) : x))),
  ];
  for (const text of cases) assert.ok(cImage(text).why);
});

/** What the executor makes of a plan text: its image, or undefined where it refuses the plan or makes none. */
function tsOutcome(text: string): Buffer | undefined {
  try {
    const plan = parsePlan(text);
    validatePlanSteps(plan.steps);
    checkAfterExec(plan.steps);
    return tsImage(text);
  } catch {
    return undefined;
  }
}

// Mangled plans, their digests made again: C reads no plan the executor refuses, and where both
// make an image it is the same, so C never reads a value otherwise than plan/text.ts.
test('mangled step lines: what C reads, TypeScript reads the same way', () => {
  const base = readFileSync(join(root, 'test', 'golden', 'limits.plan'), 'utf8');
  const body = base.indexOf('\n\n') + 2;
  const pieces = [
    '"',
    '[',
    ']',
    '=',
    ' ',
    '#',
    '\\',
    ',',
    '-',
    '0',
    '9',
    '{id}',
    '\u2028',
    'é',
    '\\u0041',
    '"a b"',
    ' x=y',
    '\t',
    '.',
    '/..',
  ];
  let seed = 21;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  let bothRead = 0;
  for (let k = 0; k < 300; k++) {
    let text = base;
    for (let e = 0, edits = 1 + random(3); e < edits; e++) {
      const at = body + random(text.length - body - 1);
      const cut = random(3);
      text = text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at + cut);
    }
    text = resign(text);
    const ts = tsOutcome(text);
    const c = cImage(text);
    if (k % 10 === 0) sanitizedRun(text);
    if (c.image) {
      assert.ok(ts, `C built an image of a plan the executor refuses or makes none of:\n${text.slice(body)}`);
      assert.ok(c.image.equals(ts!), `C and TypeScript read this plan otherwise:\n${text.slice(body)}`);
      bothRead++;
    }
  }
  assert.ok(bothRead > 20, `some mangled plans still read (${bothRead})`);
});

test('under ASan and UBSan: every golden plan read, checked and built, on this host and a pure v2 one', () => {
  for (const name of goldens) {
    const text = readFileSync(join(root, 'test', 'golden', name), 'utf8');
    for (const args of [[], ['--v2'], ['--check']]) sanitizedRun(text, args);
  }
});

// cgroup v2's device filter is made on a v2 host only: its compiler is compared here on any host.
test("the v2 device filter: device-rules.c's program is compileDeviceFilter's", () => {
  const lists = [
    ['deny a *:* rwm', 'allow c 1:3 rwm', 'allow c 1:5 rwm', 'allow c 136:* rwm', 'allow b 8:0 r'],
    ['allow a *:* rwm', 'deny c 1:3 r', 'deny b *:7 w', 'deny c 10:200 m'],
    [],
    ['allow c 5:1 rw', 'deny a *:* m', 'allow c 0:0 w', 'allow b 2147483647:* rwm'],
  ];
  for (const rules of lists) {
    const r = spawnSync(dump, ['--device-filter', ...rules]);
    assert.is(r.status, 0, rules.join('; '));
    assert.ok(r.stdout.equals(compileDeviceFilter(rules)), `the same program for ${rules.join('; ')}`);
  }
  for (const bad of ['allow x 1:3 rwm', 'allow c 1:3', 'permit c 1:3 r', 'allow c 1:3 rwx', 'allow c 2147483648:0 r']) {
    assert.is(spawnSync(dump, ['--device-filter', bad]).status, 3, `refused: ${bad}`);
  }
});

// Every host kind but those image.h has records for: encodeImage gives no image, and C builds none (Node runs them).
const imageHostKinds = ['state.create', 'cgroup.create', 'cgroup.limit', 'cgroup.devices', 'ns.clone', 'cgroup.join', 'proc.oom-score'];
const dummy: Record<string, ArgValue> = { str: 'x', int: 1, mode: 0o644, names: ['x'], strs: ['x'], ints: [1] };
const withDummyArgs = (kind: StepKind): Step => ({
  n: 0,
  kind,
  args: Object.fromEntries((stepKinds[kind] as KindSpec).args.filter((a) => !a.optional).map((a) => [a.name, dummy[a.type]])),
});
for (const kind of Object.keys(stepKinds) as StepKind[]) {
  if (actorOf(kind) !== 'host' || imageHostKinds.includes(kind)) continue;
  test(`host step ${kind}: neither encodeImage nor C makes an image`, () => {
    const text = variant((steps) => before(steps, 'ns.clone', [withDummyArgs(kind)]));
    assert.is(tsImage(text), undefined);
    assert.ok(cImage(text).why);
  });
}
// Init kinds C leaves to Node although encodeImage encodes them: their plans hold host steps Node runs (net.*) or need the LSM check.
for (const kind of ['net.addr', 'net.route', 'proc.apparmor', 'proc.selinux'] as StepKind[]) {
  test(`init step ${kind}: C makes no image (Node runs it)`, () => {
    const args: Record<string, Step['args']> = {
      'net.addr': { dev: 'eth0', addr: '10.0.0.2/24' },
      'net.route': { dst: 'default', gw: '10.0.0.1' },
      'proc.apparmor': { profile: 'x' },
      'proc.selinux': { label: 'x' },
    };
    assert.ok(cImage(variant((steps) => before(steps, 'proc.exec', [step(kind, args[kind])]))).why);
  });
}

test('teardown', () => tmp.remove());

test.run();
