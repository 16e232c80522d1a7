// Mount option names and the mount(2) flags they stand for. Checks use it to
// sort a mount's options into flags and filesystem data; the wire encoder
// uses it to turn a step's flags into bits.

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  REC: 0x4000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

/** name → [flags it sets, flags it clears] */
export const mountFlags: Readonly<Record<string, readonly [number, number]>> = {
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0],
  suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  noatime: [MS.NOATIME, 0],
  atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0],
  diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0],
  nostrictatime: [0, MS.STRICTATIME],
  bind: [MS.BIND, 0],
  rbind: [MS.BIND | MS.REC, 0],
};

/** Propagation names; applied with their own mount(2) call, after the mount. */
export const propagationFlags: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/**
 * 'idmap' (OCI 1.2's name): a bind whose files show through the container's
 * user namespace mapping, so host ownership is kept (mount_setattr
 * MOUNT_ATTR_IDMAP). Not a mount(2) flag: lowering makes it a mount.idmap step.
 */
export const IDMAP = 'idmap';

export const isFlagOption = (o: string) => Object.hasOwn(mountFlags, o) || Object.hasOwn(propagationFlags, o) || o === IDMAP;

/** Filesystem data options the stdlib's types allow: passed to the kernel as written. */
export const isDataOption = (o: string) => /^(mode|size|nr_inodes|uid|gid|ptmxmode)=[0-9A-Za-z%]+$/.test(o) || o === 'newinstance';

/** mount(2) flags for a list of names: [flags, propagation]. */
export function flagBits(names: readonly string[]): [number, number] {
  let flags = 0;
  let prop = 0;
  for (const n of names) {
    if (Object.hasOwn(propagationFlags, n)) prop = propagationFlags[n];
    else {
      const [set, clear] = mountFlags[n];
      flags = (flags & ~clear) | set;
    }
  }
  return [flags, prop];
}
