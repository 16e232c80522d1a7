// The repository is the unit of review (issue 20): `ctc check`, `ctc lint`
// and `ctc diff REV` with no file named cover every container source of the
// git repository, in nested folders, wherever they run. A stale plan, a
// source without a plan and a plan without a source each fail check by path;
// lint builds sources in memory; a new source diffs against the empty plan.

import { symlinkSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CheckJson, DiffJson } from '../../compiler/review/json.ts';
import { parsePlan } from '../../plan/text.ts';
import { ctc, tempDir } from '../helpers.ts';
import { type ScratchRepo, scratchRepo, webSource } from '../scratch-repo.ts';
import { writeSource } from '../sources.ts';

let repo: ScratchRepo;
test.before.each(() => {
  repo = scratchRepo();
});
test.after.each(() => repo.done());

const run = (args: string[], sub = '') => ctc(args, { cwd: sub ? `${repo.dir}/${sub}` : repo.dir });
const lastLine = (s: string) => s.trimEnd().split('\n').pop();
const noStack = (s: string) => assert.not.match(s, /\n\s+at /, 'no stack trace');

test('at the root, check covers nested sources (.ct.ts and .ct) and passes when every plan is current', () => {
  const r = run(['check']);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok\s+services\/db\/app\.plan \(from services\/db\/app\.ct\)$/m);
  assert.match(r.stdout, /^ok\s+services\/web\/app\.plan \(from services\/web\/app\.ct\.ts\)$/m);
  assert.is(lastLine(r.stdout), '2 sources, 2 plans: 0 stale, 0 new, 0 orphaned');
});

test('a stale nested plan fails check at the root and in another folder, named by path from there', () => {
  repo.write('services/web/app.ct.ts', webSource("[...defaultCapabilities, 'CAP_SYS_MODULE']"));
  const r = run(['check']);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /^stale\s+services\/web\/app\.plan \(from services\/web\/app\.ct\.ts\): 0 added, 0 removed, \d+ changed; 1 risk note$/m,
  );
  // Source positions are the plan's: relative to the source's folder, under the source's line.
  assert.match(r.stdout, /^ {2}risk RISK_CAP_ADDED app\.ct\.ts:11:\d+: capability CAP_SYS_MODULE added/m);
  assert.is(lastLine(r.stdout), '2 sources, 2 plans: 1 stale, 0 new, 0 orphaned');
  assert.match(r.stderr, 'error CT_PLAN_STALE: 1 of 2 plans are stale, missing or do not build: services/web/app.plan');
  noStack(r.stderr);
  const below = run(['check'], 'services/db');
  assert.is(below.status, 1);
  assert.match(below.stdout, /^stale\s+\.\.\/web\/app\.plan \(from \.\.\/web\/app\.ct\.ts\)/m);
});

test('a change to an imported helper alone makes the plans of the sources importing it stale', () => {
  repo.write('lib/common.ct.ts', "export const hostname = 'web2';\n");
  const r = run(['check']);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^stale\s+services\/web\/app\.plan .*\n(.*\n)*\s+name: "web" → "web2"$/m);
  assert.match(r.stdout, /^ok\s+services\/db\/app\.plan/m);
});

test('a new source without a plan fails check (untracked files count; ignored ones do not)', () => {
  repo.write('services/new/app.ct.ts', webSource());
  repo.write('.gitignore', 'scratch/\n');
  repo.write('scratch/app.ct.ts', webSource());
  const r = run(['check']);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /^new\s+services\/new\/app\.plan \(from services\/new\/app\.ct\.ts\): no plan; run `ctc build services\/new\/app\.ct\.ts`$/m,
  );
  assert.not.match(r.stdout, /scratch/);
  assert.is(lastLine(r.stdout), '3 sources, 2 plans: 0 stale, 1 new, 0 orphaned');
});

