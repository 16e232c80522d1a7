import { isBind } from '../check/mounts.ts';
import { IDMAP, isDataOption } from '../../plan/mount-options.ts';
import type { Spec, SpecDevice, SpecMount } from '../spec.ts';
import { defaultDevices, defaultDevLinks } from '../../stdlib/devices.ts';
import type { Emitter } from './emit.ts';
import { rootDirOf } from './rootfs.ts';

export function lowerMounts(spec: Spec, out: Emitter): void {
  spec.mounts.forEach((m, i) => {
    const cause = `mounts[${i}]`;
    lowerMount(m, cause, out, spec);
    // A fresh /dev gets the devices the runtime spec requires.
    if (m.destination === '/dev' && m.type === 'tmpfs') lowerDevices(cause, out, spec);
  });
  spec.devices.forEach((d, i) => lowerDevice(d, `devices[${i}]`, out, spec));
}

/** In a user namespace the kernel refuses mknod: the host's node of the same path is bound instead (runc does the same). */
function lowerDevice(d: SpecDevice, cause: string, out: Emitter, spec: Spec): void {
  if (spec.namespaces.includes('user')) out.emit('mount.bind', { src: d.path, dst: d.path, flags: ['bind'] }, cause);
  else out.emit('dev.node', { ...d }, cause);
}

function lowerMount(m: SpecMount, cause: string, out: Emitter, spec: Spec): void {
  const { mountLabel, namespaces, cgroupsPath } = spec;
  const flags = m.options.filter((o) => !isDataOption(o));
  if (isBind(m) && m.options.includes(IDMAP)) {
    // the root as the host names it (rootfs.tmpfs/rootfs.bind's dir): the target is resolved beneath it
    const root = rootDirOf(spec);
    out.emit('mount.idmap', { root, src: m.source, dst: m.destination, flags: flags.filter((f) => f !== IDMAP) }, cause);
  } else if (isBind(m)) {
    const withBind = flags.includes('bind') || flags.includes('rbind') ? flags : ['rbind', ...flags];
    out.emit('mount.bind', { src: m.source, dst: m.destination, flags: withBind }, cause);
  } else if (m.type === 'cgroup' || m.type === 'cgroup2') {
    // Without a cgroup namespace a fresh cgroup mount would show the host's whole tree: the container's own cgroup is bound instead.
    // In a user namespace the kernel mounts no cgroup v1 hierarchy: bound then too.
    const bind = !namespaces.includes('cgroup') || namespaces.includes('user');
    out.emit('mount.cgroup', { dst: m.destination, flags, ...(bind ? { path: cgroupsPath } : {}) }, cause);
  } else {
    // SELinux labels what the container mounts itself; host paths keep theirs.
    const label = mountLabel !== undefined && ['tmpfs', 'devpts', 'mqueue'].includes(m.type) ? [`context="${mountLabel}"`] : [];
    const data = [...m.options.filter(isDataOption), ...label].join(',');
    out.emit('mount.fs', { type: m.type, src: m.source, dst: m.destination, flags, data }, cause);
  }
}

function lowerDevices(cause: string, out: Emitter, spec: Spec): void {
  for (const d of defaultDevices)
    lowerDevice(
      { path: d.path, type: d.type, major: d.major, minor: d.minor, mode: d.mode, uid: d.uid ?? 0, gid: d.gid ?? 0 },
      cause,
      out,
      spec,
    );
  for (const [path, target] of Object.entries(defaultDevLinks)) out.emit('fs.symlink', { path, target }, cause);
}
