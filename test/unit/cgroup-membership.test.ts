// Where exec puts its process: the cgroup of each hierarchy the init is in
// (its /proc/<pid>/cgroup), matched to a hierarchy by its controllers in any
// order, and only where the exec'd process is not in it already. The
// integration side (a real init moved to a child cgroup) is in
// integration/exec-ns.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroupsOf, parseCgroups as parse, toJoin } from '../../executor/host/cgroups/membership.ts';

const init = parse('0::/ctc/a/inner\n2:cpuacct,cpu:/ctc/a\n9:name=systemd:/ctc/a');
const own = parse('0::/\n2:cpu,cpuacct:/ctc/a\n9:name=systemd:/user.slice');

test('each hierarchy is matched by its controllers, whatever their order', () => {
  assert.is(toJoin([], init, own), '/ctc/a/inner', 'the v2 tree');
  assert.is(toJoin(['cpu', 'cpuacct'], init, own), undefined, 'in it already: no write');
  assert.is(toJoin(['name=systemd'], init, own), '/ctc/a');
  assert.is(toJoin(['memory'], init, own), undefined, 'a hierarchy the init is not in is left alone');
});

test("this process's own cgroups as the kernel lists them", () => {
  const mine = cgroupsOf(process.pid);
  assert.ok(mine.length > 0);
  assert.ok(
    mine.every((m) => m.path.startsWith('/')),
    JSON.stringify(mine),
  );
});

test.run();
