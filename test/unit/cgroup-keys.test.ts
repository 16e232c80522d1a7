// The limit table: each key's files on v1 and v2 and the conversions between
// them; and the v2 driver's controller files, against a temporary directory
// standing in for a v2 tree with controllers (this host's cgroup2 tree has
// none but hugetlb, so the real files cannot all be had here).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CtcError } from '../../common/error.ts';
import { blkioToIoWeight, sharesToWeight, v1Writes, v2Writes } from '../../executor/host/cgroups/keys.ts';
import { CgroupV2 } from '../../executor/host/cgroups/v2.ts';
import { tempDir } from '../helpers.ts';

test('shares → weight and blkio weight → io.weight, as runc and crun convert them', () => {
  assert.equal([2, 1024, 262144].map(sharesToWeight), [1, 39, 10000]);
  assert.equal([10, 500, 1000].map(blkioToIoWeight), [1, 4950, 10000]);
});

test('v1 files per key', () => {
  assert.equal(v1Writes('memory.limit', '1024'), [['memory', 'memory.limit_in_bytes', '1024']]);
  assert.equal(v1Writes('cpu.max', 'max 100000'), [
    ['cpu', 'cpu.cfs_period_us', '100000'],
    ['cpu', 'cpu.cfs_quota_us', '-1'],
  ]);
  assert.equal(v1Writes('pids.limit', '-1'), [['pids', 'pids.max', 'max']]);
  assert.equal(v1Writes('blkio.read-bps', '8:0 1048576'), [['blkio', 'blkio.throttle.read_bps_device', '8:0 1048576']]);
  assert.equal(v1Writes('hugetlb.limit', '2MB 4194304'), [['hugetlb', 'hugetlb.2MB.limit_in_bytes', '4194304']]);
  assert.throws(
    () => v1Writes('unified', 'memory.high 1'),
    (e: unknown) => e instanceof CtcError && e.code === 'CT_CGROUP_LAYOUT',
  );
});

test('v2 files per key, with the conversions', () => {
  const none = () => undefined;
  assert.equal(v2Writes('cpu.shares', '1024', none), [['cpu', 'cpu.weight', '39']]);
  assert.equal(v2Writes('memory.limit', '-1', none), [['memory', 'memory.max', 'max']]);
  assert.equal(
    v2Writes('memory.swap', '300', (f) => (f === 'memory.max' ? '100' : undefined)),
    [['memory', 'memory.swap.max', '200']],
    'OCI swap is memory+swap',
  );
  assert.equal(v2Writes('blkio.weight', '500', none), [['io', 'io.weight', 'default 4950']]);
  assert.equal(v2Writes('blkio.write-iops', '8:16 300', none), [['io', 'io.max', '8:16 wiops=300']]);
  assert.equal(v2Writes('hugetlb.limit', '1GB 0', none), [['hugetlb', 'hugetlb.1GB.max', '0']]);
  assert.equal(v2Writes('unified', 'memory.high 5000000', none), [['memory', 'memory.high', '5000000']]);
  for (const key of ['memory.swappiness', 'memory.oom-kill-disable', 'cpu.rt-runtime', 'net.classid'] as const) {
    assert.throws(
      () => v2Writes(key, '1', none),
      (e: unknown) => e instanceof CtcError && e.code === 'CT_CGROUP_LAYOUT',
      key,
    );
  }
});

test("the v2 driver enables the tree's controllers down to the cgroup and writes its files (a directory standing in for a v2 tree)", () => {
  const t = tempDir();
  try {
    const root = t.dir;
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids\n');
    writeFileSync(join(root, 'cgroup.subtree_control'), '\n');
    const v2 = new CgroupV2(root);
    v2.create('/ctc/c1');
    assert.is(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8'), '+cpuset +cpu +io +memory +hugetlb +pids');
    assert.is(readFileSync(join(root, 'ctc', 'cgroup.subtree_control'), 'utf8'), '+cpuset +cpu +io +memory +hugetlb +pids');
    const leaf = join(root, 'ctc', 'c1');
    for (const f of [
      'memory.max',
      'memory.swap.max',
      'cpu.weight',
      'cpu.max',
      'pids.max',
      'io.max',
      'io.weight',
      'hugetlb.2MB.max',
      'cpuset.cpus',
    ]) {
      writeFileSync(join(leaf, f), 'max\n');
    }
    const previous = v2.limit('/ctc/c1', 'memory.limit', String(64 * 2 ** 20));
    assert.equal(previous, [[join(leaf, 'memory.max'), 'max']], 'the old content, for update to restore');
    v2.limit('/ctc/c1', 'memory.swap', String(96 * 2 ** 20));
    v2.limit('/ctc/c1', 'cpu.shares', '512');
    v2.limit('/ctc/c1', 'cpu.max', '50000 100000');
    v2.limit('/ctc/c1', 'pids.limit', '-1');
    v2.limit('/ctc/c1', 'blkio.read-bps', '8:0 1048576');
    v2.limit('/ctc/c1', 'hugetlb.limit', '2MB 4194304');
    v2.limit('/ctc/c1', 'cpuset.cpus', '0-1');
    const read = (f: string) => readFileSync(join(leaf, f), 'utf8');
    assert.equal(
      ['memory.max', 'memory.swap.max', 'cpu.weight', 'cpu.max', 'pids.max', 'io.max', 'hugetlb.2MB.max', 'cpuset.cpus'].map(read),
      [String(64 * 2 ** 20), String(32 * 2 ** 20), '20', '50000 100000', 'max', '8:0 rbps=1048576', '4194304', '0-1'],
    );
    mkdirSync(join(root, 'other'));
    assert.throws(
      () => v2.limit('/other', 'memory.limit', '1'),
      (e: unknown) => e instanceof CtcError && /memory controller is not enabled/.test(e.message),
    );
  } finally {
    t.remove();
  }
});

test.run();