test('a plan without a source is orphaned and fails check; --format json says so by the schema', () => {
  repo.write('services/old/app.plan', repo.read('services/db/app.plan'));
  const r = run(['check']);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^orphaned\s+services\/old\/app\.plan \(from services\/old\/app\.ct\.ts\): no source/m);
  assert.is(lastLine(r.stdout), '2 sources, 3 plans: 0 stale, 0 new, 1 orphaned');
  const json = run(['check', '--format', 'json']);
  const doc = JSON.parse(json.stdout) as CheckJson;
  assert.is(doc.ok, false);
  assert.equal(
    doc.results.find((x) => x.status === 'orphaned'),
    { source: 'services/old/app.ct.ts', plan: 'services/old/app.plan', status: 'orphaned' },
  );
  assert.is(lastLine(json.stderr.split('\nctc:')[0]), '2 sources, 3 plans: 0 stale, 0 new, 1 orphaned');
});

test('a committed plan that is a symlink out of the repository is not read', () => {
  repo.remove('services/web/app.plan');
  repo.git('rm', '-q', '--cached', 'services/web/app.plan');
  const outside = tempDir('ctc-outside-');
  try {
    const secret = writeSource(outside.dir, 'app.plan', 'ctc-plan 1\nSECRET-LINE\n');
    symlinkSync(secret, `${repo.dir}/services/web/app.plan`);
    const r = run(['check']);
    assert.is(r.status, 1);
    assert.match(r.stdout, /services\/web\/app\.plan .*CT_SOURCE_ESCAPE: .*outside the project root/);
    assert.not.match(r.stdout + r.stderr, /SECRET/);
  } finally {
    outside.remove();
  }
});

test('outside git, check walks the tree below the current folder (node_modules and hidden folders left out)', () => {
  const tmp = tempDir('ctc-tree-');
  try {
    writeSource(tmp.dir, 'a/b/app.ct', repo.read('services/db/app.ct'));
    writeSource(tmp.dir, 'node_modules/x/app.ct', 'not a container');
    writeSource(tmp.dir, '.cache/app.ct', 'not a container');
    const r = ctc(['check'], { cwd: tmp.dir });
    assert.is(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^new\s+a\/b\/app\.plan \(from a\/b\/app\.ct\)/m);
    assert.is(lastLine(r.stdout), '1 sources, 0 plans: 0 stale, 1 new, 0 orphaned');
  } finally {
    tmp.remove();
  }
});

test('with nothing to check, check says so: CT_PLAN_NONE', () => {
  const tmp = tempDir('ctc-empty-');
  try {
    const r = ctc(['check'], { cwd: tmp.dir });
    assert.is(r.status, 1);
    assert.match(r.stderr, /error CT_PLAN_NONE: no container source \(\*\.ct\.ts, \*\.ct\) and no plan in /);
  } finally {
    tmp.remove();
  }
});

