// ctc lint through the built CLI: rules over plans, findings at the source
// line, the project config found up to the project root and checked,
// TypeScript and JavaScript plugins (run sandboxed: test/hostile/lint-plugin
// tries to break out).

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctc, tempDir } from '../helpers.ts';
import { writeSource } from '../sources.ts';

const tmp = tempDir('ctc-lint-');
test.after(() => tmp.remove());

const write = (rel: string, text: string) => writeSource(tmp.dir, rel, text);

/** A source, and its plan built next to it with `ctc build`. */
function planOf(rel: string, text: string): string {
  const src = write(rel, text);
  const built = ctc(['build', src]);
  assert.is(built.status, 0, built.stderr);
  return src.replace(/\.ct\.ts$/, '.plan');
}

const container = (process: string, extra = '') => `import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  rootfs: hostRootfs(),
  mounts: defaultMounts,${extra}
  resources: { memory: { limit: '64Mi' }, pids: { limit: 32 } },
  process: {
    args: ['/bin/true'],${process}
  },
});
`;

/** 1-based line of the first line of text that contains needle, as file:line:col. */
function at(file: string, needle: string): string {
  const lines = readFileSync(join(tmp.dir, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  return `${file}:${i + 1}:${lines[i].indexOf(needle.trim()) + 1}`;
}

const onlySeccomp = JSON.stringify({ lint: { defaults: false, rules: { 'seccomp-required': 'error' } } });

test('seccomp-required fails a plan without seccomp, at the source line, and passes one with it', () => {
  write('seccomp/ctc.config.json', onlySeccomp);
  const without = planOf('seccomp/open.ct.ts', container(`\n    seccomp: 'unconfined',`));
  const withIt = planOf('seccomp/filtered.ct.ts', container(''));

  const bad = ctc(['lint', without], { cwd: tmp.dir });
  assert.is(bad.status, 1, bad.stderr);
  const lines = bad.stdout.trim().split('\n');
  assert.is(lines.length, 1, bad.stdout);
  // The step is the exec of the unfiltered process; its source is process.args.
  const where = at('seccomp/open.ct.ts', "args: ['/bin/true']");
  assert.match(
    lines[0],
    new RegExp(
      `^${where.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: error seccomp-required: step \\d+ proc\\.exec: the process runs without a seccomp filter`,
    ),
  );
  assert.match(bad.stderr, /1 error, 0 warnings in 1 plan/);

  const good = ctc(['lint', withIt], { cwd: tmp.dir });
  assert.is(good.status, 0, good.stdout + good.stderr);
  assert.is(good.stdout, '');
});

// The rule reads what the process holds after its exec (capabilities(7)), not what ctc-init sets before it.
test('no-privileged-capabilities judges the sets after exec: a non-root process keeps only its ambient capabilities', () => {
  write('caps/ctc.config.json', JSON.stringify({ lint: { defaults: false, rules: { 'no-privileged-capabilities': 'error' } } }));
  const five = (ambient: string) =>
    `\n    capabilities: { bounding: ['CAP_SYS_ADMIN'], effective: ['CAP_SYS_ADMIN'], permitted: ['CAP_SYS_ADMIN'], inheritable: ['CAP_SYS_ADMIN'], ambient: [${ambient}] },`;
  const lint = (name: string, process: string) => ctc(['lint', planOf(`caps/${name}.ct.ts`, container(process))], { cwd: tmp.dir });

  const dropped = lint('nobody', `\n    user: { uid: 65534, gid: 65534 },\n    noNewPrivileges: false,${five('')}`);
  assert.is(dropped.status, 1, dropped.stderr);
  assert.not.match(dropped.stdout, /holds CAP_SYS_ADMIN/, 'the kernel drops it at the exec of a non-root process');
  assert.match(
    dropped.stdout,
    /CAP_SYS_ADMIN stays in the bounding set, so a setuid-root program or one with that file capability gains it/,
  );

  const sealed = lint('nobody-nnp', `\n    user: { uid: 65534, gid: 65534 },${five('')}`);
  assert.is(sealed.status, 0, `no_new_privs (a source's default): nothing can gain it at exec\n${sealed.stdout}`);

  const ambient = lint('nobody-ambient', `\n    user: { uid: 65534, gid: 65534 },${five("'CAP_SYS_ADMIN'")}`);
  assert.match(
    ambient.stdout,
    /error no-privileged-capabilities: .*the process holds CAP_SYS_ADMIN after its exec/,
    'an ambient capability survives the exec',
  );

  const root = lint('root', five(''));
  assert.match(root.stdout, /the process holds CAP_SYS_ADMIN after its exec/, 'root keeps its permitted set');
});

test('a source is linted as the plan it builds to', () => {
  const src = write('seccomp/open-src.ct.ts', container(`\n    seccomp: 'unconfined',`));
  const r = ctc(['lint', src]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stdout, /open-src\.ct\.ts:\d+:\d+: error seccomp-required: step \d+ proc\.exec/);
});

test('a config in a parent directory (up to the project root) enables and configures rules', () => {
  mkdirSync(join(tmp.dir, 'parent/.git'), { recursive: true }); // the project root, as a checkout's
  write(
    'parent/ctc.config.json',
    JSON.stringify({ lint: { rules: { 'limits-required': ['error', { pids: 10 }], 'readonly-rootfs': ['warn', { allowTmpfs: false }] } } }),
  );
  const plan = planOf('parent/services/web/app.ct.ts', container(''));
  const r = ctc(['lint', '--format', 'json', plan]);
  assert.is(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.is(out.plans[0].config, join(tmp.dir, 'parent/ctc.config.json'));
  const byRule = Object.fromEntries(out.findings.map((f: { rule: string }) => [f.rule, f]));
  assert.equal(Object.keys(byRule).sort(), ['limits-required', 'readonly-rootfs']);
  assert.is(byRule['limits-required'].severity, 'error');
  assert.is(byRule['limits-required'].message, "the pids limit is 32 processes, above the policy's 10");
  assert.is(byRule['limits-required'].kind, 'cgroup.limit');
  assert.match(byRule['limits-required'].source, /parent\/services\/web\/app\.ct\.ts:6:51$/);
  assert.is(byRule['readonly-rootfs'].severity, 'warning');
  assert.is(out.errors, 1);
  assert.is(out.warnings, 1);

  // The same plan where no config is found: the default set, which it passes.
  const alone = planOf('alone/app.ct.ts', container(''));
  const d = ctc(['lint', '--format', 'json', alone]);
  assert.is(d.status, 0, d.stdout);
  assert.equal(JSON.parse(d.stdout).plans[0].rules, [
    'no-privileged-capabilities',
    'seccomp-required',
    'no-rw-host-mounts',
    'limits-required',
  ]);
});

test('the config may be YAML, or a ctc key in package.json', () => {
  write('yaml/.ctcrc.yaml', 'lint:\n  defaults: false\n  rules:\n    user-namespace-required: error\n');
  const yaml = ctc(['lint', planOf('yaml/app.ct.ts', container(''))]);
  assert.is(yaml.status, 1);
  assert.match(yaml.stdout, /error user-namespace-required: step \d+ ns\.clone: the container shares the host's user namespace/);

  write('pkg/package.json', JSON.stringify({ name: 'x', ctc: { lint: { rules: { 'limits-required': 'off' } } } }));
  const pkg = ctc(['lint', '--format', 'json', planOf('pkg/app.ct.ts', container(''))]);
  assert.is(pkg.status, 0, pkg.stdout);
  assert.not.ok(JSON.parse(pkg.stdout).plans[0].rules.includes('limits-required'));
});

test('a wrong config key, rule or option is a coded error naming the file and the key', () => {
  const plan = planOf('wrong/app.ct.ts', container(''));
  const cases: [unknown, RegExp][] = [
    [
      { lint: { rulez: {} } },
      /wrong\/ctc\.config\.json:1:10: error CT_CONFIG: lint\.rulez: unknown key 'rulez'\n {2}hint: lint has the keys defaults, rules, plugins/,
    ],
    [{ lnt: {} }, /wrong\/ctc\.config\.json:1:2: error CT_CONFIG: lnt: unknown key 'lnt'/],
    [
      { lint: { rules: { 'seccomp-requird': 'error' } } },
      /wrong\/ctc\.config\.json:1:19: error CT_CONFIG: lint\.rules\.seccomp-requird: unknown rule 'seccomp-requird'\n {2}hint: the rules are .*seccomp-required/,
    ],
    [
      { lint: { rules: { 'limits-required': ['warn', { pidz: 1 }] } } },
      /error CT_CONFIG: lint\.rules\.limits-required\[1\]\.pidz: unknown option 'pidz'/,
    ],
    [
      { lint: { rules: { 'limits-required': ['warn', { pids: 'many' }] } } },
      /error CT_CONFIG: lint\.rules\.limits-required\[1\]\.pids: expected true, false or a number/,
    ],
    [
      { lint: { rules: { 'seccomp-required': 'fatal' } } },
      /error CT_CONFIG: lint\.rules\.seccomp-required: expected "error", "warn" or "off"/,
    ],
  ];
  for (const [config, expected] of cases) {
    write('wrong/ctc.config.json', JSON.stringify(config));
    const r = ctc(['lint', plan], { cwd: tmp.dir });
    assert.is(r.status, 1, JSON.stringify(config));
    assert.match(r.stderr, expected);
    assert.not.match(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  }
  // The plan first: ctc build reads the project config too (planDir), and would refuse it.
  const brokenPlan = planOf('broken/app.ct.ts', container(''));
  write('broken/.ctcrc.yaml', 'lint: [\n');
  const broken = ctc(['lint', brokenPlan], { cwd: tmp.dir });
  assert.is(broken.status, 1);
  assert.match(
    broken.stderr,
    /^ctc: broken\/\.ctcrc\.yaml:2:1: error CT_CONFIG: cannot read the ctc config: unexpected end of the stream within a flow collection \(2:1\)\n$/,
  );
});

test('a TypeScript plugin adds rules, written against the typed plan, with options', () => {
  write('plugin/policy/names.ts', `export const generic: readonly string[] = ['app', 'web'];\n`);
  write(
    'plugin/policy/rules.ts',
    `import { defineRule, stepsOf, type Plan } from 'ctc/lint';
import { generic } from './names.ts';

const hostname = defineRule({
  id: 'acme/specific-hostname',
  description: 'hostnames say what the container is',
  options: { also: { type: 'strings', default: [], doc: 'more names to refuse' } },
  *check(plan: Plan, { also }) {
    for (const step of stepsOf(plan, 'uts.hostname')) {
      const name: string = step.args.name;
      if ([...generic, ...also].includes(name)) yield { message: \`hostname \${name} is too generic\`, step };
    }
  },
});

export const rules = [hostname];
`,
  );
  write(
    'plugin/ctc.config.json',
    JSON.stringify({
      lint: { defaults: false, plugins: ['./policy/rules.ts'], rules: { 'acme/specific-hostname': ['warn', { also: ['box'] }] } },
    }),
  );
  const web = planOf('plugin/web.ct.ts', container('', `\n  hostname: 'web',`));
  const box = planOf('plugin/box.ct.ts', container('', `\n  hostname: 'box',`));
  const ok = planOf('plugin/billing.ct.ts', container('', `\n  hostname: 'billing',`));
  const r = ctc(['lint', web, box, ok], { cwd: join(tmp.dir, 'plugin') });
  assert.is(r.status, 0, r.stderr);
  assert.is(
    r.stdout,
    'web.ct.ts:6:3: warning acme/specific-hostname: step 63 uts.hostname: hostname web is too generic\n' +
      'box.ct.ts:6:3: warning acme/specific-hostname: step 63 uts.hostname: hostname box is too generic\n',
  );
  assert.match(r.stderr, /0 errors, 2 warnings in 3 plans/);

  write('plugin/policy/rules.ts', `export const rules = [{ id: 'Bad Id', description: 'x', check() { return []; } }];\n`);
  const bad = ctc(['lint', web]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /plugin\/policy\/rules\.ts: error CT_LINT_PLUGIN: rule id 'Bad Id' is not kebab-case/);
});

// Plugins run in the sandbox (compiler/lint/plugins.ts): what they give back is data, checked here.
test('a plugin rule that throws is CT_LINT_RULE at its line; a bad report, option spec or import is coded too', () => {
  planOf('plugin-bad/app.ct.ts', container(''));
  write(
    'plugin-bad/ctc.config.json',
    JSON.stringify({ lint: { defaults: false, plugins: ['./policy.ts'], rules: { 'acme/bad': 'error' } } }),
  );
  const lint = (pluginText: string) => {
    write('plugin-bad/policy.ts', `import { defineRule, firstOf } from 'ctc/lint';\n${pluginText}`);
    const r = ctc(['lint', 'app.plan'], { cwd: join(tmp.dir, 'plugin-bad') });
    assert.is(r.status, 1, r.stdout + r.stderr);
    assert.not.match(r.stderr, /internal error|\n\s+at /, 'no stack trace');
    return r.stderr;
  };
  const rule = (options: string, check: string) =>
    `export const rules = [defineRule({ id: 'acme/bad', description: 'x', options: ${options}, *check(plan) {\n  ${check}\n} })];\n`;

  assert.match(
    lint(rule('{}', "if (firstOf(plan, 'proc.exec')) throw new Error('no exec here');\n  yield* [];")),
    /^ctc: policy\.ts:3:41: error CT_LINT_RULE: the rule acme\/bad failed on app\.plan: no exec here\n {2}hint: a rule is code/,
  );
  assert.match(
    lint(rule('{}', 'yield { message: 42 };')),
    /policy\.ts: error CT_LINT_RULE: the rule acme\/bad failed on app\.plan: it reported something without a message string/,
  );
  assert.match(
    lint(rule('{}', "yield { message: 'x', step: { n: 100000 } };")),
    /error CT_LINT_RULE: the rule acme\/bad failed on app\.plan: it reported step 100000, which the plan does not have/,
  );
  assert.match(
    lint(rule("{ n: { type: 'number', default: 'ten', doc: 'x' } } as any", 'yield* [];')),
    /policy\.ts: error CT_LINT_PLUGIN: acme\/bad: the option 'n' needs a type .* and a default of that type/,
  );
  assert.match(
    lint(`import { readFileSync } from 'node:fs';\n${rule('{}', "yield { message: readFileSync('/etc/hostname', 'utf8') };")}`),
    /^ctc: policy\.ts:2:30: error CT_LINT_PLUGIN: cannot import 'node:fs' in a lint plugin\n {2}hint: a plugin runs sandboxed/,
  );
  assert.match(
    lint(`throw new Error('not today');\n${rule('{}', 'yield* [];')}`),
    /^ctc: policy\.ts:2:7: error CT_LINT_PLUGIN: cannot load the plugin: not today\n$/,
  );
  assert.match(
    lint(rule('{}', 'for (;;) {}')),
    /error CT_EVAL_LIMIT: evaluating the lint plugin policy\.ts was stopped: it ran for more than 10 s/,
  );
});

test('a JavaScript plugin (ESM) is transpiled and sandboxed the same way; its rules run over every plan once', () => {
  write(
    'plugin-js/rules.mjs',
    `import { defineRule, stepsOf } from 'ctc/lint';
export default [
  defineRule({ id: 'js/exec-count', description: 'counts execs', options: { max: { type: 'number', default: 0, doc: 'allowed' } },
    *check(plan, { max }) {
      const execs = stepsOf(plan, 'proc.exec');
      if (execs.length > max) yield { message: \`\${execs.length} exec\`, step: execs[0] };
    } }),
];
`,
  );
  write(
    'plugin-js/ctc.config.json',
    JSON.stringify({ lint: { defaults: false, plugins: ['./rules.mjs'], rules: { 'js/exec-count': 'warn' } } }),
  );
  const a = planOf('plugin-js/a.ct.ts', container(''));
  const b = planOf('plugin-js/b.ct.ts', container(''));
  const r = ctc(['lint', '--format', 'json', a, b], { cwd: join(tmp.dir, 'plugin-js') });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(
    out.findings.map((f: { plan: string; rule: string; message: string; kind: string }) => [f.plan, f.rule, f.message, f.kind]),
    [
      [a, 'js/exec-count', '1 exec', 'proc.exec'],
      [b, 'js/exec-count', '1 exec', 'proc.exec'],
    ],
  );
});

test.run();
