import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../../compiler/build.ts';
import { compileTs } from '../../compiler/frontend/ts.ts';
import { example, tempDir } from '../helpers.ts';
import { errorsOf, writeSource } from '../sources.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const source = (name: string, text: string) => writeSource(tmp.dir, name, text);

const head = `import { container, hostRootfs, defaultMounts } from 'ctc';\n`;

test('a misspelled option is a type error at its line and column', async () => {
  const file = source(
    'typo.ct.ts',
    `${head}export default container({\n  rootfs: hostRootfs(),\n  hostnme: 'x',\n  process: { args: ['/bin/true'] },\n});\n`,
  );
  const [e, ...more] = await errorsOf(file);
  assert.is(more.length, 0);
  assert.is(e.code, 'CT_TYPE');
  assert.is(e.source, 'typo.ct.ts:4:3');
  assert.match(e.message, /TS2\d+ .*hostnme/);
});

test('a misspelled namespace or mount option is a type error', async () => {
  const file = source(
    'names.ct.ts',
    `${head}export default container({\n  rootfs: hostRootfs(),\n  namespaces: ['mount', 'pdi'],\n  mounts: [{ destination: '/tmp', type: 'tmpfs', options: ['nosiud'] }],\n  process: { args: ['/bin/true'] },\n});\n`,
  );
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => e.source),
    ['names.ct.ts:4:25', 'names.ct.ts:5:60'],
  );
});

// One size syntax: docker's and runc's (64m), Kubernetes' (64Mi) and 64MB, all binary, in .ct.ts and .ct alike.
test('sizes: 64m, 64M, 64Mi and 64MB are the same limit in a .ct.ts and a .ct; a wrong one lists the forms', async () => {
  const limitOf = async (file: string) => /key=memory\.limit value=(\d+)/.exec((await build(file)).text)?.[1];
  for (const [i, size] of ['64m', '64M', '64Mi', '64MB', `${64 * 2 ** 20}`].entries()) {
    const ts = source(
      `size${i}.ct.ts`,
      `${head}export default container({ rootfs: hostRootfs(), resources: { memory: { limit: ${/^\d+$/.test(size) ? size : `'${size}'`} } }, process: { args: ['/bin/true'] } });\n`,
    );
    assert.is(await limitOf(ts), String(64 * 2 ** 20), `${size} in a .ct.ts`);
    const ct = source(
      `size${i}.ct`,
      `container {\n  rootfs use preset.hostRootfs\n  resources { memory.limit ${size} }\n  process { args /bin/true }\n}\n`,
    );
    assert.is(await limitOf(ct), String(64 * 2 ** 20), `${size} in a .ct`);
  }
  const bad = source(
    'bad-size.ct',
    'container {\n  rootfs use preset.hostRootfs\n  resources { memory.limit 64megs }\n  process { args /bin/true }\n}\n',
  );
  const [e] = await errorsOf(bad);
  assert.is(e.source, 'bad-size.ct:3:28');
  assert.match(e.message, /64m.*64Mi.*64MB/);
});

test("a capability cut short: .ct.ts and .ct both name the capability it begins (TypeScript's own list is cut at 10)", async () => {
  const ts = source(
    'cap.ct.ts',
    `${head}export default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'], capabilities: ['CAP_NET_BIND'] } });\n`,
  );
  const [e] = await errorsOf(ts);
  assert.is(e.code, 'CT_TYPE');
  assert.match(e.message, /'CAP_NET_BIND' is not a capability$/);
  assert.not.match(e.message, /more \.\.\./);
  assert.match(e.hint ?? '', /did you mean 'CAP_NET_BIND_SERVICE'\?/);
  const ct = source(
    'cap.ct',
    'container {\n  rootfs use preset.hostRootfs\n  process {\n    args /bin/true\n    capabilities CAP_NET_BIND\n  }\n}\n',
  );
  const [d] = await errorsOf(ct);
  assert.is(d.code, 'CT_UNKNOWN_NAME');
  assert.match(d.message, /expected a name CAP_…/);
  assert.match(d.hint ?? '', /did you mean 'CAP_NET_BIND_SERVICE'\?/);
});