test('lint at the root builds each source in memory: a capability added in a nested source is found though its committed plan lacks it', () => {
  repo.write('services/web/app.ct.ts', webSource("[...defaultCapabilities, 'CAP_SYS_MODULE']"));
  const r = run(['lint', '--format', 'json']);
  assert.is(r.status, 1, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as {
    plans: { plan: string; source?: string }[];
    findings: { rule: string; severity: string; message: string; plan: string; source?: string }[];
  };
  assert.equal(
    out.plans.map((p) => [p.plan, p.source]),
    [
      ['services/db/app.plan', 'services/db/app.ct'],
      ['services/web/app.plan', 'services/web/app.ct.ts'],
    ],
  );
  const cap = out.findings.find((f) => f.rule === 'no-privileged-capabilities');
  assert.ok(cap, r.stdout);
  assert.is(cap!.severity, 'error');
  assert.match(cap!.message, /CAP_SYS_MODULE/);
  assert.match(cap!.source!, /^services\/web\/app\.ct\.ts:11:\d+$/);
  const stale = out.findings.find((f) => f.rule === 'plan-current');
  assert.equal([stale?.severity, stale?.plan], ['warning', 'services/web/app.plan']);
  assert.match(stale!.message, /^stale: services\/web\/app\.ct\.ts builds to another plan/);
  // The committed plan alone says nothing of it: that is what lint used to read.
  const committed = run(['lint', 'services/web/app.plan']);
  assert.is(committed.status, 0, committed.stdout);
});

test('ctc diff HEAD -- a new source: every step added, with its risk notes, exit 0', () => {
  repo.write('services/new/app.ct.ts', webSource("[...defaultCapabilities, 'CAP_SYS_MODULE']"));
  const r = run(['diff', '--format', 'json', 'HEAD', '--', 'services/new/app.ct.ts']);
  assert.is(r.status, 0, r.stderr);
  const [d] = (JSON.parse(r.stdout) as DiffJson).diffs;
  assert.equal(d.old, { kind: 'none', path: 'services/new/app.ct.ts', revision: 'HEAD' });
  assert.equal(d.new, { kind: 'source', path: 'services/new/app.ct.ts' });
  repo.build('services/new/app.ct.ts');
  const plan = parsePlan(repo.read('services/new/app.plan'));
  assert.is(d.counts.added, plan.steps.length);
  assert.equal([d.counts.removed, d.counts.changed], [0, 0]);
  assert.ok(d.changes.every((c) => c.type === 'added'));
  const cap = d.risks.find((n) => n.code === 'RISK_CAP_ADDED' && n.message.includes('CAP_SYS_MODULE'));
  assert.ok(cap, JSON.stringify(d.risks));
  assert.match(cap!.source!, /^app\.ct\.ts:11:\d+$/);
  const text = run(['diff', 'HEAD', '--', 'services/new/app.ct.ts']);
  assert.is(text.status, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(
      `^services/new/app\\.ct\\.ts \\(none at HEAD\\) → services/new/app\\.ct\\.ts: ${plan.steps.length} added, 0 removed, 0 changed`,
    ),
  );
});

test('ctc diff REV with no source: every container whose plan changes, new and deleted ones, in one markdown document', () => {
  repo.write('lib/common.ct.ts', "export const hostname = 'web2';\n"); // the helper alone
  repo.write('services/new/app.ct.ts', webSource());
  repo.remove('services/db/app.ct');
  const json = run(['diff', '--format', 'json', 'HEAD']);
  assert.is(json.status, 0, json.stderr);
  const diffs = (JSON.parse(json.stdout) as DiffJson).diffs;
  assert.equal(
    diffs.map((d) => [d.old.kind, d.new.kind, d.new.path]),
    [
      ['revision', 'none', 'services/db/app.ct'],
      ['none', 'source', 'services/new/app.ct.ts'],
      ['revision', 'source', 'services/web/app.ct.ts'],
    ],
  );
  assert.ok(diffs[0].changes.every((c) => c.type === 'removed') && diffs[0].counts.removed > 0);
  assert.equal(
    diffs[2].changes.map((c) => [c.key, c.old?.args.name, c.new?.args.name]),
    [['uts.hostname', 'web', 'web2']],
  );
  const md = run(['diff', '--format', 'markdown', 'HEAD'], 'services');
  assert.is(md.status, 0, md.stderr);
  assert.is(md.stdout.match(/^### /gm)?.length, 1, 'one document');
  assert.match(md.stdout, /· 3 plans$/m);
  for (const s of ['db/app.ct (none)', 'new/app.ct.ts (none at HEAD)', 'web/app.ct.ts at HEAD']) assert.ok(md.stdout.includes(s), s);
  // Nothing changed: nothing shown.
  repo.git('checkout', '-q', '--', '.');
  repo.remove('services/new/app.ct.ts');
  const none = run(['diff', '--format', 'json', 'HEAD']);
  assert.equal(JSON.parse(none.stdout).diffs, []);
});

test.run();
