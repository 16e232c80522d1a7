// Files ctc writes into a project it does not own: a pull request can hold
// a symlink where `ctc build` puts the plan (app.plan -> /etc/cron.d/x) or
// where `ctc fmt` rewrites a source. Root in CI wrote through it. Now the
// plan (and the formatted source) go to a temp name made O_EXCL|O_NOFOLLOW,
// then rename() replaces the link itself: the file it pointed at is never
// written.

import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, root, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-hostile-writes-');
test.after(() => tmp.remove());

const victimText = 'the victim, as it was\n';

function project(name: string): { dir: string; victim: string } {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, '.git'), { recursive: true });
  const victim = join(tmp.dir, `${name}-victim`);
  writeFileSync(victim, victimText, { mode: 0o600 });
  return { dir, victim };
}

test('ctc build: a symlink planted at the plan is replaced, never written through (launcher and node)', () => {
  for (const [how, cmd, args] of [
    ['launcher', join(root, 'dist', 'ctc'), []],
    ['node', process.execPath, [cli]],
  ] as const) {
    const { dir, victim } = project(`build-${how}`);
    writeFileSync(
      join(dir, 'app.ct.ts'),
      `import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'] } });\n`,
    );
    symlinkSync(victim, join(dir, 'app.plan'));
    const r = spawnSync(cmd, [...args, 'build', 'app.ct.ts'], { cwd: dir, encoding: 'utf8', input: '' });
    assert.is(r.status, 0, `${how}: ${r.stderr}`);
    assert.is(readFileSync(victim, 'utf8'), victimText, `${how}: the victim is untouched`);
    assert.ok(lstatSync(join(dir, 'app.plan')).isFile(), `${how}: the link became the plan`);
    assert.match(readFileSync(join(dir, 'app.plan'), 'utf8'), /^ctc-plan 1\n/);
  }
});

test('ctc build: a symlink planted at the temp name is CT_WRITE [EEXIST], and nothing is written through it', () => {
  const { dir, victim } = project('build-tmp');
  writeFileSync(
    join(dir, 'app.ct.ts'),
    `import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/true'] } });\n`,
  );
  symlinkSync(victim, join(dir, 'app.plan.tmp'));
  const r = spawnSync(process.execPath, [cli, 'build', 'app.ct.ts'], { cwd: dir, encoding: 'utf8', input: '' });
  assert.is(r.status, 1);
  assert.match(r.stderr, /error CT_WRITE: cannot write app\.plan\.tmp \[EEXIST\]/);
  assert.is(readFileSync(victim, 'utf8'), victimText);
});

test('ctc fmt: a symlinked .ct is replaced by its formatted text, the file it pointed at untouched', () => {
  const { dir, victim } = project('fmt');
  writeFileSync(victim, 'container {\nprocess.args /bin/true\n}\n', { mode: 0o600 });
  const before = readFileSync(victim, 'utf8');
  symlinkSync(victim, join(dir, 'app.ct'));
  const r = spawnSync(process.execPath, [cli, 'fmt', 'app.ct'], { cwd: dir, encoding: 'utf8', input: '' });
  assert.is(readFileSync(victim, 'utf8'), before, r.stderr);
});

test.run();
