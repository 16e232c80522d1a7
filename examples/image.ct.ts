// A root from an image archive: busybox, as `docker save` or an OCI image
// layout would hold it. Make the archive first (it is built from Debian's
// busybox-static, so nothing is downloaded):
//
//   node scripts/busybox-image.mjs examples/busybox.tar
//
// `ctc build` records the image's digest in the plan; the first run unpacks
// it into the cache under the state root. The root is writable through an
// overlay whose writes go with the container: the cached image never changes.
import { container, defaultMounts, imageRootfs } from 'ctc';

export default container({
  hostname: 'from-image',
  rootfs: imageRootfs('busybox.tar'),
  mounts: defaultMounts,
  process: {
    args: ['/bin/sh', '-c', 'echo "hostname: $(hostname)"; echo written > /etc/motd; cat /etc/motd; ls /'],
    env: ['PATH=/bin', 'HOME=/root'],
  },
});
