// examples/ci/github-actions.yml: valid YAML (read with cosmiconfig's own
// YAML loader: no new dependency) that runs the three commands a pull
// request needs, and a lint matcher that reads ctc lint's lines.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultLoaders } from 'cosmiconfig';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFinding } from '../../cli/lint.ts';
import { root } from '../helpers.ts';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}

const file = join(root, 'examples', 'ci', 'github-actions.yml');
const workflow = defaultLoaders['.yaml'](file, readFileSync(file, 'utf8')) as {
  on: { pull_request: unknown };
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
};
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const running = (re: RegExp) => steps.find((s) => s.run !== undefined && re.test(s.run));

test('the workflow runs on pull requests and may comment on them', () => {
  assert.ok(workflow.on.pull_request);
  assert.is(workflow.permissions['pull-requests'], 'write');
});

test('it runs ctc check, ctc lint and ctc diff --format markdown against the base branch, and posts the diff', () => {
  assert.ok(running(/npx ctc check\b/), 'ctc check');
  assert.ok(running(/npx ctc lint\b/), 'ctc lint');
  const diff = running(/npx ctc diff --format markdown "origin\/\$\{\{ github\.base_ref \}\}" -- \$CTC_SOURCES > ctc-diff\.md/);
  assert.ok(diff, 'ctc diff against the base branch, to a file');
  const post = steps.find((s) => s.uses?.startsWith('actions/github-script@'));
  assert.ok(post && steps.indexOf(post) > steps.indexOf(diff!), 'the diff is posted after it is made');
  assert.match(post!.with!.script, /readFileSync\('ctc-diff\.md'/);
  assert.match(post!.with!.script, /createComment/);
});

test("the problem matcher reads ctc lint's lines", () => {
  const json = /cat > "\$RUNNER_TEMP\/ctc-lint\.json" <<'EOF'\n([\s\S]*?)\nEOF/.exec(running(/ctc lint/)!.run!)![1];
  const pattern = JSON.parse(json).problemMatcher[0].pattern[0];
  const line = formatFinding({ rule: 'seccomp-required', severity: 'error', message: 'no filter', plan: 'app.plan', step: 9, kind: 'proc.exec', source: 'app.ct.ts:8:5' });
  const m = new RegExp(pattern.regexp).exec(line);
  assert.ok(m, line);
  assert.equal([m![pattern.file], m![pattern.line], m![pattern.column], m![pattern.severity], m![pattern.code]], ['app.ct.ts', '8', '5', 'error', 'seccomp-required']);
});

test.run();