test("seccomp: 'default' is defaultSeccomp, as the project config spells it, in a .ct.ts and a .ct", async () => {
  const filterOf = async (file: string) =>
    (await build(file)).text
      .split('\n')
      .find((l) => / proc\.seccomp /.test(l))
      ?.replace(/\s+#.*$/, '');
  const left = await filterOf(
    source('sc-none.ct.ts', `${head}export default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'] } });\n`),
  );
  assert.ok(left, 'the default filter');
  assert.is(
    await filterOf(
      source(
        'sc-default.ct.ts',
        `${head}export default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'], seccomp: 'default' } });\n`,
      ),
    ),
    left,
  );
  assert.is(
    await filterOf(
      source(
        'sc-default.ct',
        'container {\n  rootfs use preset.hostRootfs\n  process {\n    args /bin/true\n    seccomp default\n  }\n}\n',
      ),
    ),
    left,
  );
});

test('imports other than the stdlib and relative .ct.ts files are refused', async () => {
  const file = source(
    'imports.ct.ts',
    `import { readFileSync } from 'node:fs';\n${head}export default container({ rootfs: hostRootfs(), process: { args: [String(readFileSync)] } });\n`,
  );
  const errors = await errorsOf(file);
  const imp = errors.find((e) => e.code === 'CT_IMPORT');
  assert.ok(imp, 'a CT_IMPORT error');
  assert.is(imp!.source, 'imports.ct.ts:1:30');
});

test('the clock and randomness are refused with their position', async () => {
  const file = source(
    'clock.ct.ts',
    `${head}const t = Date.now();\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/echo', String(t + Math.random())] } });\n`,
  );
  const errors = await errorsOf(file);
  assert.equal(
    errors.map((e) => [e.code, e.source]),
    [
      ['CT_NONDETERMINISTIC', 'clock.ct.ts:2:11'],
      ['CT_NONDETERMINISTIC', 'clock.ct.ts:3:92'],
    ],
  );
});

test('a throw while evaluating names the source line', async () => {
  const file = source(
    'throws.ct.ts',
    `${head}\nfunction pick(): string {\n  throw new Error('no such profile');\n}\nexport default container({ rootfs: hostRootfs(), process: { args: [pick()] } });\n`,
  );
  const [e] = await errorsOf(file);
  assert.is(e.code, 'CT_EVAL');
  assert.is(e.message, 'no such profile');
  assert.is(e.source, 'throws.ct.ts:4:9');
});

test('the sandbox has no process, require or host objects', async () => {
  const file = source(
    'escape.ct.ts',
    `${head}const g = globalThis as any;\nconst leak = [typeof g.process, typeof g.require, typeof g.Buffer, typeof (g.constructor.constructor)].join(',');\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/echo', leak] } });\n`,
  );
  const { spec } = compileTs(file);
  assert.equal(spec.process.args, ['/bin/echo', 'undefined,undefined,undefined,function']);
  // and the context's Function cannot compile code from strings
  const file2 = source(
    'eval.ct.ts',
    `${head}const f = (globalThis as any).constructor.constructor('return 1');\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/echo', String(f())] } });\n`,
  );
  const [e] = await errorsOf(file2);
  assert.is(e.code, 'CT_EVAL');
  assert.match(e.message, /Code generation from strings disallowed/);
});

test("relative .ct.ts imports work and their lines are the steps' sources", async () => {
  source(
    'lib/web.ct.ts',
    `import type { Mount } from 'ctc';\nexport const cache: Mount = { destination: '/cache', type: 'tmpfs', options: ['nosuid'] };\n`,
  );
  const file = source(
    'app.ct.ts',
    `${head}import { cache } from './lib/web.ct.ts';\nexport default container({\n  rootfs: hostRootfs(),\n  mounts: [...defaultMounts, cache],\n  process: { args: ['/bin/true'] },\n});\n`,
  );
  const { plan } = await build(file);
  const proc = plan.steps.find((s) => s.kind === 'mount.fs' && s.args.dst === '/proc');
  const cacheStep = plan.steps.find((s) => s.kind === 'mount.fs' && s.args.dst === '/cache');
  assert.is(proc?.source, 'app.ct.ts:5:12', 'a preset mount points at the spread');
  assert.is(cacheStep?.source, 'lib/web.ct.ts:2:29', 'an imported mount points at where it was written');
  assert.equal(
    plan.sources.map((s) => s.path),
    ['app.ct.ts', 'lib/web.ct.ts'],
  );
});

test('building the same source twice gives the same bytes', async () => {
  const a = await build(example('hello.ct.ts'));
  const b = await build(example('hello.ct.ts'));
  assert.is(a.text, b.text);
});

test('every step of the examples names its source line', async () => {
  for (const name of ['hello.ct.ts', 'limits.ct.ts']) {
    const { plan } = await build(example(name));
    for (const s of plan.steps)
      assert.match(s.source ?? '', new RegExp(`^${name.replace('.', '\\.')}:\\d+:\\d+$`), `step ${s.n} ${s.kind}`);
  }
});

test.run();
