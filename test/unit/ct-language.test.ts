// The .ct language: each example's .ct twin builds to the same steps as its
// .ct.ts; mistakes are all reported, each at its position, with a hint; the
// schema is the stdlib's types; a .ct build never loads TypeScript.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { formatCt } from '../../compiler/frontend/dsl/format.ts';
import { grammarHtml } from '../../compiler/frontend/dsl/parser.ts';
import { sizeUnitForms } from '../../stdlib/units.ts';
import { busyboxImage } from '../busybox-image.ts';
import { ctc, example, root, tempDir } from '../helpers.ts';
import { errorsOf, writeSource } from '../sources.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const source = (name: string, text: string) => writeSource(tmp.dir, name, text);

const steps = async (file: string) => (await build(file)).plan.steps.map((s) => ({ kind: s.kind, args: s.args }));

// image.ct's build reads ./busybox.tar (its digest goes into the plan): the image twins are
// copied into the test's folder with an archive made there (the checkout is not the test's to write)
const imageDir = join(tmp.dir, 'image-example');
test.before(() => {
  mkdirSync(imageDir);
  for (const f of ['image.ct', 'image.ct.ts']) copyFileSync(example(f), join(imageDir, f));
  busyboxImage(join(imageDir, 'busybox.tar'));
});

for (const name of ['hello', 'limits', 'bridge', 'rootless', 'dir', 'image']) {
  test(`examples/${name}.ct builds to the same steps as examples/${name}.ct.ts`, async () => {
    assert.ok(existsSync(example(`${name}.ct`)), 'every example has a .ct twin');
    const at = (f: string) => (name === 'image' ? join(imageDir, f) : example(f));
    assert.equal(await steps(at(`${name}.ct`)), await steps(at(`${name}.ct.ts`)));
  });
}

test('every step of a .ct build names its line in the .ct file', async () => {
  const { plan } = await build(example('limits.ct'));
  assert.ok(plan.steps.every((s) => /^limits\.ct:\d+:\d+$/.test(s.source ?? '')));
  const limit = plan.steps.find((s) => s.kind === 'cgroup.limit' && s.args.key === 'memory.limit');
  assert.is(limit?.source, 'limits.ct:8:12', 'the key limit, in memory.limit');
});

test('three separate mistakes are three errors, in one run, each at its position with a hint', async () => {
  const file = source(
    'three.ct',
    [
      'container {',
      '  hostnme web',
      '  rootfs use preset.hostRootfs',
      '  namespaces mount pdi uts',
      '  process {',
      '    args /bin/true',
      '    capabilities { use preset.defaultCapabilities; drop CAP_NET_RWA }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source, e.hint]),
    [
      ['CT_UNKNOWN_KEY', 'three.ct:2:3', "did you mean 'hostname'?"],
      ['CT_UNKNOWN_NAME', 'three.ct:4:20', "did you mean 'pid'?"],
      ['CT_UNKNOWN_NAME', 'three.ct:7:57', "did you mean 'CAP_NET_RAW'?"],
    ],
  );
});

test('syntax errors are recovered from: a lexing, a parsing and a checking error in one run', async () => {
  const file = source(
    'syntax.ct',
    [
      'contianer {',
      '}',
      'container {',
      '  hostname "web',
      '  rootfs use preset.hostRootfs',
      '  process { args /bin/true',
      '  }',
      '  mounts { use preset.defaultMonts }',
      '}',
      '',
    ].join('\n'),
  );
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source]),
    [
      ['CT_SYNTAX', 'syntax.ct:1:1'],
      ['CT_SYNTAX', 'syntax.ct:4:12'],
      ['CT_UNKNOWN_NAME', 'syntax.ct:8:16'],
    ],
  );
  assert.is(errors[0].hint, "did you mean 'container'?");
  assert.is(errors[2].hint, "did you mean 'preset.defaultMounts'?");
});

test('values are checked against the shape: numbers, sizes, missing keys, blocks', async () => {
  const file = source(
    'values.ct',
    [
      'container {',
      '  rootfs use preset.hostRootfs',
      '  process {',
      '    args /bin/true',
      '    user { uid 1000 }',
      '    umask 0o77x',
      '  }',
      '  resources { memory.limit 64Mb }',
      '}',
      '',
    ].join('\n'),
  );
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source, e.message]),
    [
      ['CT_SHAPE', 'values.ct:5:10', "process.user: 'gid' is missing"],
      ['CT_SHAPE', 'values.ct:6:11', "process.umask: expected a whole number, found '0o77x'"],
      [
        'CT_SHAPE',
        'values.ct:8:28',
        `resources.memory.limit: expected a whole number or a size with a unit: ${sizeUnitForms}, found '64Mb'`,
      ],
    ],
  );
});

