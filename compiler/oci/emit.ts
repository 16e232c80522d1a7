// A checked Spec → the OCI runtime config that makes runc do what ctc's plan
// does. The inverse of read.ts: reading the result back gives the same Spec
// (for a prepared-directory root).

import { isBind } from '../check/mounts.ts';
import { type Spec, joinOf } from '../spec.ts';
import type { SpecDeviceRule } from '../../plan/limits.ts';
import { ociSeccompOf } from '../seccomp/oci.ts';
import { OCI_VERSION, type OciConfig, type OciDeviceRule, type OciMount } from './config.ts';

export interface EmitOptions {
  /** root.path: the prepared directory, or the bundle's own rootfs */
  rootPath: string;
  /** mounts that build the root (a host root's mirrored paths), before the spec's own */
  rootMounts?: OciMount[];
  /** fills {id} in cgroupsPath: runc does not substitute it */
  id: string;
}

export function ociFromSpec(spec: Spec, o: EmitOptions): OciConfig {
  const p = spec.process;
  const { memory, pids, cpu, devices } = spec.resources;
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: p.terminal,
      ...(p.terminal && p.consoleSize ? { consoleSize: { height: p.consoleSize.rows, width: p.consoleSize.cols } } : {}),
      user: {
        uid: p.user.uid,
        gid: p.user.gid,
        ...(p.umask === undefined ? {} : { umask: p.umask }),
        ...(p.user.additionalGids.length ? { additionalGids: [...p.user.additionalGids] } : {}),
      },
      args: [...p.args],
      env: [...p.env],
      cwd: p.cwd,
      ...(p.capabilities ? { capabilities: structuredClone(p.capabilities) } : {}),
      ...(p.rlimits.length ? { rlimits: p.rlimits.map((r) => ({ type: r.type, hard: r.hard, soft: r.soft })) } : {}),
      noNewPrivileges: p.noNewPrivileges,
      ...(p.oomScoreAdj === undefined ? {} : { oomScoreAdj: p.oomScoreAdj }),
      ...(p.apparmorProfile === undefined ? {} : { apparmorProfile: p.apparmorProfile }),
      ...(p.selinuxLabel === undefined ? {} : { selinuxLabel: p.selinuxLabel }),
    },
    root: { path: o.rootPath, readonly: spec.rootfs.kind !== 'image' && spec.rootfs.readonly },
    ...(spec.hostname === undefined ? {} : { hostname: spec.hostname }),
    ...(spec.domainname === undefined ? {} : { domainname: spec.domainname }),
    mounts: [
      ...(o.rootMounts ?? []),
      ...spec.mounts.map((m) => ({ destination: m.destination, type: m.type, source: m.source, options: bindOptions(m) })),
    ],
    ...(Object.keys(spec.annotations).length ? { annotations: { ...spec.annotations } } : {}),
    ...(Object.keys(spec.hooks).length ? { hooks: structuredClone(spec.hooks) } : {}),
    linux: {
      resources: {
        devices: devices.map(deviceRule),
        ...(memory ? { memory: { ...memory } } : {}),
        ...(pids ? { pids: { ...pids } } : {}),
        ...(cpu ? { cpu: { ...cpu } } : {}),
      },
      cgroupsPath: spec.cgroupsPath.replaceAll('{id}', o.id),
      namespaces: spec.namespaces.map((type) => (joinOf(spec, type) ? { type, path: joinOf(spec, type) } : { type })),
      ...(spec.devices.length
        ? {
            devices: spec.devices.map((d) => ({
              path: d.path,
              type: d.type,
              major: d.major,
              minor: d.minor,
              fileMode: d.mode,
              uid: d.uid,
              gid: d.gid,
            })),
          }
        : {}),
      // ctc makes the whole tree private before it builds the root, unless told; runc's own default is rslave.
      rootfsPropagation: spec.rootfsPropagation ?? 'rprivate',
      maskedPaths: [...spec.maskedPaths],
      readonlyPaths: [...spec.readonlyPaths],
      ...(Object.keys(spec.sysctl).length ? { sysctl: { ...spec.sysctl } } : {}),
      ...(spec.mountLabel === undefined ? {} : { mountLabel: spec.mountLabel }),
      ...(p.seccomp ? { seccomp: ociSeccompOf(p.seccomp) } : {}),
    },
  };
}

/** A bind without bind or rbind in its options is recursive, as ctc's lowering makes it. */
function bindOptions(m: Spec['mounts'][number]): string[] {
  return isBind(m) && !m.options.includes('bind') && !m.options.includes('rbind') ? ['rbind', ...m.options] : [...m.options];
}

/** -1 (any) is a left-out number in OCI. */
function deviceRule(r: SpecDeviceRule): OciDeviceRule {
  return {
    allow: r.allow,
    type: r.type,
    ...(r.major === -1 ? {} : { major: r.major }),
    ...(r.minor === -1 ? {} : { minor: r.minor }),
    access: r.access,
  };
}
