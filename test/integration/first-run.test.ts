// The first run of a plan starts no Node (issue 21, "one executor"): with
// an empty run-image cache, `dist/ctc run X.plan` builds the image from the
// plan's text in C (native/launcher/plan-image.h) and applies it. Seen
// under strace: no exec but ctc-init's and the container's own; the
// container ran (its output, its cgroup made), and nothing is left. And a
// failure at every step on that path is undone by the launcher alone.

import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlan } from '../../plan/text.ts';
import { busyboxRootfs } from '../busybox.ts';
import { ctc, example, hostResidue, mountTable, root, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-first-run-');
test.after(() => tmp.remove());

const launcher = join(root, 'dist', 'ctc');
/** stands in for Node: says what the launcher handed over (a failure it undid: CTC_NATIVE_FAILED), and nothing else runs */
const reporter = join(tmp.dir, 'report-only');
writeFileSync(reporter, '#!/bin/sh\necho "handed over to Node; native failure: $CTC_NATIVE_FAILED" >&2\nexit 1\n');
chmodSync(reporter, 0o755);

/** hello and limits as the examples are; dir's source with its root a busybox directory of this test's own. */
function buildPlans(): Record<string, string> {
  const rootfs = busyboxRootfs(join(tmp.dir, 'busybox'));
  const dirSource = join(tmp.dir, 'dir.ct.ts');
  writeFileSync(dirSource, readFileSync(example('dir.ct.ts'), 'utf8').replaceAll('/var/lib/ctc-examples/busybox', rootfs));
  const sources: Record<string, string> = { hello: example('hello.ct.ts'), limits: example('limits.ct.ts'), dir: dirSource };
  const plans: Record<string, string> = {};
  for (const [name, source] of Object.entries(sources)) {
    plans[name] = join(tmp.dir, `${name}.plan`);
    const r = ctc(['build', source, '-o', plans[name]]);
    assert.is(r.status, 0, r.stderr);
  }
  return plans;
}

/**
 * What this test's containers could leave: the host is shared with other
 * runs, so residue is counted only where it is ours: names holding our ids,
 * and ctc-init processes started with our cache dir in their environment.
 */
function ours(): string[] {
  return hostResidue().filter((entry) => {
    const pid = /^process (\d+) /.exec(entry)?.[1];
    if (!pid) return entry.includes('first-');
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(tmp.dir);
    } catch {
      return false; // gone meanwhile
    }
  });
}

let plans: Record<string, string> = {};
let cacheCount = 0;
/** An empty cache dir of its own: the plan has never run on this "host". */
function freshCache(): string {
  const dir = join(tmp.dir, `cache-${cacheCount++}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

const expected: Record<string, RegExp> = {
  hello: /hostname: hello\npid: 1\nuid=0\(root\)/,
  limits: /pids\.max: 32|pids\/pids\.max: 32/,
  dir: /hostname: from-dir\n\/tmp is writable\n\/ is read-only/,
};

test('setup: the plans', () => {
  plans = buildPlans();
});

for (const name of ['hello', 'limits', 'dir']) {
  test(`${name}: the first run execs no node (strace), the container runs, and nothing is left`, () => {
    const cache = freshCache();
    const log = join(tmp.dir, `${name}.strace`);
    const id = `first-${name}`;
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve,execveat,mkdir', '-o', log, launcher, 'run', '--id', id, plans[name]], {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, CTC_CACHE_DIR: cache, CTC_NODE: reporter },
      timeout: 60_000,
    });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, expected[name]);
    const trace = readFileSync(log, 'utf8');
    const execs = trace.split('\n').filter((l) => /execve(at)?\(/.test(l));
    assert.ok(execs.length >= 2, 'strace saw the execs');
    assert.not.ok(
      execs.some((l) => /node|ctc\.mjs/.test(l)),
      `no exec of node:\n${execs.join('\n')}`,
    );
    assert.ok(
      execs.some((l) => l.includes('dist/ctc-init')),
      'ctc-init ran the init steps',
    );
    assert.ok(new RegExp(`mkdir\\("/sys/fs/cgroup/[^"]*ctc/${id}", 0777\\) = 0`).test(trace), 'its cgroup was made');
    assert.ok(trace.includes(`mkdir("/run/ctc/${id}", 0711) = 0`), 'its state dir was made');
    assert.not.ok(existsSync(join('/run/ctc', id)), 'its state dir is gone');
    assert.equal(readdirSync(cache), [], 'the image built from the plan is not written to the cache');
    assert.equal(ours(), [], 'nothing is left on the host');
  });
}

