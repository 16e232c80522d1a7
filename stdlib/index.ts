// What an app.ct.ts imports as 'ctc'.
export type * from './types.ts';
export { container } from './container.ts';
export { defaultNamespaces } from './namespaces.ts';
export { defaultMounts } from './mounts.ts';
export { defaultDevices, defaultDevLinks, defaultDeviceRules } from './devices.ts';
export { capabilities, capabilityNumbers, defaultCapabilities, capabilitySets } from './capabilities.ts';
export { rlimitNumbers } from './rlimits.ts';
export { maskedPaths, readonlyPaths } from './paths.ts';
export { dirRootfs, hostRootfs, imageRootfs } from './rootfs.ts';
export { rootless, rootlessMappings } from './rootless.ts';
export { bytes } from './units.ts';
export type {
  Errno,
  ErrnoName,
  Seccomp,
  SeccompAction,
  SeccompArch,
  SeccompArg,
  SeccompArgIndex,
  SeccompFlag,
  SeccompRule,
  SeccompValue,
  Syscall,
  SyscallArch,
} from './seccomp.ts';
export { cloneNamespaceFlags, defaultSeccomp } from './seccomp.ts';
export { errnoNumbers, syscallNumbers } from './syscalls.ts';
