// Memory, pids and CPU limits, shown from inside the container: it reads its
// own cgroup files (v1 or v2, whichever this host has).
import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  hostname: 'limits',
  rootfs: hostRootfs(),
  mounts: [...defaultMounts],
  resources: {
    memory: { limit: '64Mi' },
    pids: { limit: 32 },
    cpu: { shares: 512, quota: 50000, period: 100000 },
  },
  process: {
    args: [
      '/bin/sh',
      '-c',
      'cd /sys/fs/cgroup; for f in memory.max memory/memory.limit_in_bytes pids.max pids/pids.max cpu.max cpu/cpu.cfs_quota_us; do ' +
        '[ -f "$f" ] && echo "$f: $(cat "$f")"; done; true',
    ],
  },
});
