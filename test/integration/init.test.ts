// `ctc init` end to end, as a user types it: init a folder, build, run —
// through the installed `ctc` (the native launcher, which hands a folder
// with a project config to Node). And a project config's state root and
// planDir, seen by a real run. Needs root.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctc, root, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-init-');
test.after(() => tmp.remove());

/** The installed command, not the bundled CLI. */
function installed(args: string[], cwd: string) {
  const r = spawnSync(join(root, 'dist', 'ctc'), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('ctc init DIR && cd DIR && ctc build app.ct.ts && ctc run', () => {
  const dir = join(tmp.dir, 'x');
  const init = installed(['init', dir], tmp.dir);
  assert.is(init.status, 0, init.stderr);
  const built = installed(['build', 'app.ct.ts'], dir);
  assert.is(built.status, 0, built.stderr);
  const run = installed(['run'], dir);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /^hello from app, pid 1$/m);
});

test('ctc init --lang ct DIR && cd DIR && ctc build app.ct && ctc run', () => {
  const dir = join(tmp.dir, 'ct');
  const init = installed(['init', '--lang', 'ct', dir], tmp.dir);
  assert.is(init.status, 0, init.stderr);
  const built = installed(['build', 'app.ct'], dir);
  assert.is(built.status, 0, built.stderr);
  const run = installed(['run'], dir);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /^hello from app, pid 1$/m);
});

test("a project config's state root and planDir, for a real run", () => {
  const state = join(tmp.dir, 'proj', 'state');
  // the project root (.git): a config is looked for up to it, never above
  mkdirSync(join(tmp.dir, 'proj', '.git'), { recursive: true });
  const config = join(tmp.dir, 'proj', 'ctc.config.json');
  writeFileSync(config, JSON.stringify({ root: './state', planDir: 'plans' }));
  const dir = join(tmp.dir, 'proj', 'web');
  assert.is(ctc(['init', dir]).status, 0);
  assert.is(ctc(['build', 'app.ct.ts'], { cwd: dir }).status, 0);
  assert.ok(existsSync(join(tmp.dir, 'proj', 'plans', 'web', 'app.plan')));

  // Detached, so the state is there to see: under the configured root. The
  // container commands read a project config only when --config names it.
  const run = ctc(['--config', config, 'run', '-d', '--id', 'ctc-init-test'], { cwd: dir });
  assert.is(run.status, 0, run.stderr);
  try {
    assert.equal(readdirSync(state), ['ctc-init-test']);
    const list = ctc(['--config', config, 'list', '--format', 'json'], { cwd: dir });
    assert.equal(
      JSON.parse(list.stdout).map((c: { id: string }) => c.id),
      ['ctc-init-test'],
    );
    const unconfigured = ctc(['list', '--format', 'json'], { cwd: dir });
    assert.not.ok(unconfigured.stdout.includes('ctc-init-test'), 'without --config, the default root');
  } finally {
    const del = ctc(['--config', config, 'delete', '--force', 'ctc-init-test'], { cwd: dir });
    assert.is(del.status, 0, del.stderr);
  }
  assert.equal(readdirSync(state), []);
});

test.run();
