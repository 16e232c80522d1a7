// `ctc check` and `ctc build --json`, through the built CLI (node
// scripts/build.mjs first): a stale or missing plan fails the check and is
// named; JSON output follows the schemas in plan/schema/.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PlanJson } from '../../plan/json.ts';
import type { CheckJson } from '../../compiler/review/json.ts';
import { parsePlan } from '../../plan/text.ts';
import { ctc, root, tempDir } from '../helpers.ts';

const tmp = tempDir();
test.after(() => tmp.remove());

const schema = (name: string) => JSON.parse(readFileSync(join(root, 'plan', 'schema', name), 'utf8'));
const ajv = new Ajv2020({ allErrors: true });
ajv.addSchema(schema('plan.v1.schema.json'));
ajv.addSchema(schema('diff.v1.schema.json'));
const validatePlan = ajv.getSchema('urn:ctc:schema:plan.v1')!;
const validateCheck = ajv.compile(schema('check.v1.schema.json'));

const source = (hostname: string) => `import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  hostname: '${hostname}',
  rootfs: hostRootfs(),
  mounts: defaultMounts,
  process: { args: ['/bin/true'] },
});
`;
const write = (name: string, text: string) => writeFileSync(join(tmp.dir, name), text);
const noStack = (stderr: string) => assert.not.match(stderr, /\n\s+at /, 'no stack trace');

let built: PlanJson;

test('ctc build --json prints the plan as JSON that follows plan.v1.schema.json, and still writes the plan', () => {
  write('app.ct.ts', source('app'));
  const r = ctc(['build', '--json', 'app.ct.ts'], { cwd: tmp.dir });
  assert.is(r.status, 0, r.stderr);
  built = JSON.parse(r.stdout) as PlanJson;
  assert.ok(validatePlan(built), ajv.errorsText(validatePlan.errors));
  const plan = parsePlan(readFileSync(join(tmp.dir, 'app.plan'), 'utf8'));
  assert.is(built.steps.length, plan.steps.length);
  assert.equal(built.sources, plan.sources);
  assert.equal(
    built.steps.find((s) => s.kind === 'uts.hostname'),
    {
      n: plan.steps.find((s) => s.kind === 'uts.hostname')!.n,
      actor: 'init',
      kind: 'uts.hostname',
      args: { name: 'app' },
      source: 'app.ct.ts:4:3',
    },
  );
  const wrong = structuredClone(built);
  (wrong.steps[0].args as Record<string, unknown>).dir = 7;
  assert.not.ok(validatePlan(wrong), 'a step argument of the wrong type is refused');
});

test('ctc check with no arguments passes when every plan here matches its source', () => {
  const r = ctc(['check'], { cwd: tmp.dir });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok\s+app\.plan \(from app\.ct\.ts\)$/m);
});

test('a stale plan fails ctc check, which names it and prints the step diff', () => {
  write('app.ct.ts', source('changed'));
  const r = ctc(['check'], { cwd: tmp.dir });
  assert.is(r.status, 1);
  assert.match(r.stdout, /^stale\s+app\.plan \(from app\.ct\.ts\): 0 added, 0 removed, 1 changed/m);
  assert.match(r.stdout, /~ \d+ init uts\.hostname {2}# app\.ct\.ts:4:3\n\s+name: "app" → "changed"/);
  assert.match(r.stderr, 'error CT_PLAN_STALE: 1 of 1 plans are stale, missing or do not build: app.plan');
  noStack(r.stderr);
});

test('ctc check names every stale or missing plan; --format json follows check.v1.schema.json', () => {
  write('other.ct.ts', source('other'));
  const r = ctc(['check', '--format', 'json', 'app.ct.ts', 'other.ct.ts'], { cwd: tmp.dir });
  assert.is(r.status, 1);
  const json = JSON.parse(r.stdout) as CheckJson;
  assert.ok(validateCheck(json), ajv.errorsText(validateCheck.errors));
  assert.is(json.ok, false);
  assert.equal(
    json.results.map((x) => [x.plan, x.status]),
    [
      ['app.plan', 'stale'],
      ['other.plan', 'missing'],
    ],
  );
  assert.equal(
    json.results[0].diff!.changes.map((c) => c.key),
    ['uts.hostname'],
  );
  assert.match(r.stderr, 'CT_PLAN_STALE: 2 of 2 plans are stale, missing or do not build: app.plan, other.plan');
});

test('a comment-only change makes the plan stale (its source lines moved) with an empty step diff', () => {
  write('app.ct.ts', source('app'));
  assert.is(ctc(['check', 'app.ct.ts'], { cwd: tmp.dir }).status, 0);
  write('app.ct.ts', `// a comment\n${source('app')}`);
  const r = ctc(['check', 'app.ct.ts'], { cwd: tmp.dir });
  assert.is(r.status, 1);
  assert.match(r.stdout, 'app.plan (from app.ct.ts): no changes (only source positions or digests differ)');
});

test('a source that does not build is reported with its code, and the check fails', () => {
  write('broken.ct.ts', "import { container } from 'ctc';\nexport default container({ hostnme: 'x' });\n");
  const r = ctc(['check', 'broken.ct.ts'], { cwd: tmp.dir });
  assert.is(r.status, 1);
  assert.match(r.stdout, /^error\s+broken\.plan \(from broken\.ct\.ts\): broken\.ct\.ts:2:\d+: CT_TYPE: /m);
  noStack(r.stderr);
});

test('with no arguments, a .ct whose .ct.ts twin is here is left out: the two share a plan', () => {
  const dir = join(tmp.dir, 'twins');
  mkdirSync(dir);
  copyFileSync(join(root, 'examples', 'hello.ct.ts'), join(dir, 'hello.ct.ts'));
  copyFileSync(join(root, 'examples', 'hello.ct'), join(dir, 'hello.ct'));
  assert.is(ctc(['build', 'hello.ct.ts'], { cwd: dir }).status, 0);
  const r = ctc(['check'], { cwd: dir });
  assert.is(r.status, 0, r.stderr + r.stdout);
  assert.not.match(r.stdout + r.stderr, /hello\.ct\b(?!\.ts)/, 'the .ct twin is not checked against the .ct.ts plan');
});

test.run();
