// examples/ci/github-actions.yml: valid YAML (read with cosmiconfig's own
// YAML loader: no new dependency) whose steps are run here, as written, in a
// scratch repository with nested folders, a helper module, a new source and
// an orphaned plan: no list of sources or paths to keep by hand, one comment
// covering every changed container, a lint matcher that reads ctc lint.
// Mocked, as they cannot exist here: `npx` (a shim that runs the built ctc)
// and GitHub's API for the comment step (a recorder of the calls).

import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defaultLoaders } from 'cosmiconfig';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFinding } from '../../cli/lint.ts';
import { cli, root, tempDir } from '../helpers.ts';
import { scratchRepo, webSource } from '../scratch-repo.ts';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const file = join(root, 'examples', 'ci', 'github-actions.yml');
const text = readFileSync(file, 'utf8');
const workflow = defaultLoaders['.yaml'](file, text) as {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
};
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const running = (re: RegExp) => steps.find((s) => s.run !== undefined && re.test(s.run));
const ctcSteps = steps.filter((s) => s.run?.includes('npx ctc'));
const post = steps.find((s) => s.uses?.startsWith('actions/github-script@'))!;

test('the workflow runs on every pull request, keeps no list of sources, and may comment', () => {
  assert.ok('pull_request' in workflow.on);
  assert.is(workflow.on.pull_request, null, 'no paths: filter that could miss a helper, a .ct, a config or a plugin');
  assert.not.match(text, /CTC_SOURCES|git ls-files/);
  assert.is(workflow.permissions['pull-requests'], 'write');
  assert.equal(
    ctcSteps.map((s) => /npx ctc (\w+)/.exec(s.run!)![1]),
    ['diff', 'check', 'lint'],
  );
  assert.ok(steps.indexOf(post) > steps.indexOf(ctcSteps[0]), 'the diff is posted after it is made');
});

test("the problem matcher reads ctc lint's lines", () => {
  const json = /cat > "\$RUNNER_TEMP\/ctc-lint\.json" <<'EOF'\n([\s\S]*?)\nEOF/.exec(running(/ctc lint/)!.run!)![1];
  const pattern = JSON.parse(json).problemMatcher[0].pattern[0];
  const line = formatFinding({
    rule: 'seccomp-required',
    severity: 'error',
    message: 'no filter',
    plan: 'app.plan',
    step: 9,
    kind: 'proc.exec',
    source: 'app.ct.ts:8:5',
  });
  const m = new RegExp(pattern.regexp).exec(line);
  assert.ok(m, line);
  assert.equal(
    [m![pattern.file], m![pattern.line], m![pattern.column], m![pattern.severity], m![pattern.code]],
    ['app.ct.ts', '8', '5', 'error', 'seccomp-required'],
  );
});

/** GitHub's expressions in a step's env, for a pull request into main; any other is a failure. */
const expand = (v: string) => v.replace(/\$\{\{\s*github\.base_ref\s*\}\}/g, 'main');

/** Runs a step's script as GitHub's bash shell does (-eo pipefail), with `npx ctc` running the built ctc. */
function runStep(step: Step, cwd: string, bin: string, runnerTemp: string) {
  assert.not.match(step.run!, /\$\{\{/, 'no expression pasted into a script');
  const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v)]));
  for (const v of Object.values(env)) assert.not.match(v, /\$\{\{/);
  return spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: runnerTemp, NO_COLOR: '1' },
    timeout: 240_000,
  });
}

/** The github-script step, run against a recorder of GitHub's API: what it creates and updates. */
async function runPost(cwd: string, comments: { id: number; body: string }[]) {
  const api = {
    issues: {
      listComments: 'list',
      createComment: async ({ body }: { body: string }) => comments.push({ id: comments.length + 1, body }),
      updateComment: async ({ comment_id, body }: { comment_id: number; body: string }) =>
        (comments.find((c) => c.id === comment_id)!.body = body),
    },
  };
  const github = { rest: api, paginate: async () => comments.map((c) => ({ ...c })) };
  const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } };
  const require = createRequire(join(cwd, 'x.js'));
  const here = process.cwd();
  process.chdir(cwd); // the job's working directory, where the diff step wrote its file
  try {
    await new Function('require', 'github', 'context', `return (async () => {\n${post.with!.script}\n})();`)(require, github, context);
  } finally {
    process.chdir(here);
  }
}

test('its commands, run in a repository with nested containers, a changed helper, a new source and an orphaned plan', async () => {
  const repo = scratchRepo();
  const tools = tempDir('ctc-ci-');
  try {
    writeFileSync(join(tools.dir, 'npx'), `#!/bin/sh\n[ "$1" = ctc ] || exit 127\nshift\nexec "${process.execPath}" "${cli}" "$@"\n`);
    chmodSync(join(tools.dir, 'npx'), 0o755);
    // actions/checkout with fetch-depth 0: the base branch as origin/main, the pull request checked out.
    repo.git('update-ref', 'refs/remotes/origin/main', 'main');
    repo.git('checkout', '-q', '-b', 'pr');
    repo.write('lib/common.ct.ts', "export const hostname = 'web2';\n"); // only the helper: web's plan is stale
    repo.write('services/api/app.ct.ts', webSource("[...defaultCapabilities, 'CAP_SYS_MODULE']")); // new, no plan
    repo.write('services/old/app.plan', repo.read('services/db/app.plan')); // no source
    repo.git('add', '.');
    repo.git('commit', '-q', '-m', 'the pull request');

    const [diff, check, lint] = ctcSteps.map((s) => runStep(s, repo.dir, tools.dir, tools.dir));
    assert.is(diff.status, 0, diff.stderr);
    const md = repo.read('ctc-diff.md');
    assert.is(md.match(/^### /gm)?.length, 1, 'one document');
    assert.match(md, /· 2 plans$/m);
    assert.ok(md.includes('services/api/app.ct.ts (none at origin/main) → services/api/app.ct.ts'), md);
    assert.ok(md.includes('services/web/app.ct.ts at origin/main → services/web/app.ct.ts: 0 added, 0 removed, 1 changed'), md);
    // markdown escapes the underscores
    assert.match(md, /^- \*\*RISK_CAP_ADDED\*\* `app\.ct\.ts:11:\d+` \(services\/api\/app\.ct\.ts\): capability CAP\\_SYS\\_MODULE added/m);

    const comments: { id: number; body: string }[] = [];
    await runPost(repo.dir, comments);
    await runPost(repo.dir, comments); // the next push: the same comment, updated
    assert.is(comments.length, 1);
    assert.is(comments[0].body, `<!-- ctc diff -->\n${md}`);

    assert.is(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /^stale\s+services\/web\/app\.plan \(from services\/web\/app\.ct\.ts\)/m);
    assert.match(check.stdout, /^new\s+services\/api\/app\.plan \(from services\/api\/app\.ct\.ts\)/m);
    assert.match(check.stdout, /^orphaned\s+services\/old\/app\.plan/m);
    assert.match(check.stdout, /^3 sources, 3 plans: 1 stale, 1 new, 1 orphaned$/m);

    assert.is(lint.status, 1, lint.stdout + lint.stderr);
    assert.match(lint.stdout, /^::add-matcher::/m);
    assert.match(lint.stdout, /^services\/api\/app\.ct\.ts:11:\d+: error no-privileged-capabilities: .*CAP_SYS_MODULE/m);
  } finally {
    tools.remove();
    repo.done();
  }
});

test.run();