test('presets are used, extended and trimmed; object lists take labels', async () => {
  const file = source(
    'presets.ct',
    [
      'container {',
      '  rootfs {',
      '    use preset.hostRootfs',
      '    files { "/etc/motd" "hi\\n" }',
      '  }',
      '  mounts {',
      '    use preset.defaultMounts',
      '    drop /dev/mqueue',
      '    /data { type bind; source /srv/data; options rbind ro }',
      '  }',
      '  maskedPaths { use preset.maskedPaths.default; /proc/extra }',
      '  process {',
      '    args /bin/true',
      '    user nobody',
      '    capabilities { use preset.defaultCapabilities; drop CAP_NET_RAW; CAP_SYS_NICE }',
      '    rlimits { RLIMIT_NOFILE { soft 1024; hard unlimited } }',
      '    seccomp unconfined',
      '  }',
      '  sysctl { "net.ipv4.ip_forward" "1" }',
      '  resources { pids limit 32; memory { limit 1Gi; swappiness 10 } }',
      '}',
      '',
    ].join('\n'),
  );
  const { spec } = await build(file);
  assert.is(spec.rootfs.kind === 'host' && spec.rootfs.files['/etc/motd'], 'hi\n');
  assert.ok(spec.rootfs.kind === 'host' && spec.rootfs.files['/etc/passwd'], "the preset's files are kept");
  assert.equal(
    spec.mounts.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/dev/shm', '/sys', '/sys/fs/cgroup', '/data'],
  );
  assert.equal(spec.mounts[6], { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] });
  assert.is(spec.maskedPaths.at(-1), '/proc/extra');
  assert.is(spec.process.user.name, 'nobody');
  assert.ok(!spec.process.capabilities!.bounding.includes('CAP_NET_RAW'));
  assert.ok(spec.process.capabilities!.bounding.includes('CAP_SYS_NICE'));
  assert.equal(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: -1 }]);
  assert.is(spec.process.seccomp, undefined);
  assert.equal(spec.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.equal(spec.resources.pids, { limit: 32 });
  assert.equal(spec.resources.memory, { limit: 2 ** 30, swappiness: 10 });
});

test('an imported .ct file is a base to extend; its values keep their own positions', async () => {
  source(
    'lib/base.ct',
    ['container {', '  rootfs use preset.hostRootfs', '  hostname base', '  process { args /bin/true; env A=1 }', '}', ''].join('\n'),
  );
  const file = source(
    'app.ct',
    [
      'import "./lib/base.ct" as base',
      'container {',
      '  use base',
      '  hostname app',
      '  process { env { use base.process.env; B=2 } }',
      '}',
      '',
    ].join('\n'),
  );
  const { spec, plan } = await build(file);
  assert.is(spec.hostname, 'app');
  assert.equal(spec.process.args, ['/bin/true']);
  assert.equal(spec.process.env, ['A=1', 'B=2']);
  const exec = plan.steps.find((s) => s.kind === 'proc.exec');
  assert.match(exec!.source ?? '', /^(lib\/base|app)\.ct:\d+:\d+$/);
  assert.is(plan.steps.find((s) => s.kind === 'uts.hostname')?.source, 'app.ct:4:3');
  assert.equal(
    plan.sources.map((s) => s.path),
    ['app.ct', 'lib/base.ct'],
  );
});

test('import mistakes: a cycle and an unknown name', async () => {
  source('a.ct', ['import "./b.ct"', 'container { use b }', ''].join('\n'));
  source('b.ct', ['import "./a.ct"', 'container { hostname b }', ''].join('\n'));
  const errors = await errorsOf(join(tmp.dir, 'a.ct'));
  assert.ok(errors.some((e) => e.code === 'CT_IMPORT' && e.source === 'b.ct:1:8' && /a\.ct → b\.ct → a\.ct/.test(e.message)));
  const other = source(
    'c.ct',
    ['import "./b.ct"', 'container { use bb; rootfs use preset.hostRootfs; process.args /bin/true }', ''].join('\n'),
  );
  const [e] = await errorsOf(other);
  assert.is(e.code, 'CT_UNKNOWN_NAME');
  assert.is(e.hint, "did you mean 'b'?");
});

