// Hooks in the compiler: read from a ContainerDef and an OCI config into the
// same steps, placed at their moments in the plan, checked (each error at its
// position), written back to OCI, and named by the risk rules.

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { diffPlans } from '../../compiler/review/diff.ts';
import { riskNotes } from '../../compiler/review/risk.ts';
import { list, str } from '../../plan/steps.ts';
import { tempDir } from '../helpers.ts';
import { errorsOf, writeSource } from '../sources.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const ts = (name: string, hooks: string) =>
  writeSource(
    tmp.dir,
    name,
    `import { container, defaultMounts, hostRootfs } from 'ctc';\n\nexport default container({\n  rootfs: hostRootfs(),\n  mounts: defaultMounts,\n  hostname: 'h',\n  process: { args: ['/bin/true'] },\n  hooks: ${hooks},\n});\n`,
  );
const ALL = `{
    poststop: [{ path: '/usr/bin/stop' }],
    poststart: [{ path: '/usr/bin/post', args: ['post', '-v'], env: ['A=1'], timeout: 5 }],
    startContainer: [{ path: '/bin/start' }],
    createContainer: [{ path: '/usr/bin/cc' }],
    createRuntime: [{ path: '/usr/bin/cr1' }, { path: '/usr/bin/cr2' }],
    prestart: [{ path: '/usr/bin/pre' }],
  }`;

test('each moment has its place in the plan, whatever order the source lists them in', async () => {
  const steps = (await build(ts('all.ct.ts', ALL))).plan.steps;
  const at = (pred: (k: string, when: string) => boolean) =>
    steps.findIndex((s) => pred(s.kind, s.kind === 'hook.run' ? str(s, 'when') : ''));
  const hook = (when: string) => at((_kind, w) => w === when);
  const kind = (k: string) => at((x) => x === k);
  assert.is(hook('poststop'), kind('state.create') + 1, 'poststop is journaled first, so it runs last at delete');
  assert.ok(
    kind('ns.clone') < hook('prestart') && hook('prestart') < hook('createRuntime') && hook('createRuntime') < hook('createContainer'),
  );
  assert.is(steps[hook('createContainer') + 1].kind, 'rootfs.pivot', 'the create hooks come right before the pivot');
  assert.ok(
    kind('uts.hostname') < hook('startContainer') && hook('startContainer') < kind('proc.user'),
    'startContainer sees the names, before the process steps',
  );
  assert.is(hook('poststart'), steps.length - 1, 'poststart is last, after proc.exec');
  const runtimes = steps.filter((s) => s.kind === 'hook.run' && str(s, 'when') === 'createRuntime').map((s) => str(s, 'path'));
  assert.equal(runtimes, ['/usr/bin/cr1', '/usr/bin/cr2'], 'in order within a moment');
  const post = steps[hook('poststart')];
  assert.equal(post.args, { when: 'poststart', path: '/usr/bin/post', args: ['post', '-v'], env: ['A=1'], timeout: 5 });
  assert.equal(list(steps[hook('poststop')], 'args'), ['/usr/bin/stop'], 'argv defaults to the path');
  assert.match(post.source ?? '', /all\.ct\.ts:\d+:\d+/);
});

test('an OCI config gives the same hook steps, and ctc writes them back to OCI', async () => {
  const dir = join(tmp.dir, 'bundle');
  const hooks = {
    createRuntime: [{ path: '/usr/bin/cr1' }],
    poststart: [{ path: '/usr/bin/post', args: ['post', '-v'], env: ['A=1'], timeout: 5 }],
  };
  writeSource(
    dir,
    'config.json',
    JSON.stringify({
      ociVersion: '1.2.0',
      root: { path: 'rootfs' },
      process: { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 } },
      hooks,
      linux: { namespaces: [{ type: 'mount' }] },
    }),
  );
  const { plan } = await build(join(dir, 'config.json'));
  const hookSteps = plan.steps.filter((s) => s.kind === 'hook.run').map((s) => s.args);
  assert.equal(hookSteps, [
    { when: 'createRuntime', path: '/usr/bin/cr1', args: ['/usr/bin/cr1'] },
    { when: 'poststart', path: '/usr/bin/post', args: ['post', '-v'], env: ['A=1'], timeout: 5 },
  ]);
  const { ociFromSpec } = await import('../../compiler/oci/emit.ts');
  const { specFromOci } = await import('../../compiler/oci/read.ts');
  const spec = specFromOci(
    JSON.parse(
      JSON.stringify({
        ociVersion: '1.2.0',
        root: { path: '/r' },
        process: { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 } },
        hooks,
      }),
    ),
    new Map(),
    '/',
  );
  assert.equal(ociFromSpec(spec, { rootPath: '/r', id: 'x' }).hooks, {
    createRuntime: [{ path: '/usr/bin/cr1', args: ['/usr/bin/cr1'], env: [] }],
    poststart: hooks.poststart,
  });
});

test('a .ct source says the same hooks as blocks, and gets the same steps', async () => {
  const ct = writeSource(
    tmp.dir,
    'same.ct',
    'container {\n  rootfs use preset.hostRootfs\n  mounts use preset.defaultMounts\n  hostname h\n  process {\n    args /bin/true\n  }\n  hooks {\n    createRuntime {\n      {\n        path /usr/bin/cr1\n      }\n    }\n    poststart {\n      {\n        path /usr/bin/post\n        args post -v\n        env A=1\n        timeout 5\n      }\n    }\n  }\n}\n',
  );
  const hooksOf = async (file: string) => (await build(file)).plan.steps.filter((s) => s.kind === 'hook.run').map((s) => [s.n, s.args]);
  const same = ts(
    'same.ct.ts',
    `{ createRuntime: [{ path: '/usr/bin/cr1' }], poststart: [{ path: '/usr/bin/post', args: ['post', '-v'], env: ['A=1'], timeout: 5 }] }`,
  );
  assert.equal(await hooksOf(ct), await hooksOf(same));
});

test('bad hooks: a relative path, a zero timeout, an env entry without =, each at its position', async () => {
  const errors = await errorsOf(
    ts('bad.ct.ts', `{ createRuntime: [{ path: 'bin/x' }], poststart: [{ path: '/x', timeout: 0, env: ['NOEQUALS'] }] }`),
  );
  assert.equal(
    errors.map((e) => [e.code, /bad\.ct\.ts:\d+:\d+/.test(e.source ?? '')]),
    [
      ['CT_PATH_RELATIVE', true],
      ['CT_HOOK', true],
      ['CT_HOOK', true],
    ],
  );
  assert.match(errors[1].message, /hooks\.poststart\[0\]\.timeout/);
});

test('a hook added is a risk a reviewer sees', async () => {
  const before = (await build(ts('r1.ct.ts', '{}'))).plan;
  const after = (await build(ts('r2.ct.ts', `{ createRuntime: [{ path: '/usr/local/bin/net-setup' }] }`))).plan;
  const notes = riskNotes(diffPlans(before, after), before, after);
  assert.equal(
    notes.map((n) => [n.code, n.message]),
    [['RISK_HOOK_ADDED', 'runs /usr/local/bin/net-setup as root (createRuntime hook)']],
  );
});

test.run();
