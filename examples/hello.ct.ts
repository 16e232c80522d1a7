// The smallest useful container: the host's own programs, read-only, in new
// namespaces. It prints what it sees of itself.
import { container, defaultMounts, hostRootfs } from 'ctc';

export default container({
  hostname: 'hello',
  rootfs: hostRootfs(),
  mounts: defaultMounts,
  process: {
    args: ['/bin/sh', '-c', 'echo "hostname: $(hostname)"; echo "pid: $$"; id; ls /'],
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
  },
});