test('the .ct schema is what stdlib/types.ts declares (scripts/gen-ct-schema.mjs --check)', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-ct-schema.mjs'), '--check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('ctc build of a .ct file never loads TypeScript', () => {
  const trace = join(tmp.dir, 'trace');
  const hooks = source(
    'hooks.mjs',
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(trace)}, r.url + '\\n'); return r; }\n`,
  );
  const register = source('register.mjs', `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
  writeFileSync(trace, '');
  const r = ctc(['build', example('hello.ct'), '-o', join(tmp.dir, 'hello.plan')], { env: { NODE_OPTIONS: `--import ${register}` } });
  assert.is(r.status, 0, r.stderr);
  const loaded = readFileSync(trace, 'utf8');
  assert.match(loaded, /dist\/chunks\/frontend-/);
  assert.not.match(loaded, /typescript/);
});

test('docs/ct-grammar.html is drawn from the parser as it is (node scripts/gen-ct-grammar.mjs)', async () => {
  const file = join(root, 'docs', 'ct-grammar.html');
  if (process.env.CTC_UPDATE_GOLDEN) writeFileSync(file, await grammarHtml());
  assert.fixture(readFileSync(file, 'utf8'), await grammarHtml());
});

test('ctc fmt: the examples are formatted, and formatting is idempotent and keeps comments', () => {
  for (const name of ['hello.ct', 'limits.ct']) {
    const text = readFileSync(example(name), 'utf8');
    assert.fixture(formatCt(text, name), text, `${name} is in the canonical layout`);
  }
  const ugly = [
    '',
    '# top',
    'import "./base.ct"   as base',
    'container {   # the container',
    '',
    '',
    '  hostname    web  # trailing',
    '  process { args /bin/sh -c "echo hi" ; env A=1',
    '     # own line',
    '     user nobody',
    '  }',
    '  mounts { use preset.defaultMounts }',
    '  resources { memory.limit 64Mi; pids.limit 32 }',
    '',
    '',
    '  namespaces mount uts',
    '}',
  ].join('\n');
  const once = formatCt(ugly, 'ugly.ct');
  assert.fixture(
    once,
    [
      '# top',
      'import "./base.ct" as base',
      'container {  # the container',
      '  hostname web  # trailing',
      '  process {',
      '    args /bin/sh -c "echo hi"',
      '    env A=1',
      '    # own line',
      '    user nobody',
      '  }',
      '  mounts { use preset.defaultMounts }',
      '  resources { memory.limit 64Mi; pids.limit 32 }',
      '',
      '  namespaces mount uts',
      '}',
      '',
    ].join('\n'),
  );
  assert.is(formatCt(once, 'ugly.ct'), once, 'idempotent');
});

test("ctc fmt keeps a block written on one line on one line (statements, a block in it), as docs/ct-language.md's own example is written", () => {
  const doc = readFileSync(join(root, 'docs', 'ct-language.md'), 'utf8');
  const first = /```\n(# app\.ct\n[\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(first, 'the page opens with an app.ct');
  assert.fixture(formatCt(first, 'app.ct'), first);
  assert.match(first, /rlimits \{ RLIMIT_NOFILE \{ soft 1024; hard 4096 \} \}/, 'a block in a block stayed');
  // written across lines, a block of several statements (or with a block in it) stays across lines
  const spread = 'container {\n  rlimits {\n    RLIMIT_NOFILE { soft 1024; hard 4096 }\n  }\n}\n';
  assert.is(formatCt(spread, 'spread.ct'), spread);
});

test('ctc fmt --check exits 1 naming the unformatted file; ctc fmt rewrites it', () => {
  const file = source('fmt/app.ct', 'container {  hostname   web\n}\n');
  const good = source('fmt/good.ct', readFileSync(example('hello.ct'), 'utf8'));
  const check = ctc(['fmt', '--check', good, file]);
  assert.is(check.status, 1);
  assert.match(check.stderr, /app\.ct is not formatted/);
  assert.not.match(check.stderr, /good\.ct/);
  assert.is(readFileSync(file, 'utf8'), 'container {  hostname   web\n}\n', '--check writes nothing');
  assert.is(ctc(['fmt', file]).status, 0);
  assert.is(readFileSync(file, 'utf8'), 'container {\n  hostname web\n}\n');
  assert.is(ctc(['fmt', '--check', file]).status, 0);
  const broken = source('fmt/broken.ct', 'container {\n');
  const r = ctc(['fmt', broken]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /broken\.ct:\d+:\d+: error CT_SYNTAX/);
});

test.run();
