// A container an ordinary user runs: root inside is that user outside, the
// other ids its subordinate ones (/etc/subuid). It shows its maps and ids.
//   ctc build examples/rootless.ct.ts && ctc run examples/rootless.plan
// (as a user with a line in /etc/subuid and /etc/subgid: ctc says what to add)
import { container, hostRootfs, rootless } from 'ctc';

export default container({
  ...rootless,
  hostname: 'rootless',
  rootfs: hostRootfs(),
  process: {
    args: ['/bin/sh', '-c', 'echo uid_map:; cat /proc/self/uid_map; echo "id: $(id -u):$(id -g)"; touch /tmp/made && stat -c "made: %u:%g" /tmp/made'],
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
  },
});