test('run -d, exec and delete of a plan never run before: all in the launcher, the cache left empty', () => {
  const source = join(tmp.dir, 'sleeper.ct.ts');
  writeFileSync(source, readFileSync(example('hello.ct.ts'), 'utf8').replace(/args: \[[^\]]*\]/, "args: ['/bin/sh', '-c', 'sleep 60']"));
  const file = join(tmp.dir, 'sleeper.plan');
  assert.is(ctc(['build', source, '-o', file]).status, 0);
  const cache = freshCache();
  const env = { ...process.env, CTC_CACHE_DIR: cache, CTC_NODE: reporter };
  const out = join(tmp.dir, 'sleeper.out');
  const fd = openSync(out, 'w');
  const started = spawnSync(launcher, ['run', '-d', '--id', 'first-sleeper', file], { env, stdio: ['ignore', fd, fd], timeout: 60_000 });
  closeSync(fd);
  try {
    assert.is(started.status, 0, readFileSync(out, 'utf8'));
    const ex = spawnSync(launcher, ['exec', 'first-sleeper', '/bin/sh', '-c', 'echo "in $(hostname)"'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.is(ex.status, 0, ex.stderr);
    assert.is(ex.stdout, 'in hello\n');
  } finally {
    const del = spawnSync(launcher, ['delete', '--force', 'first-sleeper'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.is(del.status, 0, del.stderr);
  }
  assert.equal(readdirSync(cache), []);
  assert.equal(ours(), []);
});

test('a failure at each step of the first run is undone by the launcher alone (no Node runs even to report it)', () => {
  for (const name of ['hello', 'limits', 'dir']) {
    for (const step of parsePlan(readFileSync(plans[name], 'utf8')).steps) {
      const cache = freshCache();
      const r = spawnSync(launcher, ['run', '--id', `first-fail-${name}`, plans[name]], {
        encoding: 'utf8',
        input: '',
        env: { ...process.env, CTC_CACHE_DIR: cache, CTC_FAIL_STEP: String(step.n), CTC_NODE: reporter },
        timeout: 60_000,
      });
      const where = `${name} step ${step.n} ${step.kind}`;
      assert.is(r.status, 1, `${where}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`native failure: ${step.n}:5`), `${where} failed in the launcher (EIO): ${r.stderr}`);
      assert.equal(ours(), [], `nothing is left after a failure at ${where}`);
      assert.equal(
        mountTable().filter((m) => m.includes('first-') || m.includes(tmp.dir)),
        [],
        `no mount of ours is left after ${where}`,
      );
      assert.equal(readdirSync(cache), [], `${where}: no image written`);
    }
  }
  // and Node words it, from the plan alone
  const limit = parsePlan(readFileSync(plans.limits, 'utf8')).steps.find((s) => s.kind === 'cgroup.limit')!;
  const r = spawnSync(launcher, ['run', '--id', 'first-fail-worded', plans.limits], {
    encoding: 'utf8',
    input: '',
    env: { ...process.env, CTC_CACHE_DIR: freshCache(), CTC_FAIL_STEP: String(limit.n), CTC_NODE: process.execPath },
    timeout: 60_000,
  });
  assert.is(r.status, 1);
  assert.match(r.stderr, `error CT_STEP_FAILED: step ${limit.n} cgroup.limit`);
  assert.equal(ours(), []);
});

test.run();
