// ctc update as users type it (issue 22): one size syntax (runc's 96m,
// Kubernetes' 96Mi, 96MB), each read back from the container's stats; an
// update that names no limit is a usage error, not a silent success; a size
// no one writes lists the forms. Needs root.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxBundle } from '../busybox.ts';
import { cli, ctc, hostResidue, tempDir } from '../helpers.ts';

const tmp = tempDir('ctc-update-');
const root = join(tmp.dir, 'state');
const id = `upd-${process.pid}`;
/** What this file's containers left (other tests may run meanwhile). */
const mine = () => hostResidue([root]).filter((l) => l.includes(root) || [id].some((id) => l.includes(id)));
const before = mine();
const R = (...args: string[]) => ctc(['--root', root, ...args]);
test.after(() => {
  R('delete', '--force', id);
  tmp.remove();
});

const limit = () => JSON.parse(R('stats', id).stdout).data.memory.usage.limit as number;

test('update --memory takes 96m, 96Mi and 96MB alike; no limit named is CT_USAGE; a size no one writes lists the forms', () => {
  const dir = busyboxBundle(join(tmp.dir, 'bundle'), {
    id,
    args: ['sleep', '60'],
    linux: { resources: { memory: { limit: 64 * 2 ** 20 } } },
  });
  const run = spawnSync(process.execPath, [cli, '--root', root, 'run', '-d', '--bundle', dir, id], { stdio: 'ignore', timeout: 30_000 });
  assert.is(run.status, 0);
  for (const [size, mib] of [
    ['96m', 96],
    ['97Mi', 97],
    ['98MB', 98],
    ['99M', 99],
  ] as const) {
    const u = R('update', '--memory', size, id);
    assert.is(u.status, 0, u.stderr);
    assert.is(limit(), mib * 2 ** 20, size);
  }
  const none = R('update', id);
  assert.is(none.status, 2, 'a usage error');
  assert.match(none.stderr, /CT_USAGE: update of \S+ names no limit to change/);
  const bad = R('update', '--memory', '96 megs', id);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /'96 megs' is not a size: .*64m.*64Mi.*64MB/);
  assert.is(limit(), 99 * 2 ** 20, 'the refused updates changed nothing');
  for (const unlimited of ['max', '-1']) {
    assert.is(R('update', '--memory', '64m', id).status, 0);
    const u = R('update', '--memory', unlimited, id);
    assert.is(u.status, 0, u.stderr);
    assert.ok(limit() > 2 ** 62, `${unlimited}: no limit (v1's page-aligned huge number, v2's max)`);
  }
  assert.is(R('delete', '--force', id).status, 0);
  assert.equal(mine(), before);
});

test.run();
