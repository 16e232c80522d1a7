import type { Device, DeviceRule } from './types.ts';

/**
 * The devices the OCI runtime spec requires in every container with its own
 * /dev; created when /dev is a fresh tmpfs.
 */
export const defaultDevices: readonly Device[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666 },
];

/** The symlinks a fresh /dev carries: path → target. */
export const defaultDevLinks: Readonly<Record<string, string>> = {
  '/dev/fd': '/proc/self/fd',
  '/dev/stdin': '/proc/self/fd/0',
  '/dev/stdout': '/proc/self/fd/1',
  '/dev/stderr': '/proc/self/fd/2',
  '/dev/ptmx': 'pts/ptmx',
};

/**
 * The device cgroup rules of a container: deny everything; the executor then
 * allows the default devices and the container's own devices (`devices`).
 * Without a rule list, a process with CAP_MKNOD could open the host's disks.
 */
export const defaultDeviceRules: readonly DeviceRule[] = [{ allow: false, access: 'rwm' }];
