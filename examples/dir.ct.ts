// A root from a prepared directory (an unpacked image, a debootstrap), used
// as it is and kept read-only. Make one first:
//
//   node scripts/busybox-image.mjs --rootfs /var/lib/ctc-examples/busybox
//
// The directory is bound as the root: nothing is copied, and with readonly
// the container cannot change it; /tmp is its own tmpfs.
import { container, defaultMounts, dirRootfs } from 'ctc';

export default container({
  hostname: 'from-dir',
  rootfs: dirRootfs('/var/lib/ctc-examples/busybox', { readonly: true }),
  mounts: [...defaultMounts, { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] }],
  process: {
    args: ['/bin/sh', '-c', 'echo "hostname: $(hostname)"; touch /tmp/ok && echo "/tmp is writable"; touch /root-file 2>/dev/null || echo "/ is read-only"'],
    env: ['PATH=/bin'],
  },
});
