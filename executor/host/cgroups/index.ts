// Picks the cgroup driver for this host: pure v2 when /sys/fs/cgroup is a
// cgroup2 mount, v1 (legacy or hybrid) when it holds v1 hierarchies.

import { statfsSync } from 'node:fs';
import { CtcError } from '../../../common/error.ts';
import type { CgroupDriver } from './driver.ts';
import { CgroupV1 } from './v1.ts';
import { CgroupV2 } from './v2.ts';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const TMPFS_MAGIC = 0x01021994;

export function detectCgroups(root = '/sys/fs/cgroup'): CgroupDriver {
  let type: number;
  try {
    type = Number(statfsSync(root).type);
  } catch {
    throw new CtcError('CT_CGROUP_LAYOUT', `${root} is not mounted`, { hint: 'ctc needs cgroups mounted at /sys/fs/cgroup' });
  }
  if (type === CGROUP2_SUPER_MAGIC) return new CgroupV2(root);
  if (type === TMPFS_MAGIC) {
    const v1 = new CgroupV1();
    if (v1.hierarchies.length) return v1;
  }
  throw new CtcError('CT_CGROUP_LAYOUT', `cannot tell the cgroup layout of ${root}`, {
    hint: 'expected a cgroup2 mount, or a tmpfs holding cgroup v1 hierarchies',
  });
}

export type { CgroupDriver, CgroupLayout, CgroupMount, DeviceWrites, FileWrite } from './driver.ts';
export { isLimitKey, type LimitKey } from './keys.ts';
