import { defineRule, firstOf, stepsOf } from '../rule.ts';

export const noRwHostMounts = defineRule({
  id: 'no-rw-host-mounts',
  description: 'host paths are bound into the container read-only',
  options: {
    allow: { type: 'strings', default: [], doc: 'host paths (bind sources) that may be mounted read-write' },
  },
  *check(plan, { allow }) {
    for (const bind of stepsOf(plan, 'mount.bind')) {
      const { src, dst, flags = [] } = bind.args;
      if (!flags.includes('ro') && !allow.includes(src)) {
        yield { message: `the host's ${src} is mounted read-write at ${dst}: the container can change it on the host`, step: bind };
      }
    }
    const root = firstOf(plan, 'rootfs.bind');
    if (root && !firstOf(plan, 'rootfs.readonly') && !allow.includes(root.args.dir)) {
      yield {
        message: `the host's ${root.args.dir} is the container's root, read-write: the container can change it on the host`,
        step: root,
      };
    }
  },
});

export const readonlyRootfs = defineRule({
  id: 'readonly-rootfs',
  description: 'the container cannot write to its root filesystem',
  options: {
    allowTmpfs: {
      type: 'boolean',
      default: true,
      doc: 'accept a root on a fresh tmpfs (hostRootfs()): writable, but it holds nothing of the host and goes with the container',
    },
  },
  *check(plan, { allowTmpfs }) {
    const dir = firstOf(plan, 'rootfs.bind');
    if (dir && !firstOf(plan, 'rootfs.readonly')) {
      yield { message: `the root (${dir.args.dir}) stays writable: it is never remounted read-only`, step: dir };
    }
    const tmpfs = firstOf(plan, 'rootfs.tmpfs');
    if (tmpfs && !allowTmpfs) yield { message: 'the root is a writable tmpfs', step: tmpfs };
  },
});
