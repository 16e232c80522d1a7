// What a ctc run can leave on a host, as a list of strings: cgroups under
// any ctc parent, mounts mentioning ctc, state dirs, ctc-init processes,
// network links, network namespaces and nft tables named ctc*. Used by
// the test runner (before vs after) and by tests.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ls = (dir) => {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
};

export function hostResidue(stateRoots = ['/run/ctc']) {
  const found = [];
  for (const h of ls('/sys/fs/cgroup')) {
    if (!h.isDirectory()) continue;
    // v2: /sys/fs/cgroup/ctc/<id>; v1 and hybrid: /sys/fs/cgroup/<hierarchy>/ctc/<id>
    const base = h.name === 'ctc' ? join('/sys/fs/cgroup', 'ctc') : join('/sys/fs/cgroup', h.name, 'ctc');
    for (const c of ls(base)) if (c.isDirectory()) found.push(`cgroup ${join(base, c.name)}`);
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountpoint = line.split(' ')[4];
    if (mountpoint && /ctc/.test(mountpoint)) found.push(`mount ${mountpoint}`);
  }
  for (const r of stateRoots) for (const e of ls(r)) found.push(`state ${join(r, e.name)}`);
  for (const p of ls('/proc')) {
    if (!/^\d+$/.test(p.name)) continue;
    try {
      // A zombie has exited; reaping it is its parent's (often pid 1's) business.
      const zombie = / Z /.test(readFileSync(`/proc/${p.name}/stat`, 'utf8').replace(/^.*\)/s, ')'));
      if (!zombie && readFileSync(`/proc/${p.name}/comm`, 'utf8').trim() === 'ctc-init') found.push(`process ${p.name} ctc-init`);
    } catch {
      // gone meanwhile
    }
  }
  if (existsSync('/usr/sbin/ip') || existsSync('/sbin/ip')) {
    try {
      for (const l of execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n')) {
        const name = l.split(': ')[1];
        if (name && /ctc|veth/.test(name)) found.push(`link ${name}`);
      }
    } catch {
      // no iproute2: links are not checked
    }
  }
  for (const e of ls('/run/netns')) if (/ctc/.test(e.name)) found.push(`netns ${e.name}`);
  try {
    for (const l of execFileSync('nft', ['list', 'tables'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')) {
      if (/^table \S+ ctc/.test(l)) found.push(`nft ${l}`);
    }
  } catch {
    // no nft: nothing can have been published
  }
  return found;
}
